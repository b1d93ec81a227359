"""Find the per-platform images in SRC_DIR, named for their platform (parsed by platforms.py).

Inputs, one per platform:
- an archive file `<os>.<arch>[.<variant>].tar[.gz|.zst]` holding a docker-archive
  (`docker save`, skopeo, Nix dockerTools) or an OCI archive (a tar of an OCI layout);
- an OCI layout directory `<os>.<arch>[.<variant>]` (it holds an `oci-layout` file),
  because `skopeo copy … oci:DIR` and `umoci` write layouts, not archives.
The compression suffix is only a hint: the loader reads the magic bytes.
Hidden files (`.…`) are ignored; anything else that fits no pattern is an error.
"""

from __future__ import annotations

import re
from pathlib import Path

from alba_action.errors import InputError
from alba_action.platforms import Platform, parse_platform, same_platform

ARCHIVE_RE = re.compile(r"^(?P<plat>[^.]+\.[^.]+(?:\.[A-Za-z0-9.]+?)?)\.tar(?:\.(?P<comp>gz|zst))?$")
LAYOUT_RE = re.compile(r"^[^.]+\.[^.]+(?:\.[A-Za-z0-9.]+)?$")
EXPECTED = "<os>.<arch>[.<variant>].tar[.gz|.zst] (e.g. linux.amd64.tar.gz, linux.arm.v7.tar)"


def _input_name(path: Path) -> str | None:
    """The platform part of an input's name, or None when the name fits no pattern."""
    if path.is_dir():
        return path.name if LAYOUT_RE.match(path.name) and (path / "oci-layout").is_file() else None
    m = ARCHIVE_RE.match(path.name)
    return m.group("plat") if m else None


def find_archives(src_dir: Path) -> list[tuple[Platform, Path]]:
    """Every (platform, input) in src_dir, sorted by platform; errors name the file and the fix."""
    if not src_dir.is_dir():
        raise InputError(f"{src_dir}: not a directory", "give the folder that holds one image archive per platform")
    found: dict[Platform, Path] = {}
    for path in sorted(src_dir.iterdir()):
        if path.name.startswith(".") or path.name.endswith((".spdx.json", ".cdx.json")):
            continue  # SBOMs beside the archives: attest/sbom.py reads and checks them
        plat_text = _input_name(path)
        if plat_text is None:
            kind = "folder (no oci-layout file inside)" if path.is_dir() else "file"
            raise InputError(f"{path}: this {kind} fits no image name pattern", f"name it {EXPECTED}")
        plat = parse_platform(plat_text, str(path))
        twin = next((p for p in found if same_platform(p, plat)), None)
        if twin is not None:
            raise InputError(
                f"{path} and {found[twin]}: two images for platform {plat}", "keep one archive per platform"
            )
        found[plat] = path
    if not found:
        raise InputError(f"{src_dir}: no image archive found", f"put one archive per platform there, named {EXPECTED}")
    return sorted(found.items(), key=lambda item: item[0].sort_key())
