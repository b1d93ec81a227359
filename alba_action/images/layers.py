"""One layer, streamed once: hash its tar (the diff_id) while compressing it into the store.

A layer that arrives already compressed (gzip or zstd magic) is kept byte for byte — its
digest is that of the compressed bytes — and only decompressed to compute its diff_id.
Every decompressed byte is charged to the archive's Budget (the decompression-bomb cap).
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import isal.isal_zlib as isal_zlib
import zstandard

from alba_action.errors import ArchiveError
from alba_action.images.compress import MEDIA_TYPES, make_encoder
from alba_action.images.model import OCI_LAYER_GZIP, OCI_LAYER_ZSTD, Blob
from alba_action.images.store import BlobStore

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 20


class Budget:
    """The cap on uncompressed bytes read from one archive."""

    def __init__(self, limit: int, archive: Path) -> None:
        self.limit, self.archive, self.used = limit, archive, 0

    def spend(self, n: int, member: str = "") -> None:
        self.used += n
        if self.used > self.limit:
            where = f" (at {member})" if member else ""
            raise ArchiveError(
                f"{self.archive}: more than {self.limit} bytes once uncompressed{where}; "
                "it looks like a decompression bomb",
                "if the image really is that large, raise the cap with --max-uncompressed-size",
            )


@dataclass(frozen=True)
class LayerResult:
    diff_id: str  # sha256 of the uncompressed tar
    raw_digest: str  # sha256 of the member's bytes as found (OCI blob names use it)
    blob: Blob  # what gets published
    member: str = ""  # "<archive>:<member>", for messages


class _DiffHasher:
    """A writable sink that hashes decompressed bytes and charges them to the budget."""

    def __init__(self, budget: Budget, member: str) -> None:
        self.hash, self.budget, self.member = hashlib.sha256(), budget, member

    def write(self, data: bytes) -> int:
        self.budget.spend(len(data), self.member)
        self.hash.update(data)
        return len(data)


class _GunzipCheck:
    """Inflates gzip members one after another, in bounded pieces (a bomb stays small)."""

    def __init__(self, out: _DiffHasher) -> None:
        self.out, self.obj = out, isal_zlib.decompressobj(31)

    def write(self, data: bytes) -> None:
        while data:
            if self.obj.eof:  # concatenated members are one valid gzip stream
                self.obj = isal_zlib.decompressobj(31)
            self.out.write(self.obj.decompress(data, CHUNK))
            data = self.obj.unconsumed_tail or self.obj.unused_data

    def finish(self) -> None:
        if not self.obj.eof:
            raise EOFError("compressed layer ended before its end marker")


class _UnzstdCheck:
    def __init__(self, out: _DiffHasher) -> None:
        self.writer = zstandard.ZstdDecompressor().stream_writer(out, write_size=CHUNK, closefd=False)

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def finish(self) -> None:
        self.writer.flush()


class LayerProcessor:
    """Feed a member's bytes in any pieces, then finish() to get the published blob."""

    def __init__(self, store: BlobStore, compression: str, pool: Executor, budget: Budget, member: str,
                 on_blob: Callable[[Blob], None] | None = None) -> None:
        """`on_blob`: told of the layer's file as soon as it is complete."""
        self.store, self.compression, self.pool, self.member = store, compression, pool, member
        self.on_blob = on_blob
        self.writer = store.writer()
        self.diff = _DiffHasher(budget, member)
        self.raw = hashlib.sha256()  # the compressed bytes of a kept layer (a plain tar's is its diff_id)
        self.mode = ""  # "keep-gzip", "keep-zstd" or "encode", decided on the first bytes
        self._head = b""

    def feed(self, data: bytes) -> None:
        if not self.mode:
            self._head += data
            if len(self._head) < 4:
                return
            data, self._head = self._head, b""
            self._start(data)
        with self._reporting():
            self._sink.write(data)

    @contextlib.contextmanager
    def _reporting(self):
        """Decoder failures become an ArchiveError naming the member; the temp file goes."""
        try:
            yield
        except (OSError, EOFError, zstandard.ZstdError, isal_zlib.error) as exc:
            self.writer.discard()
            raise ArchiveError(
                f"layer {self.member}: corrupt or truncated compressed data ({exc})",
                "rebuild the archive; it was damaged or cut short",
            ) from exc
        except BaseException:
            self.writer.discard()
            raise

    def _start(self, head: bytes) -> None:
        if head.startswith(GZIP_MAGIC):
            self.mode, self.media_type, check = "keep-gzip", OCI_LAYER_GZIP, _GunzipCheck(self.diff)
        elif head.startswith(ZSTD_MAGIC):
            self.mode, self.media_type, check = "keep-zstd", OCI_LAYER_ZSTD, _UnzstdCheck(self.diff)
        else:
            self.mode, self.media_type = "encode", MEDIA_TYPES[self.compression]
            self._sink = _Encode(self)
            return
        self._sink = _Keep(self.writer, self.raw, check)

    def finish(self) -> LayerResult:
        with self._reporting():
            if not self.mode:  # fewer than 4 bytes: not compressed, whatever it is
                data, self._head = self._head, b""
                self._start(data + b"\0\0\0\0")
                self._sink.write(data)
            self._sink.finish()
        blob = self.store.commit(self.writer, self.media_type)
        if self.on_blob is not None:
            self.on_blob(blob)
        diff_id = "sha256:" + self.diff.hash.hexdigest()
        raw = diff_id if self.mode == "encode" else "sha256:" + self.raw.hexdigest()  # a plain tar is hashed once
        return LayerResult(diff_id, raw, blob, self.member)

    def abort(self) -> None:
        self.writer.discard()


class _Keep:
    """Already compressed: copy as is, decompress only to check the diff_id."""

    def __init__(self, writer, raw, check) -> None:
        self.writer, self.raw, self.check = writer, raw, check

    def write(self, data: bytes) -> None:
        self.raw.update(data)
        self.writer.write(data)
        self.check.write(data)

    def finish(self) -> None:
        self.check.finish()


class _Encode:
    """A plain tar: hash it (that is the diff_id) and compress it."""

    def __init__(self, proc: LayerProcessor) -> None:
        self.diff = proc.diff
        self.out = _OrderedWriter(proc.writer.write)
        self.encoder = make_encoder(proc.compression, self.out.write, proc.pool)

    def write(self, data: bytes) -> None:
        self.diff.hash.update(data)  # already charged: these bytes came out of the archive stream
        self.encoder.write(data)

    def finish(self) -> None:
        try:
            self.encoder.finish()
        finally:
            self.out.close()


class _OrderedWriter:
    """Hash-and-write of the compressed output on its own thread, in order, a few blocks behind.

    The reading thread (inflate, tar, diff_id hash) is the critical path on 2 cores;
    hashlib and file writes release the GIL, so this overlaps with it.
    """

    def __init__(self, write) -> None:
        self._write = write
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alba-write")
        self._pending: collections.deque[Future] = collections.deque()

    def write(self, data: bytes) -> None:
        self._pending.append(self._thread.submit(self._write, data))
        while len(self._pending) > 4:  # bounds memory; also surfaces write errors early
            self._pending.popleft().result()

    def close(self) -> None:
        try:
            while self._pending:
                self._pending.popleft().result()
        finally:
            self._thread.shutdown(wait=True)


def process_bytes(data: bytes, **kwargs) -> LayerResult:
    """A small member that turned out to be a layer: same path as a streamed one."""
    proc = LayerProcessor(**kwargs)
    for i in range(0, len(data), CHUNK):
        proc.feed(data[i : i + CHUNK])
    return proc.finish()
