"""Manifests and index bytes (golden: their digests are a contract) and the input scan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alba_action.errors import InputError
from alba_action.images import build_index, build_manifest, find_archives
from alba_action.images.model import OCI_LAYER_GZIP, OCI_LAYER_ZSTD, Blob, Platform, PlatformImage

GOLDEN = Path(__file__).parents[1] / "golden"
CONFIG = Blob("sha256:" + "c" * 64, 123, "", data=b"{}")
LAYERS = [Blob("sha256:" + "1" * 64, 1000, OCI_LAYER_GZIP), Blob("sha256:" + "2" * 64, 20, OCI_LAYER_GZIP)]


def image(platform: Platform, fmt: str) -> PlatformImage:
    return PlatformImage(platform, Path("x"), CONFIG, LAYERS, build_manifest(CONFIG, LAYERS, fmt))


@pytest.mark.parametrize("fmt", ["oci", "docker"])
def test_manifest_and_index_bytes_match_golden(fmt):
    images = [image(Platform("linux", "arm", "v7"), fmt), image(Platform("linux", "amd64"), fmt),
              image(Platform("linux", "arm64"), fmt)]
    index = build_index(images, {"org.opencontainers.image.version": "0.9", "org.opencontainers.image.created": "x"}, fmt)
    got = {"manifest": images[0].manifest.data.decode(), "manifest_digest": images[0].manifest.digest,
           "index": index.data.decode(), "index_digest": index.digest, "index_type": index.media_type}
    golden = GOLDEN / f"images_{fmt}.json"
    if not golden.exists():  # first run writes it; review the diff when it changes
        golden.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(golden.read_text())
    doc = json.loads(index.data)
    assert [m["platform"] for m in doc["manifests"]] == [
        {"architecture": "amd64", "os": "linux"}, {"architecture": "arm", "os": "linux", "variant": "v7"},
        {"architecture": "arm64", "os": "linux"}]
    assert ("annotations" in doc) == (fmt == "oci")


def test_zstd_layer_in_docker_format_is_refused():
    with pytest.raises(InputError, match="no Docker media type"):
        build_manifest(CONFIG, [Blob("sha256:" + "3" * 64, 5, OCI_LAYER_ZSTD)], "docker")


SCAN_CASES = [
    (["linux.amd64.tar.gz", "linux.arm.v7.tar", "linux.arm64.v8.2.tar.zst", ".hidden"],
     ["linux/amd64", "linux/arm/v7", "linux/arm64/v8.2"]),
    (["windows.amd64.tar", "darwin.arm64.tar.gz"], ["darwin/arm64", "windows/amd64"]),
]


@pytest.mark.parametrize("names,platforms", SCAN_CASES)
def test_scan_names(tmp_path, names, platforms):
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert [str(p) for p, _ in find_archives(tmp_path)] == platforms


def test_scan_accepts_oci_layout_folders_only_with_oci_layout(tmp_path):
    (tmp_path / "linux.riscv64").mkdir()
    with pytest.raises(InputError, match="no oci-layout file"):
        find_archives(tmp_path)
    (tmp_path / "linux.riscv64" / "oci-layout").write_text("{}")
    assert [str(p) for p, _ in find_archives(tmp_path)] == ["linux/riscv64"]
