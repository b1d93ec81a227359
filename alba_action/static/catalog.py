"""The name document `df-dist-v1/NAME`: a read-modify-write shared by concurrent pipelines.

Conditional writes (If-Match / If-None-Match) settle races where the store honours them.
Garage 1.2 ignores them, so every writer also rebuilds the list from the tag documents that
exist, reads it back after a short settle time, and writes again while a tag is missing: the
last writer always sees every tag document written before it, so the list converges.
"""

from __future__ import annotations

import json
import random
import time

from alba_action.errors import ConflictError, TargetError
from alba_action.static import plan
from alba_action.targets.base import Body

ROUNDS = 20


def read_tags(store, name: str) -> tuple[list[str], str | None, bool]:
    """(tags, etag, exists) of the name document."""
    got = store.get(plan.name_key(name))
    if got is None:
        return [], None, False
    data, etag = got
    try:
        doc = json.loads(data)
        tags = [t for t in doc.get("tags", []) if isinstance(t, str)]
    except (ValueError, AttributeError):
        raise TargetError(
            f"{plan.name_key(name)} on {store.url} is not a name document",
            "inspect it; delete it to let alba rebuild it from the tag documents",
        ) from None
    return tags, etag, True


def tag_documents(store, name: str) -> set[str]:
    return {t for key in store.list(f"{plan.ROOT}/{name}/", shallow=True) if (t := plan.tag_of(key, name))}


def conditional_writes(store, key: str, data: bytes) -> str:
    """"honoured", "ignored" or "rejected": probed with If-None-Match on an object we just wrote.
    A store that honours it refuses; one that ignores it rewrites our own identical bytes
    (harmless); one that rejects the header answers an error, and then we send none."""
    try:
        store.put(key, Body(data=data), plan.JSON, plan.NO_CACHE, if_none_match=True)
    except ConflictError:
        return "honoured"
    except TargetError:
        return "rejected"
    return "ignored"


def update(store, name: str, add: list[str] = (), remove: set[str] = frozenset(), conditionals: str = "ignored") -> list[str]:
    """Put `add` at the front and drop `remove`; return the list as finally read back.

    `conditionals` as probed: when "honoured", no update is ever lost and nothing waits."""
    settle = conditionals != "honoured"
    front = list(add)
    for _ in range(ROUNDS):
        current, etag, exists = read_tags(store, name)
        known = tag_documents(store, name) - set(remove)
        wanted = plan.merged_tags(current, front, known, set(remove))
        if wanted != current or not exists:
            try:
                _write(store, name, wanted, etag if conditionals != "rejected" else None, exists,
                       conditional=conditionals != "rejected")
            except ConflictError:
                time.sleep(random.uniform(0.05, 0.3))
                continue
        # Let concurrent writers land, then check that nothing we need was overwritten.
        if settle:
            time.sleep(store.settle_seconds * random.uniform(0.75, 1.25))
        final, _, _ = read_tags(store, name)
        present = tag_documents(store, name) - set(remove)
        if set(add) <= set(final) and present <= set(final) and not (set(remove) & set(final)):
            return final
        front = [t for t in add if t not in final]  # keep the order others set, add back only what is lost
    raise TargetError(
        f"{plan.name_key(name)} on {store.url} kept changing under concurrent writers",
        "run the command again; the files and tag documents are in place",
    )


def _write(store, name: str, tags: list[str], etag: str | None, exists: bool, conditional: bool = True) -> None:
    store.put(
        plan.name_key(name),
        Body(data=plan.dumps(plan.name_document(name, tags))),
        plan.JSON,
        plan.NO_CACHE,
        if_match=etag if exists and conditional else None,
        if_none_match=conditional and not exists,
    )
