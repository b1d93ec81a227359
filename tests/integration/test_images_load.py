"""Loading real and Nix-style archives: content, determinism, kept layers, the cache."""

from __future__ import annotations

import gzip
import os
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pass  # helpers: tests/support (conftest)

from imagefixtures import (  # noqa: E402
    build_oci_archive,
    build_oci_layout,
    build_umoci_archive,
    make_layer_tar,
    write_nix_archive,
)

from alba_action.errors import ArchiveError  # noqa: E402
from alba_action.images import load_images, verify_blob_file  # noqa: E402
from alba_action.images.model import OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD, Platform  # noqa: E402
from alba_action.images.manifests import build_index  # noqa: E402

AMD64, ARM64, ARMV7 = Platform("linux", "amd64"), Platform("linux", "arm64"), Platform("linux", "arm", "v7")
LAYERS = [make_layer_tar({"bin/app": b"\x7fELF" + bytes(range(256)) * 9000}), make_layer_tar({"etc/motd": b"hi\n"})]


def load(src: Path, tmp: Path, **kw):
    lines: list[str] = []
    kw.setdefault("cache_dir", tmp / "cache")
    images = load_images(src, workdir=tmp / "work", log=lines.append, **kw)
    return images, lines


def write_layout(images, index, dest: Path) -> Path:
    """Our result as an OCI layout, so that skopeo and umoci can check every digest."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (dest / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    for image in images:
        for blob in image.blobs:
            verify_blob_file(blob)
            data = blob.data if blob.data is not None else blob.path.read_bytes()
            (blobs / blob.digest[7:]).write_bytes(data)
        (blobs / image.manifest.digest[7:]).write_bytes(image.manifest.data)
    (blobs / index.digest[7:]).write_bytes(index.data)
    entry = {"mediaType": index.media_type, "digest": index.digest, "size": index.size,
             "annotations": {"org.opencontainers.image.ref.name": "t"}}
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
    return dest


def nix_src(tmp: Path, compression: str = "gz") -> Path:
    src = tmp / "src"
    src.mkdir()
    ext = {"gz": ".tar.gz", "zst": ".tar.zst", None: ".tar"}[compression]
    write_nix_archive(src / f"linux.amd64{ext}", AMD64, LAYERS, compression=compression)
    write_nix_archive(src / f"linux.arm.v7{ext}", ARMV7, LAYERS[:1], compression=compression, manifest_last=False)
    return src


@pytest.mark.parametrize("archive", ["gz", "zst", None])
def test_nix_archives_load_with_checked_diff_ids(tmp_path, archive):
    images, lines = load(nix_src(tmp_path, archive), tmp_path)
    assert [str(i.platform) for i in images] == ["linux/amd64", "linux/arm/v7"]
    assert lines[0] == "-- load archives --"
    assert "linux.amd64" in lines[1] and "-> linux/amd64: 2 layers" in lines[1] and "(gzip," in lines[1]
    layer = images[0].layers[0]
    assert layer.media_type == OCI_LAYER_GZIP
    assert gzip.decompress(layer.path.read_bytes()) == LAYERS[0]
    config = json.loads(images[0].config.data)
    assert config["rootfs"]["diff_ids"][0] == "sha256:" + __import__("hashlib").sha256(LAYERS[0]).hexdigest()


@pytest.mark.parametrize("compression,media_type", [("gzip", OCI_LAYER_GZIP), ("zstd", OCI_LAYER_ZSTD), ("none", OCI_LAYER_TAR)])
def test_same_input_same_digests_in_other_workdirs_without_cache(tmp_path, compression, media_type):
    src = nix_src(tmp_path)
    runs = []
    for n in (1, 2):
        images, _ = load(src, tmp_path / f"run{n}", compression=compression, cache_dir=None)
        runs.append([(i.manifest.digest, [b.digest for b in i.layers]) for i in images])
        assert {b.media_type for i in images for b in i.layers} == {media_type}
    assert runs[0] == runs[1]


@pytest.mark.parametrize("kind", ["docker-archive", "oci-archive", "oci-layout"])
def test_archives_from_real_tools(tmp_path, kind):
    src = tmp_path / "src"
    src.mkdir()
    if kind == "docker-archive":
        build_umoci_archive(src / "linux.arm64.tar", ARM64)
    elif kind == "oci-archive":
        build_oci_archive(src / "linux.arm64.tar", ARM64)
    else:
        build_oci_layout(src / "linux.arm64", ARM64)
    images, lines = load(src, tmp_path)
    assert [str(i.platform) for i in images] == ["linux/arm64"]
    assert len(images[0].layers) == 2
    if kind != "docker-archive":  # umoci's layers are gzip already: kept byte for byte
        assert images[0].notes == [] and "kept" not in lines[1]


def test_skopeo_and_umoci_accept_what_we_loaded(tmp_path):
    src = nix_src(tmp_path, "zst")
    build_umoci_archive(src / "linux.arm64.tar", ARM64)
    images, _ = load(src, tmp_path)
    index = build_index(images, {"org.opencontainers.image.version": "1"}, "oci")
    layout = write_layout(images, index, tmp_path / "layout")
    subprocess.run(["skopeo", "copy", "--quiet", "--all", f"oci:{layout}:t", f"oci:{tmp_path / 'copy'}:t"], check=True)
    for image in images:
        # umoci unpack re-computes every diff_id of the platform manifest's layers
        sub = tmp_path / f"one-{image.platform.architecture}"
        shutil.copytree(layout, sub)
        entry = {"mediaType": image.manifest.media_type, "digest": image.manifest.digest, "size": image.manifest.size,
                 "annotations": {"org.opencontainers.image.ref.name": "p"}}
        (sub / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [entry]}))
        subprocess.run(["umoci", "unpack", "--image", f"{sub}:p", str(tmp_path / f"bundle-{image.platform.architecture}")],
                       check=True, capture_output=True)


def test_layers_already_compressed_are_kept_as_found(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    gz = gzip.compress(LAYERS[0], mtime=0)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": ["sha256:" + __import__("hashlib").sha256(LAYERS[0]).hexdigest()]}}).encode()
    write_nix_archive(src / "linux.amd64.tar.gz", AMD64, [gz], config=config)
    images, lines = load(src, tmp_path, compression="zstd")
    (layer,) = images[0].layers
    assert layer.media_type == OCI_LAYER_GZIP and layer.path.read_bytes() == gz
    assert "1 kept as found" in lines[1]


def test_big_layer_compresses_in_parallel_blocks(tmp_path):
    big = make_layer_tar({"blob": bytes(range(251)) * 40000})  # ~10 MB: ten 1 MiB blocks
    src = tmp_path / "src"
    src.mkdir()
    write_nix_archive(src / "linux.amd64.tar", AMD64, [big], compression=None)
    images, _ = load(src, tmp_path, cache_dir=None)
    assert gzip.decompress(images[0].layers[0].path.read_bytes()) == big


def test_rerun_answers_from_cache_without_recompressing(tmp_path, monkeypatch):
    src = nix_src(tmp_path)
    first, _ = load(src, tmp_path)
    from alba_action.images import layers

    def boom(*a, **k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(layers.LayerProcessor, "feed", boom)
    again, lines = load(src, tmp_path)
    assert all("cached" in line for line in lines[1:])
    assert [i.manifest.digest for i in again] == [i.manifest.digest for i in first]


@pytest.mark.parametrize("archive", ["gz", "zst", None])
def test_an_archive_hashed_while_loading_is_found_again_when_rewritten(tmp_path, monkeypatch, archive):
    """A first load hashes the archive from the bytes its decoder reads (and the tail it never
    asks for); that digest must be the file's own, or a rebuilt archive would miss the cache."""
    src = nix_src(tmp_path, archive)
    for f in src.iterdir():  # bytes no decoder reads: the cache key covers them all the same
        f.write_bytes(f.read_bytes() + (b"\0" * 10240 if archive is None else b""))
    first, _ = load(src, tmp_path)
    for f in src.iterdir():
        assert (tmp_path / "cache" / "v1" / "stat" / f"size-{f.stat().st_size}").exists()
        copy = f.with_name(f.name + ".new")
        copy.write_bytes(f.read_bytes())
        os.replace(copy, f)  # the same bytes in a new file: new inode, mtime and ctime
    from alba_action.images import layers

    def boom(*a, **k):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(layers.LayerProcessor, "feed", boom)
    again, lines = load(src, tmp_path)
    assert all("cached" in line for line in lines[1:]), lines
    assert [i.manifest.digest for i in again] == [i.manifest.digest for i in first]


