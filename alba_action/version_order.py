"""Version order, in one place: semver precedence (`semver_key`), which tags are newest and
which are releases — one rule for static and container catalogs, gc and the latest guard,
and the local git context's choice of a version tag.

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


def semver_key(text: str):
    """node-semver precedence as a sort key; None when `text` is not a semver version."""
    from alba_action.tags.versions import parse_semver

    v = parse_semver(text)
    if v is None:
        return None
    # A version without a pre-release ranks above all of its pre-releases; numeric
    # identifiers rank below alphanumeric ones and compare as numbers.
    pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in v.prerelease)
    return (v.major, v.minor, v.patch, 0 if v.prerelease else 1, pre)


_FLOATING = re.compile(r"(v?)([0-9]+)(?:\.([0-9]+))?")


def is_floating(tag: str) -> bool:
    """`latest`, `N`, `N.M` (optionally `vN`, `vN.M`): tags the latest guard looks after."""
    return tag == "latest" or bool(_FLOATING.fullmatch(tag))


def floating_line(tag: str, version: str) -> tuple[int, ...] | None:
    """The line a floating tag `N` / `N.M` (`{{major}}`, `{{major}}.{{minor}}`, with an optional
    `v`) stands for when it names `version`'s own line; None for any other tag."""
    match, key = _FLOATING.fullmatch(tag), semver_key(version) if version else None
    if not match or key is None:
        return None
    line = (int(match.group(2)),) + ((int(match.group(3)),) if match.group(3) is not None else ())
    return line if key[:len(line)] == line else None


def floating_refusals(version: str, tags: Iterable[str], published: Iterable[str]) -> dict[str, str]:
    """tag → why it must not move to `version`, for each floating tag of the run: `latest`
    never goes back from the highest release published, `N` and `N.M` never back from the
    highest release of their line (a backport moves its own line, not `latest`)."""
    published = list(published)
    refused = {}
    for tag in tags:
        if tag == "latest":
            reason = latest_refusal(version, published)
        elif (line := floating_line(tag, version)) is not None:
            same_line = [t for t in published if (k := semver_key(t)) is not None and k[:len(line)] == line]
            reason = latest_refusal(version, same_line)
        else:
            continue
        if reason:
            refused[tag] = reason
    return refused


def latest_refusal(version: str, published: Iterable[str]) -> str | None:
    """Why `latest` must not move to `version`, or None when it may: `latest` never goes
    back to an older line than the highest semver release (no pre-release) published."""
    releases = [t for t in published if (key := semver_key(t)) is not None and key[3] == 1]
    if not releases:
        return None
    highest = max(releases, key=semver_key)
    new = semver_key(version) if version else None
    if new is None:
        return f"{version or 'this run'} is not a semver version and {highest} is already released"
    if new < semver_key(highest):
        return f"{version} is older than {highest}, already released"
    return None


def run_version(version: str, tags: Iterable[str]) -> str:
    """The version a run publishes: the tag rules' main version, else its highest semver tag."""
    if version:
        return version
    semvers = [t for t in tags if semver_key(t) is not None]
    return max(semvers, key=semver_key) if semvers else ""
