"""Read an image archive in one streaming pass, or an OCI layout folder, into Contents.

The archive file is decompressed on the fly (gzip by ISA-L, zstd by zstandard, chosen by
magic bytes) and walked with tarfile's stream mode: nothing is unpacked to disk. Because
`manifest.json` may come last (Nix), every large member is processed as a layer as it
passes (hashed and compressed into the store) and kept by path; small members (configs,
manifests) stay in memory. Names are checked as they pass: absolute paths, `..` and
links leading out of the archive are refused.
"""

from __future__ import annotations

import contextlib
import posixpath
import tarfile
from concurrent.futures import Executor
from pathlib import Path
from typing import BinaryIO, Iterator

import isal.igzip as igzip
import isal.isal_zlib as isal_zlib
import zstandard

from alba_action.errors import ArchiveError
from alba_action.images.layers import CHUNK, GZIP_MAGIC, ZSTD_MAGIC, Budget, LayerProcessor, LayerResult, process_bytes
from alba_action.images.store import BlobStore

SMALL = 1 << 20  # configs and manifests are far below this; layers rarely are
SMALL_TOTAL = 64 << 20  # past this, small members are processed as layers too (memory cap)
REBUILD = "rebuild the archive (docker save, skopeo copy or Nix dockerTools) and try again"


class LayerContext:
    """What a LayerProcessor needs, shared by the members of one archive."""

    def __init__(self, store: BlobStore, compression: str, pool: Executor, budget: Budget) -> None:
        self.store, self.compression, self.pool, self.budget = store, compression, pool, budget

    def processor(self, member: str) -> LayerProcessor:
        return LayerProcessor(self.store, self.compression, self.pool, self.budget, member)

    def from_bytes(self, data: bytes, member: str) -> LayerResult:
        return process_bytes(
            data, store=self.store, compression=self.compression, pool=self.pool, budget=self.budget, member=member
        )


class Contents:
    """Members by normalised path: small ones as bytes, large ones already processed."""

    def __init__(self, source: Path, ctx: LayerContext) -> None:
        self.source, self.ctx = source, ctx
        self.small: dict[str, bytes] = {}
        self.layers: dict[str, LayerResult] = {}
        self.links: dict[str, str] = {}
        self.pending: dict[str, Path] = {}  # OCI layout blobs, processed only if referenced
        self.small_total = 0

    def _resolve(self, path: str) -> str:
        path = safe_name(path, self.source)
        for _ in range(32):  # a link loop must not hang us
            if path not in self.links:
                return path
            path = self.links[path]
        raise ArchiveError(f"{self.source}: link loop at {path}", REBUILD)

    def has(self, path: str) -> bool:
        path = self._resolve(path)
        return path in self.small or path in self.layers or path in self.pending

    def read_small(self, path: str, what: str) -> bytes:
        real = self._resolve(path)
        if real in self.small:
            return self.small[real]
        if real in self.layers or real in self.pending:
            raise ArchiveError(f"{self.source}: {what} {path} is larger than {SMALL} bytes", "this is not an image")
        raise ArchiveError(f"{self.source}: {what} {path} is missing from the archive", REBUILD)

    def layer(self, path: str) -> LayerResult:
        real = self._resolve(path)
        if real in self.pending:
            self.layers[real] = _process_file(self.pending.pop(real), self.ctx, f"{self.source}/{real}")
        if real not in self.layers:
            if real not in self.small:
                raise ArchiveError(f"{self.source}: layer {path} is missing from the archive", REBUILD)
            self.layers[real] = self.ctx.from_bytes(self.small[real], f"{self.source}:{real}")
        return self.layers[real]


def safe_name(name: str, source: Path) -> str:
    """A member name normalised; absolute names and `..` are refused (they could escape)."""
    norm = posixpath.normpath(name)
    if name.startswith("/") or norm == ".." or norm.startswith("../"):
        raise ArchiveError(
            f"{source}: member {name!r} points outside the archive", "this archive is unsafe; " + REBUILD
        )
    return norm


