"""Manifests and the index as bytes (pure): the same input gives the same digests everywhere.

JSON is written compactly with a fixed key order (the dicts below are built in that
order, never sorted after the fact), which is what the digests cover.
`fmt="oci"` writes OCI media types; `fmt="docker"` Docker v2 schema 2 ones (manifest
list, config, gzip or plain layers — Docker has no zstd layer type, and its manifest
list has no annotations, so annotations are dropped there).
"""

from __future__ import annotations

import json
from dataclasses import replace

from alba_action.errors import InputError
from alba_action.images import model as m
from alba_action.digest import sha256_bytes
from alba_action.grammar import compact_json
from alba_action.images.model import Blob, Manifest, PlatformImage

FORMATS = ("oci", "docker")
MANIFEST_TYPE = {"oci": m.OCI_MANIFEST, "docker": m.DOCKER_MANIFEST}
INDEX_TYPE = {"oci": m.OCI_INDEX, "docker": m.DOCKER_LIST}
CONFIG_TYPE = {"oci": m.OCI_CONFIG, "docker": m.DOCKER_CONFIG}
# Each layer media type, by format; None: the format has no such type.
LAYER_TYPE = {
    "oci": {"gzip": m.OCI_LAYER_GZIP, "zstd": m.OCI_LAYER_ZSTD, "none": m.OCI_LAYER_TAR},
    "docker": {"gzip": m.DOCKER_LAYER_GZIP, "zstd": None, "none": m.DOCKER_LAYER_TAR},
}
KIND_OF = {
    m.OCI_LAYER_GZIP: "gzip", m.DOCKER_LAYER_GZIP: "gzip", m.OCI_LAYER_ZSTD: "zstd",
    m.OCI_LAYER_TAR: "none", m.DOCKER_LAYER_TAR: "none",
}


def canonical_json(obj: object) -> bytes:
    return compact_json(obj)


def _manifest(data: bytes, media_type: str) -> Manifest:
    return Manifest(data, media_type, sha256_bytes(data))


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise InputError(f"unknown manifest format {fmt!r}", "use --format oci or --format docker")


def layer_media_type(media_type: str, fmt: str) -> str:
    """A layer's media type in the given format; zstd in Docker format is an error."""
    _check_format(fmt)
    kind = KIND_OF.get(media_type)
    if kind is None:
        return media_type  # foreign layers and the like: kept as found
    target = LAYER_TYPE[fmt][kind]
    if target is None:
        raise InputError(
            "zstd layers have no Docker media type",
            "use --compression gzip with --format docker, or --format oci to keep zstd",
        )
    return target


def as_format(config: Blob, layers: list[Blob], fmt: str) -> tuple[Blob, list[Blob]]:
    """The same blobs, labelled with the format's media types."""
    cfg = replace(config, media_type=CONFIG_TYPE[fmt])
    return cfg, [replace(b, media_type=layer_media_type(b.media_type, fmt)) for b in layers]


def build_manifest(config: Blob, layers: list[Blob], fmt: str) -> Manifest:
    _check_format(fmt)
    config, layers = as_format(config, layers, fmt)
    doc = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE[fmt],
        "config": config.descriptor(),
        "layers": [layer.descriptor() for layer in layers],
    }
    return _manifest(canonical_json(doc), MANIFEST_TYPE[fmt])


def annotate_manifests(images: list[PlatformImage], annotations: dict[str, str], fmt: str) -> list[PlatformImage]:
    """The images with `annotations` on each platform manifest (OCI only: Docker v2
    manifests have no annotations field, so a request for them is an error)."""
    if fmt != "oci":
        raise InputError("manifest annotations need OCI manifests", "drop the manifest: annotations or use --format oci")
    out = []
    for image in images:
        doc = json.loads(image.manifest.data)
        doc["annotations"] = {k: annotations[k] for k in sorted(annotations)}
        out.append(replace(image, manifest=_manifest(canonical_json(doc), image.manifest.media_type)))
    return out


def build_index(images: list[PlatformImage], annotations: dict[str, str], fmt: str) -> Manifest:
    """One entry per image, sorted by platform; annotations sorted by key (OCI only)."""
    _check_format(fmt)
    entries = []
    for image in sorted(images, key=lambda i: i.platform.sort_key()):
        man = image.manifest
        entries.append(
            {"mediaType": man.media_type, "digest": man.digest, "size": man.size, "platform": image.platform.to_json()}
        )
    doc: dict = {"schemaVersion": 2, "mediaType": INDEX_TYPE[fmt], "manifests": entries}
    if annotations and fmt == "oci":
        doc["annotations"] = {k: annotations[k] for k in sorted(annotations)}
    return _manifest(canonical_json(doc), INDEX_TYPE[fmt])
