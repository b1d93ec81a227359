"""The packages an image's layers name, as their package managers name them.

- Nix store paths: `nix/store/<hash>-<name>` entries, the name split into package name and
  version the way Nix's `builtins.parseDrvName` splits it. Nix (src/libstore/names.cc,
  `DrvName::DrvName`): the name is everything up to the first `-` that is *not followed by a
  letter*; the version is the rest. So a version starts at the first `-` followed by a digit,
  or by any other non-letter (`foo-_1` has version `_1`), and a name with no such dash has no
  version (`source`, `hello-unstable`). Output suffixes stay in the version, as Nix leaves
  them (`openssl-3.0.13-dev` → `openssl`, `3.0.13-dev`).
- Package databases: Debian's `var/lib/dpkg/status` (deb822 paragraphs; only packages whose
  Status says `installed`) and Alpine's `lib/apk/db/installed` (`P:`/`V:`/`A:`… lines, a
  blank line between packages). What the database states is recorded, nothing else: no
  vendor, no URL guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STORE = "nix/store/"
# Nix's base-32 alphabet (no e, o, u, t) and the characters a store path name may hold.
_HASH = "[0-9abcdfghijklmnpqrsvwxyz]{32}"
_NAME = r"[A-Za-z0-9+\-_?=][A-Za-z0-9+\-._?=]{0,210}"
_ENTRY = re.compile(rf"nix/store/({_HASH})-({_NAME})(?:/.*)?")
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, order=True)
class StorePath:
    path: str  # /nix/store/<hash>-<name>
    hash: str
    name: str  # the package name, as parseDrvName gives it
    version: str  # "" when the store name has none


def parse_drv_name(text: str) -> tuple[str, str]:
    """(name, version) as `builtins.parseDrvName` returns them."""
    for i, char in enumerate(text):
        if char == "-" and i + 1 < len(text) and text[i + 1] not in _ASCII_LETTERS:
            return text[:i], text[i + 1:]
    return text, ""


def normalise(member: str) -> str:
    """A tar member name without the `./` or `/` some writers put first."""
    while member.startswith(("./", "/")):
        member = member[2:] if member.startswith("./") else member[1:]
    return member.rstrip("/")


def store_path_of(member: str) -> str | None:
    """`/nix/store/<hash>-<name>` when the (normalised) member is that path or lies inside it."""
    match = _ENTRY.fullmatch(member)
    if not match:
        return None
    return f"/{STORE}{match.group(1)}-{match.group(2)}"


def parse_store_path(path: str) -> StorePath:
    """`/nix/store/<hash>-<name>` → its hash, name and version (see parse_drv_name)."""
    match = _ENTRY.fullmatch(normalise(path))
    if not match:
        raise ValueError(f"{path!r} is not a Nix store path")
    name, version = parse_drv_name(match.group(2))
    return StorePath(f"/{STORE}{match.group(1)}-{match.group(2)}", match.group(1), name, version)

DPKG_STATUS = "var/lib/dpkg/status"
APK_INSTALLED = "lib/apk/db/installed"
DATABASES = (DPKG_STATUS, APK_INSTALLED)
MAX_DATABASE = 64 << 20  # larger databases are not read (bounded memory)


@dataclass(frozen=True, order=True)
class Package:
    kind: str  # "deb" or "apk"
    name: str
    version: str
    architecture: str = ""
    source: str = ""  # the source package (deb Source:, apk o: origin), when the database names it
    license: str = ""  # apk L:, verbatim (not always an SPDX expression)
    database: str = ""  # the database file it was read from, e.g. /var/lib/dpkg/status
    layer: str = ""  # digest of the layer holding that database


def parse_database(path: str, data: bytes, layer: str = "") -> list[Package]:
    """The packages of the database at `path` (one of DATABASES), sorted by name."""
    text = data.decode("utf-8", "replace")
    found = _dpkg(text) if path == DPKG_STATUS else _apk(text)
    return sorted(Package(**p, database="/" + path, layer=layer) for p in found)


def _paragraphs(text: str):
    block: list[str] = []
    for line in text.splitlines() + [""]:
        if line.strip():
            block.append(line)
        elif block:
            yield block
            block = []


def _dpkg(text: str) -> list[dict]:
    out = []
    for block in _paragraphs(text):
        fields: dict[str, str] = {}
        key = ""
        for line in block:
            if line[:1] in (" ", "\t"):
                continue  # a continuation line (descriptions, conffiles): not needed
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "package" not in fields or fields.get("status", "").split()[-1:] != ["installed"]:
            continue  # removed packages keep a paragraph (config-files, half-installed …)
        out.append({"kind": "deb", "name": fields["package"], "version": fields.get("version", ""),
                    "architecture": fields.get("architecture", ""),
                    "source": fields.get("source", "").split(" ")[0]})
    return out


def _apk(text: str) -> list[dict]:
    out = []
    for block in _paragraphs(text):
        fields: dict[str, str] = {}
        for line in block:
            if len(line) > 1 and line[1] == ":":
                fields.setdefault(line[0], line[2:].strip())
        if "P" in fields:
            out.append({"kind": "apk", "name": fields["P"], "version": fields.get("V", ""),
                        "architecture": fields.get("A", ""), "source": fields.get("o", ""),
                        "license": fields.get("L", "")})
    return out
