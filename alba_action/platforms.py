"""Known platform names: Go's GOOS/GOARCH lists and the OCI variants, shared by static and images."""

from __future__ import annotations

import difflib

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


def suggest(word: str, choices) -> str:
    """' (did you mean X?)' for a near miss, else ''."""
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_variant(arch: str, name: str) -> bool:
    return name in KNOWN_VARIANTS.get(arch, ())
