"""Which tags are newest and which are releases: one rule for static and container catalogs.

Newest first by publication time; ties broken by the tag name, descending, so that every
writer and reader orders the same objects the same way. Tags whose publication time is not
recorded (documents written before alba recorded it) come after every dated tag, in the
order they had.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

RELEASE_RE = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+")


def is_release(tag: str) -> bool:
    """A plain `X.Y.Z` or `vX.Y.Z` release: kept by gc unless releases are included."""
    return bool(RELEASE_RE.fullmatch(tag))


def newest_first(published: Mapping[str, str | float | None], previous: Iterable[str] = ()) -> list[str]:
    """`published`: tag → when it was published (an ISO 8601 UTC string or seconds since the
    epoch; the same kind for every dated tag), None when unknown. `previous`: the order
    known so far, which undated tags keep."""
    dated = sorted((t for t, when in published.items() if when is not None), key=lambda t: (published[t], t),
                   reverse=True)
    order = {t: i for i, t in enumerate(previous)}
    undated = [t for t in published if published[t] is None]
    undated.sort(key=lambda t: (order.get(t, len(order)), t))
    return dated + undated


def gc_victims(tags: list[str], keep: int, include_releases: bool) -> list[str]:
    """Tags beyond the `keep` newest (`tags` newest first); releases are neither counted nor
    removed unless included."""
    candidates = tags if include_releases else [t for t in tags if not is_release(t)]
    return candidates[keep:]
