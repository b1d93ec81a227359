"""alba_action.images.manifests: manifest and index bytes, media types per format, digests."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from alba_action.errors import InputError
from alba_action.images.manifests import (
    annotate_manifests, as_format, build_index, build_manifest, canonical_json, layer_media_type,
)
from alba_action.images.model import Blob, PlatformImage
from alba_action.oci import (
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR, DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX,
    OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD, OCI_MANIFEST, Platform,
)

FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
CONFIG = Blob("sha256:" + "c" * 64, 123, "", data=b"{}")
GZ = Blob("sha256:" + "1" * 64, 1000, OCI_LAYER_GZIP)
ZS = Blob("sha256:" + "2" * 64, 20, OCI_LAYER_ZSTD)
TAR = Blob("sha256:" + "3" * 64, 5, OCI_LAYER_TAR)
FOR = Blob("sha256:" + "4" * 64, 5, FOREIGN)


def image(platform: Platform, layers=(GZ,), fmt: str = "oci") -> PlatformImage:
    return PlatformImage(platform, Path("x"), CONFIG, list(layers), build_manifest(CONFIG, list(layers), fmt))


@pytest.mark.parametrize(
    "media_type, fmt, expected",
    [
        pytest.param(OCI_LAYER_GZIP, "oci", OCI_LAYER_GZIP, id="oci-gzip-oci"),
        pytest.param(OCI_LAYER_GZIP, "docker", DOCKER_LAYER_GZIP, id="oci-gzip-docker"),
        pytest.param(DOCKER_LAYER_GZIP, "oci", OCI_LAYER_GZIP, id="docker-gzip-oci"),
        pytest.param(DOCKER_LAYER_GZIP, "docker", DOCKER_LAYER_GZIP, id="docker-gzip-docker"),
        pytest.param(OCI_LAYER_ZSTD, "oci", OCI_LAYER_ZSTD, id="zstd-oci"),
        pytest.param(OCI_LAYER_TAR, "oci", OCI_LAYER_TAR, id="tar-oci"),
        pytest.param(OCI_LAYER_TAR, "docker", DOCKER_LAYER_TAR, id="tar-docker"),
        pytest.param(DOCKER_LAYER_TAR, "oci", OCI_LAYER_TAR, id="docker-tar-oci"),
        pytest.param(DOCKER_LAYER_TAR, "docker", DOCKER_LAYER_TAR, id="docker-tar-docker"),
        pytest.param(FOREIGN, "oci", FOREIGN, id="foreign-kept-oci"),
        pytest.param(FOREIGN, "docker", FOREIGN, id="foreign-kept-docker"),
    ],
)
def test_layer_media_type(media_type: str, fmt: str, expected: str) -> None:
    assert layer_media_type(media_type, fmt) == expected


def test_zstd_has_no_docker_type() -> None:
    with pytest.raises(InputError) as err:
        layer_media_type(OCI_LAYER_ZSTD, "docker")
    assert err.value.message == "zstd layers have no Docker media type"
    assert err.value.fix == "use --compression gzip with --format docker, or --format oci to keep zstd"


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: layer_media_type(OCI_LAYER_GZIP, "v1"), id="layer"),
        pytest.param(lambda: build_manifest(CONFIG, [GZ], "v1"), id="manifest"),
        pytest.param(lambda: build_index([], {}, "v1"), id="index"),
    ],
)
def test_unknown_format(call) -> None:
    with pytest.raises(InputError) as err:
        call()
    assert err.value.message == "unknown manifest format 'v1'"
    assert err.value.fix == "use --format oci or --format docker"


@pytest.mark.parametrize("fmt, config_type", [("oci", OCI_CONFIG), ("docker", DOCKER_CONFIG)])
def test_as_format_relabels_config_and_layers(fmt: str, config_type: str) -> None:
    config, layers = as_format(CONFIG, [GZ, TAR], fmt)
    assert config.media_type == config_type and config.digest == CONFIG.digest and config.size == 123
    assert [b.media_type for b in layers] == [layer_media_type(OCI_LAYER_GZIP, fmt), layer_media_type(OCI_LAYER_TAR, fmt)]
    assert [b.digest for b in layers] == [GZ.digest, TAR.digest]


def test_oci_manifest_bytes() -> None:
    man = build_manifest(CONFIG, [GZ, ZS, TAR, FOR], "oci")
    assert man.data == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
        b'"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:' + b"c" * 64
        + b'","size":123},"layers":['
        b'{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:' + b"1" * 64 + b'","size":1000},'
        b'{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:' + b"2" * 64 + b'","size":20},'
        b'{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:' + b"3" * 64 + b'","size":5},'
        b'{"mediaType":"' + FOREIGN.encode() + b'","digest":"sha256:' + b"4" * 64 + b'","size":5}]}'
    )
    assert man.media_type == OCI_MANIFEST
    assert man.digest == "sha256:" + hashlib.sha256(man.data).hexdigest()
    assert man.size == len(man.data) == 868


def test_docker_manifest_without_layers() -> None:
    man = build_manifest(CONFIG, [], "docker")
    assert man.data == (
        b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",'
        b'"config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:' + b"c" * 64
        + b'","size":123},"layers":[]}'
    )
    assert man.media_type == DOCKER_MANIFEST


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_manifest_is_deterministic_and_layer_order_matters(fmt: str) -> None:
    assert build_manifest(CONFIG, [GZ, TAR], fmt) == build_manifest(CONFIG, [GZ, TAR], fmt)
    assert build_manifest(CONFIG, [GZ, TAR], fmt).digest != build_manifest(CONFIG, [TAR, GZ], fmt).digest


def test_manifest_ignores_blob_location() -> None:
    on_disk = Blob(GZ.digest, GZ.size, GZ.media_type, path=Path("/tmp/layer"), hashed=True)
    assert build_manifest(CONFIG, [on_disk], "oci") == build_manifest(CONFIG, [GZ], "oci")


# -- index ------------------------------------------------------------------------------------

PLATFORMS = [Platform("linux", "arm64", "v8"), Platform("linux", "arm64"), Platform("darwin", "arm64"),
             Platform("linux", "amd64"), Platform("linux", "arm", "v7")]


@pytest.mark.parametrize("fmt, index_type", [("oci", OCI_INDEX), ("docker", DOCKER_LIST)])
def test_index_sorted_by_platform_variant_none_first(fmt: str, index_type: str) -> None:
    index = build_index([image(p, fmt=fmt) for p in PLATFORMS], {}, fmt)
    doc = json.loads(index.data)
    assert index.media_type == doc["mediaType"] == index_type
    assert list(doc) == ["schemaVersion", "mediaType", "manifests"]
    assert [m["platform"] for m in doc["manifests"]] == [
        {"architecture": "arm64", "os": "darwin"},
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
        {"architecture": "arm64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
    ]
    assert list(doc["manifests"][0]) == ["mediaType", "digest", "size", "platform"]


def test_index_entry_describes_its_manifest() -> None:
    img = image(Platform("linux", "amd64"))
    (entry,) = json.loads(build_index([img], {}, "oci").data)["manifests"]
    assert entry == {"mediaType": OCI_MANIFEST, "digest": img.manifest.digest, "size": img.manifest.size,
                     "platform": {"architecture": "amd64", "os": "linux"}}


@pytest.mark.parametrize(
    "annotations, fmt, expected_tail",
    [
        pytest.param({"b": "2", "a": "1"}, "oci", b',"annotations":{"a":"1","b":"2"}}', id="oci-sorted"),
        pytest.param({"b": "2", "a": "1"}, "docker", b"]}", id="docker-dropped"),
        pytest.param({}, "oci", b"]}", id="oci-empty-left-out"),
    ],
)
def test_index_annotations(annotations, fmt: str, expected_tail: bytes) -> None:
    index = build_index([image(Platform("linux", "amd64"), fmt=fmt)], annotations, fmt)
    assert index.data.endswith(expected_tail)


def test_empty_index_bytes() -> None:
    index = build_index([], {}, "oci")
    assert index.data == b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'


def test_index_digest_independent_of_input_order_and_annotation_order() -> None:
    images = [image(p) for p in PLATFORMS]
    one = build_index(images, {"x": "1", "y": "2"}, "oci")
    two = build_index(list(reversed(images)), {"y": "2", "x": "1"}, "oci")
    assert one.data == two.data and one.digest == two.digest


def test_index_digest_changes_with_annotations() -> None:
    images = [image(Platform("linux", "amd64"))]
    assert build_index(images, {"v": "1"}, "oci").digest != build_index(images, {"v": "2"}, "oci").digest


# -- annotate_manifests -----------------------------------------------------------------------


def test_annotate_manifests_adds_sorted_annotations_and_new_digest() -> None:
    img = image(Platform("linux", "amd64"))
    (out,) = annotate_manifests([img], {"z": "1", "a": "2"}, "oci")
    assert out.manifest.data == img.manifest.data[:-1] + b',"annotations":{"a":"2","z":"1"}}'
    assert out.manifest.digest == "sha256:" + hashlib.sha256(out.manifest.data).hexdigest()
    assert out.manifest.media_type == OCI_MANIFEST
    assert out.platform == img.platform and img.manifest.digest != out.manifest.digest


def test_annotate_manifests_with_nothing_writes_an_empty_map() -> None:
    (out,) = annotate_manifests([image(Platform("linux", "amd64"))], {}, "oci")
    assert out.manifest.data.endswith(b',"annotations":{}}')


def test_annotate_manifests_refuses_docker() -> None:
    with pytest.raises(InputError) as err:
        annotate_manifests([image(Platform("linux", "amd64"))], {"a": "1"}, "docker")
    assert err.value.message == "manifest annotations need OCI manifests"
    assert err.value.fix == "drop the manifest: annotations or use --format oci"


@pytest.mark.parametrize(
    "obj, expected",
    [
        pytest.param({"b": 1, "a": {"d": 2, "c": 3}}, b'{"b":1,"a":{"d":2,"c":3}}', id="insertion-order"),
        pytest.param({"k": "ü"}, '{"k":"ü"}'.encode(), id="utf8"),
    ],
)
def test_canonical_json(obj, expected: bytes) -> None:
    assert canonical_json(obj) == expected
