"""Image archives for tests, written the way real tools write them.

- write_nix_archive: a Nix dockerTools-style docker-archive: `<diffid-hex>/layer.tar`
  members (plain tars), `<hex>.json` config, `manifest.json` last, the whole archive
  gzip- or zstd-compressed.
- build_umoci_archive / build_oci_layout / build_oci_archive: images made by umoci
  (`init`, `new`, `insert`, `config`), turned into a docker-archive by
  `skopeo copy oci:… docker-archive:…`, or kept as an OCI layout (or a tar of it).
Import with `from imagefixtures import …` (tests/ on sys.path).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import isal.igzip as igzip
import zstandard

from alba_action.images.model import Platform

CHUNK = 1 << 20
Layer = bytes | Path  # a plain layer tar, in memory or in a file


def make_layer_tar(files: dict[str, bytes]) -> bytes:
    """A small deterministic layer tar (mtime 0, root owner)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _open_layer(layer: Layer) -> BinaryIO:
    return open(layer, "rb") if isinstance(layer, Path) else io.BytesIO(layer)


def _sha256_and_size(layer: Layer) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with _open_layer(layer) as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def image_config(platform: Platform, diff_ids: list[str], **extra: object) -> bytes:
    doc: dict = {"architecture": platform.architecture, "os": platform.os}
    if platform.variant:
        doc["variant"] = platform.variant
    doc.update({"config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    doc.update(extra)
    return json.dumps(doc).encode()


@dataclass
class NixArchive:
    path: Path
    diff_ids: list[str]
    config: bytes


def _add(tar: tarfile.TarFile, name: str, source: BinaryIO, size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = size, 0o444
    tar.addfile(info, source)


def _compressed_writer(path: Path, compression: str | None) -> BinaryIO:
    if compression == "gz":
        return igzip.open(path, "wb", compresslevel=1)  # fixtures: speed over size
    if compression == "zst":
        return zstandard.ZstdCompressor(level=1).stream_writer(open(path, "wb"), closefd=True)
    return open(path, "wb")


def write_nix_archive(
    path: Path,
    platform: Platform,
    layers: list[Layer],
    compression: str | None = "gz",
    manifest_last: bool = True,
    config: bytes | None = None,
    extra_members: dict[str, bytes] | None = None,
) -> NixArchive:
    """A Nix-style docker-archive; `config` overrides the generated one (bad-input tests)."""
    sums = [_sha256_and_size(layer) for layer in layers]
    diff_ids = [f"sha256:{hexd}" for hexd, _ in sums]
    config = config if config is not None else image_config(platform, diff_ids)
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": ["fixture:latest"], "Layers": [f"{h}/layer.tar" for h, _ in sums]}]
    ).encode()
    with _compressed_writer(path, compression) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        head = [(config_name, config), ("manifest.json", manifest)]
        if not manifest_last:
            for name, data in head:
                _add(tar, name, io.BytesIO(data), len(data))
        for layer, (hexd, size) in zip(layers, sums):
            with _open_layer(layer) as f:
                _add(tar, f"{hexd}/layer.tar", f, size)
        for name, data in (extra_members or {}).items():
            _add(tar, name, io.BytesIO(data), len(data))
        if manifest_last:
            for name, data in head:
                _add(tar, name, io.BytesIO(data), len(data))
    return NixArchive(path, diff_ids, config)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def build_oci_layout(layout: Path, platform: Platform, files: dict[str, bytes] | None = None, tag: str = "t") -> Path:
    """An OCI layout made by umoci: one gzip layer per file, config platform set."""
    files = files or {"hello.txt": b"hello\n", "etc/motd": b"alba fixture\n"}
    _run("umoci", "init", "--layout", str(layout))
    _run("umoci", "new", "--image", f"{layout}:{tag}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in files.items():
            src = Path(tmp) / name.replace("/", "_")
            src.write_bytes(data)
            _run("umoci", "insert", "--image", f"{layout}:{tag}", str(src), "/" + name)
    _run("umoci", "config", "--image", f"{layout}:{tag}", "--os", platform.os, "--architecture", platform.architecture)
    return layout


def build_umoci_archive(path: Path, platform: Platform, files: dict[str, bytes] | None = None) -> Path:
    """A docker-archive written by skopeo from a umoci image (plain-tar layers, symlinks)."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = build_oci_layout(Path(tmp) / "layout", platform, files)
        _run("skopeo", "copy", "--quiet", f"oci:{layout}:t", f"docker-archive:{path}:fixture:latest")
    return path


def build_oci_archive(path: Path, platform: Platform, files: dict[str, bytes] | None = None) -> Path:
    """A tar of a umoci OCI layout (what `skopeo copy … oci-archive:` would write)."""
    with tempfile.TemporaryDirectory() as tmp:
        layout = build_oci_layout(Path(tmp) / "layout", platform, files)
        with tarfile.open(path, "w") as tar:
            for item in sorted(layout.iterdir()):
                tar.add(item, arcname=item.name)
    return path


def random_file(path: Path, size: int, compressible: bool = False, seed: int = 0) -> Path:
    """A big file written in 1 MiB chunks: random bytes, or text-like bytes (gzip ~1/3)."""
    rng = random.Random(seed)
    words = [f"{rng.getrandbits(32):08x}".encode() for _ in range(2000)]
    with open(path, "wb") as f:
        written = 0
        while written < size:
            n = min(CHUNK, size - written)
            f.write(_text_block(rng, words, n) if compressible else rng.randbytes(n))
            written += n
    return path


def _text_block(rng: random.Random, words: list[bytes], n: int) -> bytes:
    out, size = [], 0
    while size < n:
        line = b" ".join(rng.choices(words, k=12)) + b"\n"
        out.append(line)
        size += len(line)
    return b"".join(out)[:n]


def layer_tar_file(path: Path, payload: Path, name: str = "data.bin") -> Path:
    """A layer tar holding one (large) file, written without reading it into memory."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size, info.mode = payload.stat().st_size, 0o644
        with open(payload, "rb") as f:
            tar.addfile(info, f)
    return path


def write_raw_archive(path: Path, members: list[tuple[str, bytes | str]], compression: str | None = None) -> Path:
    """Any tar, for bad-input tests: a str value makes a symlink to that target."""
    with _compressed_writer(path, compression) as out, tarfile.open(fileobj=out, mode="w|") as tar:
        for name, value in members:
            info = tarfile.TarInfo(name)
            if isinstance(value, str):
                info.type, info.linkname = tarfile.SYMTYPE, value
                tar.addfile(info)
            else:
                info.size = len(value)
                tar.addfile(info, io.BytesIO(value))
    return path
