"""Platforms, in one place for static files, images and targets: the Platform value and its
one order, Go's GOOS/GOARCH lists and the OCI variants, parsing `os.arch[.variant]` (image
file names) and `os/arch[/variant]` (folders, --platforms), and containerd's default variants.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from alba_action.errors import InputError

# Go's GOOS and GOARCH known lists (go/build/syslist.go): the names OCI platforms use too.
KNOWN_OS = frozenset(
    "aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd "
    "openbsd plan9 solaris wasip1 windows zos".split()
)
KNOWN_ARCH = frozenset(
    "386 amd64 amd64p32 arm arm64 arm64be armbe loong64 mips mips64 mips64le "
    "mips64p32 mips64p32le mipsle ppc ppc64 ppc64le riscv riscv64 s390 s390x "
    "sparc sparc64 wasm".split()
)
# OCI image-index spec: variants per architecture.
KNOWN_VARIANTS = {
    "arm": frozenset({"v5", "v6", "v7"}),
    "arm64": frozenset({"v8", "v8.0", "v8.1", "v8.2", "v8.3", "v8.4", "v8.5", "v9"}),
    "amd64": frozenset({"v1", "v2", "v3", "v4"}),
}


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def to_json(self) -> dict:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out

    def sort_key(self) -> tuple[str, str, str]:
        """The one platform order: os, architecture, variant (none first)."""
        return (self.os, self.architecture, self.variant or "")


# containerd's normalisation: these variants are what an image without one means.
DEFAULT_VARIANT = {"arm64": "v8", "arm": "v7", "amd64": "v1"}
VARIANT_RE = re.compile(r"^[a-z0-9]+(?:\.[0-9]+)*$")


def parse_platform(text: str, where: str, sep: str = ".") -> Platform:
    """`linux.arm.v7` (or with sep="/", `linux/arm/v7`) -> Platform('linux', 'arm', 'v7'),
    checked against Go's lists; errors name `where` and the fix."""
    parts = text.split(sep, 2)
    if len(parts) < 2:
        raise InputError(f"{where}: {text!r} is not os{sep}arch[{sep}variant]",
                         f"write e.g. linux{sep}amd64 or linux{sep}arm{sep}v7")
    os_, arch, *rest = parts
    variant = rest[0] if rest else None
    if os_ not in KNOWN_OS:
        raise InputError(f"{where}: unknown os {os_!r}",
                         f"use a Go GOOS name ({', '.join(sorted(KNOWN_OS))})")
    if arch not in KNOWN_ARCH:
        raise InputError(f"{where}: unknown architecture {arch!r}",
                         f"use a Go GOARCH name ({', '.join(sorted(KNOWN_ARCH))})")
    if variant is not None and not VARIANT_RE.match(variant):
        raise InputError(f"{where}: bad variant {variant!r}", "use a variant such as v7, v8 or v8.2")
    return Platform(os_, arch, variant)


def same_platform(a: Platform, b: Platform) -> bool:
    """Equal after filling in the default variant (linux/arm64 is linux/arm64/v8)."""

    def norm(p: Platform) -> tuple[str, str, str]:
        return (p.os, p.architecture, p.variant or DEFAULT_VARIANT.get(p.architecture, ""))

    return norm(a) == norm(b)


def suggest(word: str, choices) -> str:
    """' (did you mean X?)' for a near miss, else ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_variant(arch: str, name: str) -> bool:
    return name in KNOWN_VARIANTS.get(arch, ())
