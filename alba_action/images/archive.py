"""Read an image archive in one streaming pass, or an OCI layout folder, into Contents.

The archive file is decompressed on the fly (gzip by ISA-L, zstd by zstandard, chosen by
magic bytes) and walked header by header (tarfile parses each header, GNU and pax
extensions included; member data goes from the decoder to the layer in 1 MiB pieces with
no copy in between): nothing is unpacked to disk. Because
`manifest.json` may come last (Nix), every large member is processed as a layer as it
passes (hashed and compressed into the store) and kept by path; small members (configs,
manifests) stay in memory. Names are checked as they pass: absolute paths, `..` and
links leading out of the archive are refused.
"""

from __future__ import annotations

import contextlib
import io
import posixpath
import tarfile
import threading
from concurrent.futures import Executor
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import isal.igzip as igzip
import isal.isal_zlib as isal_zlib
import zstandard

from alba_action.errors import ArchiveError
from alba_action.images.layers import CHUNK, GZIP_MAGIC, ZSTD_MAGIC, Budget, LayerProcessor, LayerResult, process_bytes
from alba_action.images.model import Blob
from alba_action.images.store import BlobStore

SMALL = 1 << 20  # configs and manifests are far below this; layers rarely are
SMALL_TOTAL = 64 << 20  # past this, small members are processed as layers too (memory cap)
REBUILD = "rebuild the archive (docker save, skopeo copy or Nix dockerTools) and try again"


class LayerContext:
    """What a LayerProcessor needs, shared by the members of one archive."""

    def __init__(
        self, store: BlobStore, compression: str, pool: Executor, budget: Budget, stop: threading.Event | None = None,
        on_blob: Callable[[Blob], None] | None = None,
    ) -> None:
        self.store, self.compression, self.pool, self.budget = store, compression, pool, budget
        self.stop = stop  # set when another input of the run failed
        self.on_blob = on_blob  # told of every layer file as soon as it is complete
        self.input_hash = None  # a hashlib object: read_archive feeds it the whole archive file

    def processor(self, member: str) -> LayerProcessor:
        return LayerProcessor(self.store, self.compression, self.pool, self.budget, member, self.on_blob)

    def from_bytes(self, data: bytes, member: str) -> LayerResult:
        return process_bytes(
            data, store=self.store, compression=self.compression, pool=self.pool, budget=self.budget, member=member,
            on_blob=self.on_blob,
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


class Cancelled(Exception):
    """Another input of the same run failed: stop reading this one."""


class _TarStream:
    """The decompressed archive, read in exact pieces: what tarfile's header parser needs.

    Member data is read straight from the decoder in CHUNK pieces (each a fresh bytes
    object the decoder filled), so no byte is copied between decoding and hashing.
    Every byte is charged to the budget (the decompression-bomb cap).
    """

    encoding = tarfile.ENCODING  # the attributes TarInfo.fromtarfile reads from a "tarfile"
    errors = "surrogateescape"

    def __init__(self, inner: BinaryIO, budget: Budget, stop: threading.Event | None) -> None:
        self.inner, self.budget, self.stop = inner, budget, stop
        self.fileobj = self
        self.pax_headers: dict[str, str] = {}
        self.offset = 0  # set by TarInfo: where the next header starts
        self.pos = 0

    def read(self, n: int) -> bytes:
        if self.stop is not None and self.stop.is_set():
            raise Cancelled
        data = self.inner.read(n)
        if 0 < len(data) < n:  # a decoder may stop at a frame or member boundary
            parts = [data]
            got = len(data)
            while got < n and (more := self.inner.read(n - got)):
                parts.append(more)
                got += len(more)
            data = b"".join(parts)
        self.pos += len(data)
        self.budget.spend(len(data))
        return data

    def tell(self) -> int:
        return self.pos

    def exact(self, n: int) -> bytes:
        data = self.read(n)
        if len(data) < n:
            raise EOFError("unexpected end of data")
        return data

    def skip_to(self, offset: int) -> None:
        while self.pos < offset:
            self.exact(min(CHUNK, offset - self.pos))

    def members(self) -> Iterator[tarfile.TarInfo]:
        """Headers in order (GNU long names and pax headers applied by tarfile itself)."""
        while True:
            start = self.pos
            try:
                member = tarfile.TarInfo.fromtarfile(self)  # type: ignore[arg-type]
            except (tarfile.EOFHeaderError, tarfile.EmptyHeaderError):
                if start == 0:
                    raise tarfile.ReadError("empty file") from None
                return  # the end-of-archive zero blocks, or a writer that left them out
            except tarfile.HeaderError as exc:
                raise tarfile.ReadError(f"bad header at byte {start}: {exc}") from None
            yield member
            self.skip_to(self.offset)  # what the member's reader left, and the padding


class _Hashing(io.RawIOBase):
    """The archive file as its decoder reads it, hashed on the way (the cache key's digest)."""

    def __init__(self, raw: BinaryIO, hash) -> None:
        self.raw, self.hash = raw, hash

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        if n:
            self.hash.update(memoryview(buffer)[:n])
        return n

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.hash.update(data)
        return data

    def drain(self) -> None:
        """The rest of the file (tar padding, trailing bytes the decoder never asked for)."""
        while self.read(CHUNK):
            pass


@contextlib.contextmanager
def _open_stream(path: Path, budget: Budget, stop: threading.Event | None, input_hash=None) -> Iterator[_TarStream]:
    with open(path, "rb", buffering=CHUNK) as raw:
        magic = raw.peek(4)[:4]
        source: BinaryIO = _Hashing(raw, input_hash) if input_hash is not None else raw  # type: ignore[assignment]
        if magic.startswith(GZIP_MAGIC):
            inner: BinaryIO = igzip.GzipFile(fileobj=source, mode="rb")
        elif magic.startswith(ZSTD_MAGIC):
            inner = zstandard.ZstdDecompressor().stream_reader(source, read_size=CHUNK, read_across_frames=True)
        else:
            inner = source
        yield _TarStream(inner, budget, stop)
        if isinstance(source, _Hashing):
            source.drain()


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
        with _open_stream(source, ctx.budget, ctx.stop, ctx.input_hash) as stream:
            for member in stream.members():
                member_name = member.name
                _take(stream, member, contents)
    except ArchiveError:
        raise
    except (tarfile.TarError, OSError, EOFError, zstandard.ZstdError, isal_zlib.error) as exc:
        raise _explain(exc, source, member_name) from exc
    return contents


def _take(stream: _TarStream, member: tarfile.TarInfo, contents: Contents) -> None:
    name = safe_name(member.name, contents.source)
    if member.issym() or member.islnk():
        contents.links[name] = _link_target(member, contents.source)
        return
    if not member.isfile():
        return  # folders, devices: not part of any image format
    if member.issparse():
        raise ArchiveError(f"{contents.source}: member {name} is a sparse file", REBUILD)
    if member.size <= min(SMALL, SMALL_TOTAL - contents.small_total):
        contents.small[name] = stream.exact(member.size)
        contents.small_total += member.size
        return
    proc = contents.ctx.processor(f"{contents.source}:{name}")
    try:
        left = member.size
        while left:
            chunk = stream.exact(min(CHUNK, left))
            left -= len(chunk)
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