def test_an_archive_of_a_known_size_but_other_bytes_is_loaded_again(tmp_path):
    src = nix_src(tmp_path, None)
    load(src, tmp_path)
    archive = src / "linux.amd64.tar"
    data = archive.read_bytes()
    at = data.index(b"\x7fELF")  # inside a layer's file: same size, other content
    archive.write_bytes(data[:at] + b"\x7felf" + data[at + 4:])
    with pytest.raises(ArchiveError, match="content has diff_id"):  # read again, so the change is caught
        load(src, tmp_path)


def test_cache_entry_with_missing_blob_is_not_trusted(tmp_path):
    src = nix_src(tmp_path)
    first, _ = load(src, tmp_path)
    first[0].layers[0].path.unlink()
    again, lines = load(src, tmp_path)
    # amd64 lost a blob, so it is loaded again; arm/v7 shares that layer and loads side by
    # side with it, so it may find the blob missing too: either way every file is back.
    assert "cached" not in lines[1]
    assert all(layer.path.is_file() for image in again for layer in image.layers)
    assert [i.manifest.digest for i in again] == [i.manifest.digest for i in first]


def test_damaged_cached_blob_is_caught_before_use(tmp_path):
    src = nix_src(tmp_path)
    first, _ = load(src, tmp_path)
    path = first[0].layers[0].path
    data = bytearray(path.read_bytes())
    data[20] ^= 0xFF
    path.write_bytes(bytes(data))
    again, _ = load(src, tmp_path)
    with pytest.raises(Exception, match="does not match its digest"):
        verify_blob_file(again[0].layers[0])
    assert not path.exists()


