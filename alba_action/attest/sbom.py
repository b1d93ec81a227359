"""The SBOMs a build produced, found by name next to what they describe, and checked to be
SPDX or CycloneDX JSON before anything is uploaded.

- images: `SRC_DIR/<os>.<arch>[.<variant>].spdx.json` or `.cdx.json`, beside
  `<os>.<arch>[.<variant>].tar.gz`;
- static files: `SRC_DIR/<os>/<arch>[.<variant>].spdx.json` or `.cdx.json`, beside the
  platform folder `SRC_DIR/<os>/<arch>[/<variant>]/` (outside every platform folder, so an
  SBOM can never be mistaken for a published file).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alba_action.errors import InputError
from alba_action.platforms import Platform

FORMATS = {".spdx.json": "application/spdx+json", ".cdx.json": "application/vnd.cyclonedx+json"}


@dataclass(frozen=True)
class Sbom:
    platform: Platform
    path: Path
    media_type: str

    @property
    def file_name(self) -> str:
        """`<os>.<arch>[.<variant>].spdx.json`: the name it is published under."""
        stem = ".".join(p for p in (self.platform.os, self.platform.architecture, self.platform.variant) if p)
        return stem + next(s for s, t in FORMATS.items() if t == self.media_type)


def is_sbom(path: Path) -> bool:
    return path.is_file() and path.name.endswith(tuple(FORMATS))


def _split(name: str) -> tuple[str, str]:
    suffix = next(s for s in FORMATS if name.endswith(s))
    return name[: -len(suffix)], FORMATS[suffix]


def check(path: Path, media_type: str) -> None:
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a JSON SBOM ({type(err).__name__})",
                         "write the SBOM as JSON (e.g. syft -o spdx-json, cyclonedx-json)") from None
    if media_type == FORMATS[".spdx.json"]:
        ok = isinstance(doc, dict) and str(doc.get("spdxVersion", "")).startswith("SPDX-") and "SPDXID" in doc
        shape = "an SPDX document (spdxVersion, SPDXID)"
    else:
        ok = isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX" and "specVersion" in doc
        shape = "a CycloneDX BOM (bomFormat: CycloneDX, specVersion)"
    if not ok:
        raise InputError(f"{path}: not {shape}", "give the file the build tool wrote, or rename it")


def image_sboms(src_dir: Path, built: list[Platform]) -> list[Sbom]:
    found = []
    for path in sorted(p for p in src_dir.iterdir() if is_sbom(p)):
        stem, media_type = _split(path.name)
        parts = stem.split(".")
        platform = Platform(*parts) if len(parts) in (2, 3) else None
        found.append(_checked(path, platform, media_type, built, "an image archive"))
    return found


def static_sboms(src_dir: Path, built: list[Platform]) -> list[Sbom]:
    found = []
    for os_dir in sorted(p for p in src_dir.iterdir() if p.is_dir()):
        for path in sorted(p for p in os_dir.iterdir() if is_sbom(p)):
            stem, media_type = _split(path.name)
            parts = stem.split(".")
            platform = Platform(os_dir.name, *parts) if len(parts) in (1, 2) else None
            found.append(_checked(path, platform, media_type, built, "a platform folder"))
    return found


def _checked(path: Path, platform: Platform | None, media_type: str, built: list[Platform], what: str) -> Sbom:
    if platform is None or platform not in built:
        names = ", ".join(str(p) for p in built)
        raise InputError(f"{path}: an SBOM for {platform or 'no platform'}, but there is no {what} for that "
                         f"platform here (built: {names})",
                         "name it after a platform that was built, or remove it")
    check(path, media_type)
    return Sbom(platform, path, media_type)
