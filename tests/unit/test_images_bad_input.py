"""Every bad input stops with an ArchiveError/InputError naming the file and the fix."""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
from pathlib import Path

import pytest

pass  # helpers: tests/support (conftest)

from imagefixtures import image_config, make_layer_tar, write_nix_archive, write_raw_archive  # noqa: E402

from alba_action.errors import InputError  # noqa: E402
from alba_action.images import load_images  # noqa: E402
from alba_action.images.model import Platform  # noqa: E402

AMD64 = Platform("linux", "amd64")
LAYER = make_layer_tar({"app": bytes(range(256)) * 12000})  # ~3 MB: streamed, not kept in memory
DIFF_ID = "sha256:" + hashlib.sha256(LAYER).hexdigest()


def nix(src: Path, name: str = "linux.amd64.tar.gz", **kw) -> Path:
    kw.setdefault("compression", "gz" if name.endswith(".gz") else "zst" if name.endswith(".zst") else None)
    return write_nix_archive(src / name, kw.pop("platform", AMD64), kw.pop("layers", [LAYER]), **kw).path


def damaged(src: Path, name: str, how: str) -> None:
    path = nix(src, name)
    data = bytearray(path.read_bytes())
    if how == "cut":
        data = data[: len(data) // 2]
    else:  # flip bytes in the middle of the compressed stream
        for i in range(len(data) // 2, len(data) // 2 + 64):
            data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def raw(src: Path, members, compression=None, name="linux.amd64.tar") -> None:
    write_raw_archive(src / name, members, compression)


CONFIG = image_config(AMD64, [DIFF_ID])
MANIFEST = json.dumps([{"Config": "c.json", "Layers": ["l/layer.tar"]}]).encode()

CASES = {
    "empty folder": (lambda src: None, "no image archive found"),
    "name fits no pattern": (lambda src: (src / "image.tar").write_bytes(b""), "fits no image name pattern"),
    "two archives for one platform": (
        lambda src: (nix(src), nix(src, "linux.amd64.tar.zst")), "two images for platform linux/amd64"),
    "variant default is the same platform": (
        lambda src: (nix(src, "linux.arm64.tar", platform=Platform("linux", "arm64")),
                     nix(src, "linux.arm64.v8.tar", platform=Platform("linux", "arm64", "v8"))), "two images"),
    "unknown os": (lambda src: (src / "linox.amd64.tar").write_bytes(b""), "unknown os 'linox'"),
    "unknown arch": (lambda src: (src / "linux.x86_64.tar").write_bytes(b""), "unknown architecture 'x86_64'"),
    "truncated gzip": (lambda src: damaged(src, "linux.amd64.tar.gz", "cut"), "truncated"),
    "corrupt gzip": (lambda src: damaged(src, "linux.amd64.tar.gz", "flip"), "corrupt|truncated"),
    "truncated zstd": (lambda src: damaged(src, "linux.amd64.tar.zst", "cut"), "truncated|missing"),
    "corrupt zstd": (lambda src: damaged(src, "linux.amd64.tar.zst", "flip"), "corrupt"),
    "not a tar": (lambda src: (src / "linux.amd64.tar").write_bytes(b"hello " * 1000), "not a tar archive"),
    "gzip of not a tar": (
        lambda src: (src / "linux.amd64.tar.gz").write_bytes(gzip.compress(b"hi" * 5000)), "not a tar archive"),
    "member with ..": (lambda src: raw(src, [("a/../../evil", b"x")]), "outside the archive"),
    "absolute member": (lambda src: raw(src, [("/etc/evil", b"x")]), "outside the archive"),
    "symlink leading out": (lambda src: raw(src, [("l/layer.tar", "../../etc/passwd")]), "leads out of the archive"),
    "absolute symlink": (lambda src: raw(src, [("l/layer.tar", "/etc/passwd")]), "leads out of the archive"),
    "no manifest.json": (lambda src: raw(src, [("c.json", CONFIG), ("l/layer.tar", LAYER)]), "neither manifest.json"),
    "manifest names a missing layer": (
        lambda src: raw(src, [("c.json", CONFIG), ("manifest.json", MANIFEST)]), "names l/layer.tar, which is not in"),
    "manifest names a missing config": (
        lambda src: raw(src, [("l/layer.tar", LAYER), ("manifest.json", MANIFEST)]), "names c.json, which is not in"),
    "diff_id mismatch": (
        lambda src: nix(src, config=image_config(AMD64, ["sha256:" + "0" * 64])), "content has diff_id .* expects"),
    "platform mismatch": (
        lambda src: nix(src, config=image_config(Platform("linux", "arm64"), [DIFF_ID])),
        "config says platform linux/arm64 but the file name says linux/amd64"),
    "variant mismatch": (
        lambda src: nix(src, "linux.arm.v6.tar", config=image_config(Platform("linux", "arm", "v7"), [DIFF_ID])),
        "says platform linux/arm/v7 but the file name says linux/arm/v6"),
    "corrupt gzip layer inside": (
        lambda src: nix(src, "linux.amd64.tar", layers=[gzip.compress(LAYER)[:-40] + b"\0" * 40]),
        "corrupt or truncated compressed data"),
    "zstd with docker format": (lambda src: "fmt=docker,compression=zstd", "no Docker media type"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(tmp_path, case):
    make, message = CASES[case]
    src = tmp_path / "src"
    src.mkdir()
    opts = make(src)
    kw = dict(kv.split("=") for kv in opts.split(",")) if isinstance(opts, str) else {}
    if isinstance(opts, str):
        nix(src)
    with pytest.raises(InputError, match=message) as err:
        load_images(src, workdir=tmp_path / "w", cache_dir=tmp_path / "cache", log=lambda _: None, **kw)
    assert err.value.fix, "every error carries its remedy"
    assert not list((tmp_path / "cache").glob("v1/tmp/*")), "no temporary file is left behind"


def test_decompression_bomb_is_capped(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    nix(src, layers=[make_layer_tar({"zeros": bytes(20 << 20)})])
    with pytest.raises(InputError, match="decompression bomb") as err:
        load_images(src, workdir=tmp_path / "w", cache_dir=tmp_path / "c", max_uncompressed=8 << 20, log=print)
    assert "--max-uncompressed-size" in err.value.fix
    load_images(src, workdir=tmp_path / "w", cache_dir=tmp_path / "c", max_uncompressed=32 << 20, log=print)


def test_bomb_inside_a_compressed_layer_is_capped(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    inner = make_layer_tar({"zeros": bytes(64 << 20)})
    config = image_config(AMD64, ["sha256:" + hashlib.sha256(inner).hexdigest()])
    nix(src, layers=[gzip.compress(inner, 9)], config=config)
    with pytest.raises(InputError, match="decompression bomb"):
        load_images(src, workdir=tmp_path / "w", cache_dir=tmp_path / "c", max_uncompressed=16 << 20, log=print)
