"""From an archive's Contents to one image: its config and layers, every digest checked.

docker-archive (`docker save`, skopeo, Nix): `manifest.json` names the config and the
layer files. OCI archive or layout: `index.json` -> manifest (an index inside is followed
to the entry for our platform) -> config and layers, each blob named by its digest.
Either way the layers' diff_ids must equal the config's `rootfs.diff_ids`, and the
config's platform must agree with the file name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from alba_action.errors import ArchiveError
from alba_action.images.archive import REBUILD, Contents
from alba_action.images.layers import LayerResult
from alba_action.digest import sha256_bytes
from alba_action.images.model import OCI_INDEX, DOCKER_LIST, Platform
from alba_action.platforms import same_platform

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)


@dataclass(frozen=True)
class ResolvedImage:
    platform: Platform  # from the config (variant from the name when the config has none)
    config: bytes
    layers: list[LayerResult]


def resolve(contents: Contents, expected: Platform) -> ResolvedImage:
    if contents.has("manifest.json"):
        config, layers = _docker_archive(contents)
    elif contents.has("index.json"):
        config, layers = _oci(contents, expected)
    else:
        raise ArchiveError(
            f"{contents.source}: neither manifest.json (docker-archive) nor index.json (OCI) found",
            "give an archive written by docker save, skopeo copy docker-archive:, Nix dockerTools or an OCI tool",
        )
    doc = _json(config, contents.source, "config")
    platform = _check_platform(doc, expected, contents.source)
    _check_diff_ids(doc, layers, contents.source)
    return ResolvedImage(platform, config, layers)


def _json(data: bytes, source: Path, what: str) -> dict | list:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise ArchiveError(f"{source}: {what} is not valid JSON ({exc})", REBUILD) from exc


def _docker_archive(contents: Contents) -> tuple[bytes, list[LayerResult]]:
    entries = _json(contents.read_small("manifest.json", "manifest"), contents.source, "manifest.json")
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        count = len(entries) if isinstance(entries, list) else "no"
        raise ArchiveError(
            f"{contents.source}: manifest.json describes {count} images, expected exactly one",
            "save one image per platform archive",
        )
    entry = entries[0]
    if not isinstance(entry.get("Config"), str) or not isinstance(entry.get("Layers"), list):
        raise ArchiveError(f"{contents.source}: manifest.json lacks Config or Layers", REBUILD)
    for name in [entry["Config"], *entry["Layers"]]:
        if not contents.has(name):
            raise ArchiveError(f"{contents.source}: manifest.json names {name}, which is not in the archive", REBUILD)
    config = contents.read_small(entry["Config"], "config")
    return config, [contents.layer(name) for name in entry["Layers"]]


def _blob_path(desc: dict, source: Path) -> str:
    digest = desc.get("digest", "") if isinstance(desc, dict) else ""
    algo, _, hexpart = digest.partition(":")
    if algo != "sha256" or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart):
        raise ArchiveError(f"{source}: unsupported or malformed digest {digest!r}", REBUILD)
    return f"blobs/sha256/{hexpart}"


def _small_blob(contents: Contents, desc: dict, what: str) -> bytes:
    path = _blob_path(desc, contents.source)
    if not contents.has(path):
        raise ArchiveError(f"{contents.source}: {what} {desc['digest']} is named but missing", REBUILD)
    data = contents.read_small(path, what)
    if sha256_bytes(data) != desc["digest"]:
        raise ArchiveError(f"{contents.source}: {what} {path} does not match its digest", REBUILD)
    return data


def _pick(manifests: list, expected: Platform, source: Path) -> dict:
    """The one entry of an index, or the entry whose platform matches the file name."""
    if len(manifests) == 1:
        return manifests[0]
    matching = [
        m for m in manifests
        if isinstance(m.get("platform"), dict) and same_platform(_platform_of(m["platform"]), expected)
    ]
    if len(matching) != 1:
        raise ArchiveError(
            f"{source}: index.json holds {len(manifests)} images and {len(matching)} for {expected}",
            "keep a single image per platform archive",
        )
    return matching[0]


def _oci(contents: Contents, expected: Platform) -> tuple[bytes, list[LayerResult]]:
    doc = _json(contents.read_small("index.json", "index"), contents.source, "index.json")
    for _ in range(8):  # nested indexes are legal; depth is bounded to stay sane
        manifests = doc.get("manifests") if isinstance(doc, dict) else None
        if not manifests:
            raise ArchiveError(f"{contents.source}: index.json lists no manifest", REBUILD)
        desc = _pick(manifests, expected, contents.source)
        doc = _json(_small_blob(contents, desc, "manifest"), contents.source, "manifest")
        if doc.get("mediaType") not in INDEX_TYPES and "manifests" not in doc:
            break
    config = _small_blob(contents, doc.get("config", {}), "config")
    layers = []
    for desc in doc.get("layers", []):
        path = _blob_path(desc, contents.source)
        if not contents.has(path):
            raise ArchiveError(f"{contents.source}: layer {desc['digest']} is named but missing", REBUILD)
        layer = contents.layer(path)
        if layer.raw_digest != desc["digest"]:
            raise ArchiveError(f"{contents.source}: layer {path} does not match its digest", REBUILD)
        layers.append(layer)
    return config, layers


def _platform_of(doc: dict) -> Platform:
    return Platform(str(doc.get("os", "")), str(doc.get("architecture", "")), doc.get("variant") or None)


def _check_platform(config: dict, expected: Platform, source: Path) -> Platform:
    found = _platform_of(config) if isinstance(config, dict) else Platform("", "")
    if not same_platform(found, expected):
        raise ArchiveError(
            f"{source}: the image config says platform {found or 'none'} but the file name says {expected}",
            f"rename the file after the image's platform, or rebuild the image for {expected}",
        )
    return Platform(found.os, found.architecture, found.variant or expected.variant)


def _check_diff_ids(config: dict, layers: list[LayerResult], source: Path) -> None:
    diff_ids = (config.get("rootfs") or {}).get("diff_ids")
    if not isinstance(diff_ids, list) or len(diff_ids) != len(layers):
        count = len(diff_ids) if isinstance(diff_ids, list) else "no"
        raise ArchiveError(f"{source}: config lists {count} diff_ids for {len(layers)} layers", REBUILD)
    for i, (want, layer) in enumerate(zip(diff_ids, layers)):
        if layer.diff_id != want:
            raise ArchiveError(
                f"{layer.member or source}: layer {i} content has diff_id {layer.diff_id}, "
                f"but the config expects {want}",
                "the archive was altered or damaged; " + REBUILD,
            )