def test_docker_format_uses_docker_media_types(tmp_path):
    images, _ = load(nix_src(tmp_path), tmp_path, fmt="docker")
    doc = json.loads(images[0].manifest.data)
    assert doc["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert doc["config"]["mediaType"] == "application/vnd.docker.container.image.v1+json"
    assert {layer["mediaType"] for layer in doc["layers"]} == {"application/vnd.docker.image.rootfs.diff.tar.gzip"}


def test_the_image_cache_keeps_under_its_cap_least_recently_used_first(tmp_path):
    from servers import alba_env, run_alba

    from imagefixtures import make_layer_tar, write_nix_archive

    cache = tmp_path / "cache"
    env = alba_env(ALBA_CACHE_DIR=str(cache))
    old, new = tmp_path / "old", tmp_path / "new"
    for folder, size in ((old, 200_000), (new, 300_000)):  # random: it stays that big compressed
        folder.mkdir()
        for arch in ("amd64", "arm64"):
            write_nix_archive(folder / f"linux.{arch}.tar.gz", Platform("linux", arch),
                              [make_layer_tar({"big": os.urandom(size)})])
    first = run_alba("container", "push", "-t", "a:1", old, f"file://{tmp_path / 'out'}", env=env)
    assert first.returncode == 0 and "evicted" not in first.stderr, first.stderr
    second = run_alba("container", "push", "-t", "a:2", "--cache-max-size", "700K", new, f"file://{tmp_path / 'out'}",
                      env=env)
    assert second.returncode == 0, second.stderr
    assert "image cache: evicted 2 least recently used images" in second.stderr
    entries = list((cache / "v1/entries").glob("*.json"))
    assert len(entries) == 2  # this run's two platforms stay
    size = sum(p.stat().st_size for p in (cache / "v1/blobs/sha256").iterdir())
    assert size <= 700 * 1024
    again = run_alba("container", "push", "-t", "a:2", "--cache-max-size", "700K", new, f"file://{tmp_path / 'out'}",
                     env=env)
    assert again.stderr.count("cached") >= 2 and "evicted" not in again.stderr, again.stderr
