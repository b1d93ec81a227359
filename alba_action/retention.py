"""Which tags gc keeps: one policy grammar for df-dist-v1 names, static registries and
registries (SPEC §7). Pure: tags, their publication times and the clock in, a decision out.

A tag is kept when any rule keeps it: among the `keep` newest (by publication); among the
K highest of its major (or major.minor) line, by semver precedence; published less than
`older_than` ago; matching a `protect` glob; a plain `X.Y.Z` release unless releases are
included. Tags with no publication record are never "older than": the age rule keeps them.
"""

from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from dataclasses import dataclass, field

from alba_action.errors import InputError
from alba_action.version_order import is_release, semver_key

_GLOB = re.compile(r"[A-Za-z0-9._\-*?\[\]!]+")


def check_glob(glob: str) -> str:
    """A `--protect` glob: the tag alphabet plus `*`, `?` and closed `[…]` classes."""
    if not _GLOB.fullmatch(glob or ""):
        raise InputError(f"--protect {glob!r}: not a tag glob",
                         "use tag characters (A-Z a-z 0-9 . _ -) with *, ? or [...], e.g. --protect 'stable-*'")
    depth = 0
    for char in glob:
        if char == "[":
            if depth:
                raise InputError(f"--protect {glob!r}: '[' inside a [...] class", "close the class first: [0-9]")
            depth = 1
        elif char == "]" and depth:
            depth = 0
    if depth:
        raise InputError(f"--protect {glob!r}: a '[' is never closed", "close it, e.g. --protect 'v[0-9]*'")
    return glob


@dataclass(frozen=True)
class Policy:
    keep: int | None = None
    keep_per_major: int | None = None
    keep_per_minor: int | None = None
    older_than: float | None = None  # seconds
    protect: tuple[str, ...] = ()
    include_releases: bool = False

    def __post_init__(self) -> None:
        for flag, value in (("--keep", self.keep), ("--keep-per-major", self.keep_per_major),
                            ("--keep-per-minor", self.keep_per_minor)):
            if value is not None and value < 0:
                raise InputError(f"{flag} {value}: must be 0 or more", f"pass {flag} N with N ≥ 0")
        if self.older_than is not None and self.older_than < 0:
            raise InputError(f"--older-than {self.older_than:g}: must be 0 or more", "e.g. --older-than 30d")
        for glob in self.protect:
            check_glob(glob)
        if self.keep is None and self.keep_per_major is None and self.keep_per_minor is None \
                and self.older_than is None:
            raise InputError("gc needs a retention rule",
                             "pass --keep N, --keep-per-major K, --keep-per-minor K or --older-than DURATION "
                             "(--protect and --include-releases only refine them)")

    def to_json(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self.__dict__.items()
                if v is not None and v != () and v is not False}


@dataclass
class Decision:
    kept: dict[str, list[str]] = field(default_factory=dict)  # tag → the rules that keep it
    victims: list[str] = field(default_factory=list)  # newest first
    warnings: list[str] = field(default_factory=list)


def _line_keeps(tags: list[str], count: int, width: int, label: str) -> dict[str, str]:
    """The `count` highest semver tags of each major (width 1) or major.minor (width 2) line;
    equal precedence (build metadata) is ordered by publication (`tags` is newest first)."""
    lines: dict[tuple, list[str]] = defaultdict(list)
    for tag in tags:
        key = semver_key(tag)
        if key is not None:
            lines[key[:width]].append(tag)
    kept = {}
    for members in lines.values():
        members.sort(key=lambda t: (semver_key(t), -tags.index(t)), reverse=True)
        for tag in members[:count]:
            kept[tag] = f"{label} {count} ({'.'.join(map(str, semver_key(tag)[:width]))}.x)"
    return kept


def decide(tags: list[str], published: dict[str, float | None], now: float, policy: Policy) -> Decision:
    """`tags`: newest first (attachments already left out); `published`: tag → seconds since
    the epoch, None (or absent) when there is no record."""
    out = Decision()

    def keep(tag: str, why: str) -> None:
        out.kept.setdefault(tag, []).append(why)

    candidates = tags
    if not policy.include_releases:
        for tag in tags:
            if is_release(tag):
                keep(tag, "release")
        candidates = [t for t in tags if not is_release(t)]
    applied = policy.keep is not None or policy.older_than is not None
    if policy.keep is not None:
        for tag in candidates[:policy.keep]:
            keep(tag, f"keep {policy.keep}")
    semver_tags = [t for t in tags if semver_key(t) is not None]
    for flag, count, width in (("--keep-per-major", policy.keep_per_major, 1),
                               ("--keep-per-minor", policy.keep_per_minor, 2)):
        if count is None:
            continue
        if not semver_tags:
            out.warnings.append(f"{flag} {count}: no semver tags among the {len(tags)} tags; "
                                "this rule keeps nothing and deletes nothing")
            continue
        applied = True
        for tag, why in _line_keeps(tags, count, width, flag[2:]).items():
            keep(tag, why)
    if policy.older_than is not None:
        for tag in tags:
            when = published.get(tag)
            if when is None:
                keep(tag, "no publication record")
            elif now - when < policy.older_than:
                keep(tag, f"younger than {policy.older_than:g} s")
    for tag in tags:
        for glob in policy.protect:
            if fnmatch.fnmatchcase(tag, glob):
                keep(tag, f"protect {glob}")
    if not applied:  # only semver rules, and no semver tag: delete nothing rather than everything
        for tag in tags:
            out.kept.setdefault(tag, ["no rule applies"])
    out.victims = [t for t in tags if t not in out.kept]
    out.kept = {t: out.kept[t] for t in tags if t in out.kept}
    return out