def _link_target(member: tarfile.TarInfo, source: Path) -> str:
    if member.issym():
        if member.linkname.startswith("/"):
            raise ArchiveError(f"{source}: link {member.name} -> {member.linkname} leads out of the archive", REBUILD)
        target = posixpath.join(posixpath.dirname(posixpath.normpath(member.name)), member.linkname)
    else:  # hard links name another member of the archive
        target = member.linkname
    try:
        return safe_name(target, source)
    except ArchiveError:
        raise ArchiveError(
            f"{source}: link {member.name} -> {member.linkname} leads out of the archive", "this archive is unsafe; " + REBUILD
        ) from None


class _Counting:
    """The decompressed stream, charged to the budget as tarfile reads it."""

    def __init__(self, inner: BinaryIO, budget: Budget) -> None:
        self.inner, self.budget = inner, budget

    def read(self, n: int = -1) -> bytes:
        data = self.inner.read(n if n is not None and n >= 0 else CHUNK)
        self.budget.spend(len(data))
        return data


@contextlib.contextmanager
def _open_stream(path: Path, budget: Budget) -> Iterator[_Counting]:
    with open(path, "rb") as raw:
        magic = raw.read(4)
        raw.seek(0)
        if magic.startswith(GZIP_MAGIC):
            inner: BinaryIO = igzip.GzipFile(fileobj=raw, mode="rb")
        elif magic.startswith(ZSTD_MAGIC):
            inner = zstandard.ZstdDecompressor().stream_reader(raw, read_size=CHUNK, read_across_frames=True)
        else:
            inner = raw
        yield _Counting(inner, budget)


def _explain(exc: BaseException, source: Path, member: str) -> ArchiveError:
    where = f" at member {member}" if member else ""
    text = str(exc)
    if isinstance(exc, EOFError) or "unexpected end" in text:
        return ArchiveError(f"{source}: truncated{where} ({text})", "the file was cut short; " + REBUILD)
    if isinstance(exc, tarfile.ReadError) and not member:
        return ArchiveError(f"{source}: not a tar archive ({text})", "give a docker-archive or an OCI archive (.tar)")
    return ArchiveError(f"{source}: corrupt data{where} ({type(exc).__name__}: {text})", REBUILD)


def read_archive(source: Path, ctx: LayerContext) -> Contents:
    """One pass over the archive file; errors name the archive and the member being read."""
    contents = Contents(source, ctx)
    member_name = ""
    try:
        with _open_stream(source, ctx.budget) as stream:
            with tarfile.open(fileobj=stream, mode="r|", bufsize=CHUNK) as tar:
                for member in tar:
                    member_name = member.name
                    _take(tar, member, contents)
    except ArchiveError:
        raise
    except (tarfile.TarError, OSError, EOFError, zstandard.ZstdError, isal_zlib.error) as exc:
        raise _explain(exc, source, member_name) from exc
    return contents


def _take(tar: tarfile.TarFile, member: tarfile.TarInfo, contents: Contents) -> None:
    name = safe_name(member.name, contents.source)
    if member.issym() or member.islnk():
        contents.links[name] = _link_target(member, contents.source)
        return
    if not member.isfile():
        return  # folders, devices: not part of any image format
    reader = tar.extractfile(member)
    assert reader is not None
    if member.size <= min(SMALL, SMALL_TOTAL - contents.small_total):
        contents.small[name] = reader.read()
        contents.small_total += member.size
        return
    proc = contents.ctx.processor(f"{contents.source}:{name}")
    try:
        while chunk := reader.read(CHUNK):
            proc.feed(chunk)
    except BaseException:
        proc.abort()
        raise
    contents.layers[name] = proc.finish()


def read_layout(source: Path, ctx: LayerContext) -> Contents:
    """An OCI layout folder: small files read now, large blobs processed when referenced."""
    contents = Contents(source, ctx)
    for file in sorted(source.rglob("*")):
        rel = file.relative_to(source).as_posix()
        if file.is_symlink():
            raise ArchiveError(f"{source}: {rel} is a symbolic link", "copy the real file into the OCI layout")
        if not file.is_file():
            continue
        if file.stat().st_size <= SMALL:
            contents.small[rel] = file.read_bytes()
        else:
            contents.pending[rel] = file
    return contents


def _process_file(file: Path, ctx: LayerContext, member: str) -> LayerResult:
    proc = ctx.processor(member)
    with open(file, "rb") as f:
        while chunk := f.read(CHUNK):
            proc.feed(chunk)
    return proc.finish()
