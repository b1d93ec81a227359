"""Read SRC_DIR shaped `<os>/<arch>[/<variant>]/<files…>` into flavors, hashing every file."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from alba_action.digest import sha256_file
from alba_action.errors import InputError
from alba_action.platforms import Platform
from alba_action.platforms import KNOWN_ARCH, KNOWN_OS, is_variant, suggest
from alba_action.static import binaries

SHAPE = "SRC_DIR/<os>/<arch>[/<variant>]/<files> (e.g. df/linux/amd64/albatros)"
# Nix builds (`nix build -o df/linux/amd64/app`) leave links into the immutable store.
TRUSTED_LINK_ROOTS = (Path("/nix/store"),)
SMALL_FILE = 1 << 20  # hashed inline rather than by the pool


@dataclass(frozen=True)
class Resource:
    path: str  # relative to the platform folder, '/'-separated
    source: Path
    size: int
    digest: str


@dataclass(frozen=True)
class PlatformFolder:
    platform: Platform
    folder: Path
    resources: tuple[Resource, ...]


Flavor = PlatformFolder  # the df-dist-v1 document calls each platform entry a "flavor"


def scan(src_dir: Path, platform_check: bool = True) -> list[PlatformFolder]:
    """Every platform folder with its files, sorted; any misfit is an error naming the path.
    `platform_check`: refuse an executable whose header disagrees with its folder (before
    any file is hashed, so before anything is published)."""
    root = _check_root(src_dir)
    flavors = []
    for os_dir in _children(root):
        _need_dir(os_dir, root, "an <os> folder")
        _known(os_dir, root, os_dir.name, KNOWN_OS, "os")
        for arch_dir in _children(os_dir):
            if arch_dir.is_file() and arch_dir.name.endswith((".spdx.json", ".cdx.json")):
                continue  # an SBOM beside its platform folder: attest/sbom.py reads and checks it
            _need_dir(arch_dir, root, "an <arch> folder")
            _known(arch_dir, root, arch_dir.name, KNOWN_ARCH, "architecture")
            flavors.extend(_platform_folders(root, os_dir.name, arch_dir))
        if not any(True for _ in _children(os_dir)):
            raise InputError(f"{_rel(os_dir, root)} is empty", f"expected {SHAPE}")
    flavors.sort(key=lambda f: f.platform.sort_key())
    if platform_check:
        check_platforms(flavors, root)
    return _hashed(flavors)


def check_platforms(flavors: list[PlatformFolder], root: Path) -> None:
    """Every file's header against its folder's platform (static/binaries.py): the first
    binary that cannot be what its folder offers is an error, with the count of others."""
    wrong = []
    for f in flavors:
        for r in f.resources:
            try:
                binary = binaries.identify_file(r.source)
            except OSError:
                continue  # unreadable: hashing it next says so
            reason = binaries.disagreement(binary, f.platform)
            if reason:
                wrong.append((_rel(f.folder / r.path, root), binary, f.platform, reason))
    if not wrong:
        return
    path, binary, platform, reason = wrong[0]
    more = f" (and {len(wrong) - 1} more file{'s' * (len(wrong) > 2)})" if len(wrong) > 1 else ""
    where = binaries.suggested_folder(binary, platform)
    move = f"move it to {root.name}/{where}" if where else "move it to the folder of its platform"
    raise InputError(f"{path}: {binary.what}, but its folder is {platform}: {reason}{more}",
                     f"{move}, or publish without this check (--no-platform-check, input platform-check: false)")


def _hashed(flavors: list[PlatformFolder]) -> list[PlatformFolder]:
    """Fill in every digest, several large files at a time (hashlib releases the GIL); a
    small file is hashed at once, in less time than handing it to a thread would take."""
    sources = [(r.source, r.size) for f in flavors for r in f.resources]
    with ThreadPoolExecutor(4) as pool:
        large = {s: pool.submit(sha256_file, s) for s, size in sources if size >= SMALL_FILE}
        small = {s: sha256_file(s) for s, size in sources if size < SMALL_FILE}
        digests = iter([small[s] if s in small else large[s].result() for s, _ in sources])
    return [replace(f, resources=tuple(replace(r, digest=next(digests)) for r in f.resources)) for f in flavors]


def _check_root(src_dir: Path) -> Path:
    if not src_dir.is_dir():
        raise InputError(f"SRC_DIR {str(src_dir)!r} does not exist or is not a folder", f"pass a folder shaped {SHAPE}")
    if not any(True for _ in _children(src_dir)):
        raise InputError(f"SRC_DIR {str(src_dir)!r} is empty", f"put the built files in {SHAPE}")
    return src_dir


def _platform_folders(root: Path, os_name: str, arch_dir: Path) -> list[PlatformFolder]:
    arch = arch_dir.name
    entries = list(_children(arch_dir))
    if not entries:
        raise InputError(f"{_rel(arch_dir, root)} is empty", f"expected {SHAPE}")
    variants = [e for e in entries if e.is_dir() and is_variant(arch, e.name)]
    if variants and len(variants) != len(entries):
        odd = next(e for e in entries if e not in variants)
        raise InputError(
            f"{_rel(odd, root)} sits beside variant folders ({', '.join(v.name for v in variants)})",
            f"put every file of {_rel(arch_dir, root)} under a variant folder, or use no variant folder",
        )
    if variants:
        return [_flavor(root, Platform(os_name, arch, v.name), v) for v in variants]
    return [_flavor(root, Platform(os_name, arch), arch_dir)]


def _flavor(root: Path, platform: Platform, folder: Path) -> PlatformFolder:
    resources = []
    # A file that is no link, in a folder walked without following links, lies where the
    # folder's real path says: resolving each of thousands of files (several system calls
    # a path component) would cost more than hashing them. Links are resolved and checked.
    real_root, real_folder = root.resolve(), folder.resolve()
    plain = real_folder == real_root or real_root in real_folder.parents
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()
        real_dir = real_folder / os.path.relpath(dirpath, folder)
        for name in sorted(filenames) + [d for d in dirnames if (Path(dirpath) / d).is_symlink()]:
            path = Path(dirpath) / name
            real = real_dir / name if plain and not path.is_symlink() else _resolve_inside(path, root)
            if real.is_dir():
                raise InputError(f"{_rel(path, root)} links to a folder", "link files, not folders, or copy the folder in")
            rel = path.relative_to(folder).as_posix()
            resources.append(Resource(rel, real, real.stat().st_size, ""))
    if not resources:
        raise InputError(f"{_rel(folder, root)} holds no files", f"expected {SHAPE}")
    return PlatformFolder(platform, folder, tuple(sorted(resources, key=lambda r: r.path)))


def _resolve_inside(path: Path, root: Path) -> Path:
    real = path.resolve()
    inside = real == root.resolve() or root.resolve() in real.parents
    trusted = any(r in real.parents for r in TRUSTED_LINK_ROOTS)
    if not (inside or trusted):
        raise InputError(
            f"{_rel(path, root)} is a link leading out of SRC_DIR (to {real})",
            "copy the file in (cp -L) so that only what SRC_DIR holds is published",
        )
    if not real.exists():
        raise InputError(f"{_rel(path, root)} is a broken link", "fix or remove the link")
    return real


def _children(folder: Path):
    return sorted(folder.iterdir(), key=lambda p: p.name)


def _need_dir(path: Path, root: Path, what: str) -> None:
    if not path.is_dir():
        raise InputError(f"{_rel(path, root)} is a file where {what} was expected", f"lay files out as {SHAPE}")


def _known(path: Path, root: Path, name: str, known, kind: str) -> None:
    if kind == "os" and name in KNOWN_ARCH:
        raise InputError(
            f"{_rel(path, root)}: {name!r} is an architecture where an os folder was expected",
            f"move it under its os, e.g. {_rel(path.parent, root)}/linux/{name}/; expected {SHAPE}",
        )
    if name not in known:
        raise InputError(
            f"{_rel(path, root)}: {name!r} is not a known {kind}{suggest(name, known)}",
            f"lay files out as {SHAPE}, with Go's GOOS/GOARCH names",
        )


def _rel(path: Path, root: Path) -> str:
    return (Path(root.name) / path.relative_to(root)).as_posix()
