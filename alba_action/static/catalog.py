"""The name document `df-dist-v1/NAME`: the tags, newest first, as a function of the tag
documents that exist, so that every concurrent pipeline computes the same list.

Order: by each tag document's `published` time, newest first, ties broken by tag name
(releases.newest_first); tag documents without the field (written before alba recorded it)
keep the order the name document had. Writing goes through targets.converge.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import MappingProxyType

from alba_action.errors import TargetError
from alba_action.releases import newest_first
from alba_action.static import plan
from alba_action.targets.base import Store
from alba_action.targets.converge import Stored, converge

PARALLEL_READS = 8


def read_tags(store: Store, name: str) -> tuple[list[str], str | None, bool]:
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


def read_stored(store: Store, name: str) -> Stored[list[str]]:
    """The name document as converge reads it: its tags (None when missing) and etag."""
    tags, etag, exists = read_tags(store, name)
    return Stored(tags if exists else None, etag)


def tag_documents(store: Store, name: str) -> set[str]:
    return {t for key in store.list(f"{plan.ROOT}/{name}/", shallow=True) if (t := plan.tag_of(key, name))}


class PublicationTimes:
    """tag → `published` of its document, read once per document version (keyed by etag)."""

    def __init__(self, store: Store, name: str,
                 known: Mapping[tuple[str, str], str | None] = MappingProxyType({})) -> None:
        """`known`: (tag, etag) → `published` of documents this run wrote, not read again."""
        self.store, self.name = store, name
        self.known: dict[tuple[str, str | None], str | None] = dict(known)

    def present(self, removed: set[str]) -> dict[str, str | None]:
        listed = {t: info.etag for info in self.store.list_info(f"{plan.ROOT}/{self.name}/", shallow=True)
                  if (t := plan.tag_of(info.key, self.name)) and t not in removed}
        missing = [(t, etag) for t, etag in listed.items() if (t, etag) not in self.known]
        with ThreadPoolExecutor(PARALLEL_READS) as pool:
            for (tag, etag), when in zip(missing, pool.map(self._read, [t for t, _ in missing])):
                self.known[(tag, etag)] = when
        return {t: self.known[(t, etag)] for t, etag in listed.items()}

    def _read(self, tag: str) -> str | None:
        got = self.store.get(plan.tag_key(self.name, tag))
        return plan.published_of(got[0]) if got else None


def update(store: Store, name: str, remove: set[str] = frozenset(),
           conditionals: str | Callable[[], str] = "ignored",
           known: Mapping[tuple[str, str], str | None] = MappingProxyType({}),
           early: Future[Stored[list[str]]] | None = None) -> list[str]:
    """Rewrite the name document from the tag documents present (minus `remove`); return the
    list as finally read back. `conditionals` as probed (or a function that waits for the
    probe): when "honoured", nothing waits. `known` as for PublicationTimes. `early`: the
    name document read before (read_stored), used for the first round: the tag documents
    are still listed after it, and where it is out of date the conditional write fails
    and the next round reads it again (without conditional writes, the read-back checks)."""
    times = PublicationTimes(store, name, known)

    def read() -> Stored[list[str]]:
        nonlocal early
        if early is not None:
            current, early = early.result(), None
            return current
        return read_stored(store, name)

    def wanted(current: Stored[list[str]]) -> list[str]:
        return newest_first(times.present(set(remove)), current.value or [])

    return converge(store, plan.name_key(name), read=read, wanted=wanted,
                    encode=lambda tags: plan.dumps(plan.name_document(name, tags)), conditionals=conditionals)
