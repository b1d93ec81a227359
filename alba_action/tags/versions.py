"""Version parsing as metadata-action's libraries do it: node-semver and @renovate/pep440.

Written out here (no `packaging` dependency): only validation, the fields the
patterns expose, and PEP 440 normalisation are needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUM = r"0|[1-9][0-9]*"  # ASCII digits only, as node-semver's
_PRE_ID = rf"(?:{_NUM}|[0-9]*[a-zA-Z-][a-zA-Z0-9-]*)"
# node-semver's strict FULL grammar: an optional leading "v", no other slack.
_SEMVER = re.compile(
    rf"^v?({_NUM})\.({_NUM})\.({_NUM})"
    rf"(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)


@dataclass(frozen=True)
class SemVer:
    raw: str
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...]
    build: tuple[str, ...]

    @property
    def version(self) -> str:
        """major.minor.patch[-pre]: build metadata dropped, as node-semver's .version."""
        core = f"{self.major}.{self.minor}.{self.patch}"
        return f"{core}-{'.'.join(self.prerelease)}" if self.prerelease else core

    def fields(self) -> dict[str, str]:
        """What `{{…}}` can name in a semver pattern (arrays join with "," as in JS)."""
        return {
            "raw": self.raw, "version": self.version, "major": str(self.major),
            "minor": str(self.minor), "patch": str(self.patch),
            "prerelease": ",".join(self.prerelease), "build": ",".join(self.build),
        }


def parse_semver(text: str) -> SemVer | None:
    if len(text) > 256:
        return None
    match = _SEMVER.match(text.strip())
    if not match:
        return None
    major, minor, patch, pre, build = match.groups()
    return SemVer(
        raw=text, major=int(major), minor=int(minor), patch=int(patch),
        prerelease=tuple(pre.split(".")) if pre else (), build=tuple(build.split(".")) if build else (),
    )


# PEP 440, appendix B (the canonical public-version regex), with local versions.
_PEP440 = re.compile(
    r"""^\s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?P<pre>[-_.]?(?P<pre_l>alpha|beta|preview|pre|rc|a|b|c)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?P<post>(?:-(?P<post_n1>[0-9]+))|(?:[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?))?
    (?P<dev>[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*$""",
    re.VERBOSE | re.IGNORECASE,
)
_PRE_LETTER = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "c": "rc", "rc": "rc", "pre": "rc", "preview": "rc"}


@dataclass(frozen=True)
class Pep440:
    raw: str
    epoch: int
    release: tuple[int, ...]
    pre: tuple[str, int] | None
    post: int | None
    dev: int | None
    local: str

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None or self.dev is not None

    @property
    def is_postrelease(self) -> bool:
        return self.post is not None

    def part(self, index: int) -> str:
        """major/minor/patch; a missing component counts as 0."""
        return str(self.release[index]) if index < len(self.release) else "0"

    def normalized(self) -> str:
        """The canonical spelling: `1.1beta2` → `1.1b2`, `1.0dev4` → `1.0.dev4`."""
        out = f"{self.epoch}!" if self.epoch else ""
        out += ".".join(map(str, self.release))
        if self.pre:
            out += f"{self.pre[0]}{self.pre[1]}"
        if self.post is not None:
            out += f".post{self.post}"
        if self.dev is not None:
            out += f".dev{self.dev}"
        return out + (f"+{self.local}" if self.local else "")


def parse_pep440(text: str) -> Pep440 | None:
    m = _PEP440.match(text)
    if not m:
        return None
    pre = (_PRE_LETTER[m["pre_l"].lower()], int(m["pre_n"] or 0)) if m["pre_l"] else None
    post = None
    if m["post"]:
        post = int(m["post_n1"] or m["post_n2"] or 0)
    local = re.sub(r"[-_.]", ".", m["local"].lower()) if m["local"] else ""
    return Pep440(
        raw=text, epoch=int(m["epoch"] or 0), release=tuple(int(p) for p in m["release"].split(".")),
        pre=pre, post=post, dev=int(m["dev_n"] or 0) if m["dev"] else None, local=local,
    )
