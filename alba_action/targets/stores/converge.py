"""Documents that are a function of other objects (a name document of its tag documents, a
tags/list of its tag objects), written so that concurrent writers converge.

Each round reads the document, computes what it should be from the objects present, writes
it when it differs (If-Match / If-None-Match where the store honours them: then a write that
succeeds is final), else lets concurrent writers land (a settle time), reads it back and
checks it against the objects present again. Because the document is a deterministic
function of what is stored, the last writer always writes the right one, whichever
writers raced: Garage 1.2 ignores conditional headers, so this must hold without them.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from alba_action.errors import ConflictError, TargetError
from alba_action.targets.base import Body, Store

ROUNDS = 20
JSON = "application/json"
NO_CACHE = "no-cache"
T = TypeVar("T")


@dataclass(frozen=True)
class Stored(Generic[T]):
    value: T | None  # None when missing
    etag: str | None = None


def probe_conditionals(store: Store, key: str, data: bytes, content_type: str = JSON,
                       cache_control: str = NO_CACHE) -> str:
    """"honoured", "ignored" or "rejected": probed with If-None-Match on an object we just wrote.
    A store that honours it refuses; one that ignores it rewrites our own identical bytes
    (harmless); one that rejects the header answers an error, and then we send none."""
    try:
        store.put(key, Body(data=data), content_type, cache_control, if_none_match=True)
    except ConflictError:
        return "honoured"
    except TargetError:
        return "rejected"
    return "ignored"


def conditional_writes(store: Store, key: str, data: bytes, content_type: str = JSON,
                       cache_control: str = NO_CACHE) -> str:
    """Probed once per store (with `key` holding `data`, as probe_conditionals needs); later
    documents of the run use the answer, through known_conditionals."""
    if getattr(store, "conditionals", None) is None:
        store.conditionals = probe_conditionals(store, key, data, content_type, cache_control)
    return store.conditionals


def known_conditionals(store: Store) -> str:
    """What this run probed of the store, or "rejected" (send no headers) when it did not."""
    return getattr(store, "conditionals", None) or "rejected"


def converge(store: Store, key: str, *, read: Callable[[], Stored[T]], wanted: Callable[[Stored[T]], T],
             encode: Callable[[T], bytes], conditionals: str | Callable[[], str] = "rejected",
             content_type: str = JSON, check: Callable[[], Callable[[Stored[T]], T]] | None = None) -> T:
    """Make `key` hold `wanted(current)`, whatever concurrent writers do; the value finally read back.
    `conditionals` may be a function (a probe under way): it is asked only before the first write.
    `check`: called as soon as a write that may race returns, it starts reading the inputs
    (they are complete then: every writer wrote its inputs before its own write) while the
    settle time passes, and gives the `wanted` to check the read-back with."""
    for _ in range(ROUNDS):
        current = read()
        target = wanted(current)
        if target == current.value:
            return target  # already right: a re-run writes nothing and waits for nothing
        if not isinstance(conditionals, str):
            conditionals = conditionals()
        try:
            _write(store, key, encode(target), current, conditionals, content_type)
        except ConflictError:
            time.sleep(random.uniform(0.05, 0.3))
            continue
        if conditionals == "honoured":
            # Our If-Match write won: nothing changed since we read. A writer that changes the
            # inputs afterwards rewrites the document itself (and loses its own race to no one).
            return target
        checking = check() if check is not None else wanted
        time.sleep(store.settle_seconds * random.uniform(0.75, 1.25))
        final = read()
        if final.value is not None and checking(final) == final.value:
            return final.value
    raise TargetError(f"{key} on {store.url} kept changing under concurrent writers",
                      "run the command again; everything the document lists is in place")


def _write(store: Store, key: str, data: bytes, current: Stored, conditionals: str, content_type: str) -> None:
    headers = conditionals != "rejected"
    exists = current.value is not None
    store.put(key, Body(data=data), content_type, NO_CACHE,
              if_match=current.etag if headers and exists else None,
              if_none_match=headers and not exists)
