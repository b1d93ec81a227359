"""Deterministic layer compression: the same bytes in give the same bytes out, everywhere.

gzip: deflate with ISA-L (python-isal) level 2 in independent 1 MiB blocks, pigz-style:
each block is primed with the previous block's last 32 KiB and ends in a sync flush, so
blocks compress in parallel on a thread pool (ISA-L releases the GIL) while the output is
one ordinary gzip member, identical whatever the thread count. Header fixed: mtime 0, no
name, XFL 0, OS 255 (unknown, as Go's compress/gzip writes). ISA-L's streaming output
depends on how input is split, hence the fixed blocks; its bytes are fixed for a given
isal version on x86-64 with SSE4.2 or later (see CODEC_ID, which keys the cache).
Measured on 2 cores (text-like data): stdlib zlib level 6 45 MB/s, zlib-ng level 1
190 MB/s, isal level 2 ~360 MB/s per core, ~540 MB/s on 2 threads, ratio 0.33.

Incompressible blocks (already compressed files, random data) are written as deflate
"stored" blocks at copy speed instead of being run through the compressor, which would
only emit stored blocks itself after 2.6 ms per MiB. The rule is a pure function of the
block: four 8 KiB samples at fixed offsets, deflated at ISA-L level 1, come out at 97 %
of their size or more. Its name is part of CODEC_ID, so a change of rule is a new cache key.

zstd: zstandard level 3, multi-threaded. zstd's output with workers >= 1 does not depend
on the number of workers (only 0 vs >= 1 differ), so workers are always >= 1.
"""

from __future__ import annotations

import collections
import os
import struct
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Callable

import isal
import isal.isal_zlib as isal_zlib
import zstandard

from alba_action.images.model import OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD

COMPRESSIONS = ("gzip", "zstd", "none")
MEDIA_TYPES = {"gzip": OCI_LAYER_GZIP, "zstd": OCI_LAYER_ZSTD, "none": OCI_LAYER_TAR}
GZIP_LEVEL = 2
ZSTD_LEVEL = 3
BLOCK = 1 << 20
WINDOW = 32 << 10
SAMPLES, SAMPLE = 4, 8 << 10  # the incompressibility test: where it looks
STORED_RATIO = 0.97
STORED_MAX = 0xFFFF  # a stored block's length field is 16 bits
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
FINAL_EMPTY_BLOCK = b"\x03\x00"  # a last, empty fixed-Huffman block: ends the deflate stream
CODEC_ID = {
    "gzip": f"isal-{isal.__version__}-l{GZIP_LEVEL}-b{BLOCK}-s{SAMPLES}x{SAMPLE}@{STORED_RATIO}",
    "zstd": f"zstd-{'.'.join(map(str, zstandard.ZSTD_VERSION))}-l{ZSTD_LEVEL}-mt",
    "none": "none",
}

Sink = Callable[[bytes], None]


def cpu_count() -> int:
    """Cores this process may use (a CI container may get fewer than the host has)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def make_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=cpu_count(), thread_name_prefix="alba-compress")


def incompressible(block: bytes) -> bool:
    """Whether samples of the block barely compress (the stored-block rule, see above)."""
    step = len(block) // SAMPLES
    sample = block if step <= SAMPLE else b"".join(block[i * step : i * step + SAMPLE] for i in range(SAMPLES))
    return len(isal_zlib.compress(sample, 1, -15)) >= STORED_RATIO * len(sample)


def stored_blocks(block: bytes) -> bytes:
    """The block as deflate stored blocks (not final); the stream is byte-aligned before and after."""
    view, parts = memoryview(block), []
    for i in range(0, len(block), STORED_MAX):
        piece = view[i : i + STORED_MAX]
        parts.append(struct.pack("<BHH", 0, len(piece), len(piece) ^ 0xFFFF))
        parts.append(piece)
    return b"".join(parts)


def _deflate_block(block: bytes, window: bytes) -> bytes:
    if incompressible(block):
        return stored_blocks(block)
    co = isal_zlib.compressobj(GZIP_LEVEL, isal_zlib.DEFLATED, -15, isal_zlib.DEF_MEM_LEVEL, 0, window)
    return co.compress(block) + co.flush(isal_zlib.Z_SYNC_FLUSH)


class GzipEncoder:
    """Parallel, deterministic gzip of a stream written in pieces of any size."""

    def __init__(self, sink: Sink, pool: Executor) -> None:
        self._sink, self._pool = sink, pool
        self._buf = bytearray()
        self._window = b""
        self._pending: collections.deque[Future[bytes]] = collections.deque()
        self._max_pending = 2 * getattr(pool, "_max_workers", 2) + 1  # bounds memory
        self._crc = 0
        self._size = 0
        sink(GZIP_HEADER)

    def write(self, data: bytes) -> None:
        if not self._buf and len(data) == BLOCK:  # the archive reader's usual piece: no copy
            self._submit(data)
            return
        self._buf += data
        while len(self._buf) >= BLOCK:
            self._submit(bytes(self._buf[:BLOCK]))
            del self._buf[:BLOCK]

    def _submit(self, block: bytes) -> None:
        self._crc = isal_zlib.crc32(block, self._crc)
        self._size += len(block)
        self._pending.append(self._pool.submit(_deflate_block, block, self._window))
        self._window = block[-WINDOW:]
        while len(self._pending) > self._max_pending:
            self._sink(self._pending.popleft().result())

    def finish(self) -> None:
        if self._buf:
            self._submit(bytes(self._buf))
            self._buf.clear()
        while self._pending:
            self._sink(self._pending.popleft().result())
        self._sink(FINAL_EMPTY_BLOCK + struct.pack("<II", self._crc, self._size & 0xFFFFFFFF))


class ZstdEncoder:
    """zstd with fixed parameters; zstd's own worker threads do the parallel part."""

    def __init__(self, sink: Sink, pool: Executor | None = None) -> None:
        self._sink = sink
        params = zstandard.ZstdCompressionParameters.from_level(
            ZSTD_LEVEL, threads=cpu_count(), write_content_size=False, write_checksum=False
        )
        self._obj = zstandard.ZstdCompressor(compression_params=params).compressobj()

    def write(self, data: bytes) -> None:
        out = self._obj.compress(data)
        if out:
            self._sink(out)

    def finish(self) -> None:
        self._sink(self._obj.flush())


class PlainEncoder:
    """--compression none: layers published as plain tars."""

    def __init__(self, sink: Sink, pool: Executor | None = None) -> None:
        self._sink = sink

    def write(self, data: bytes) -> None:
        self._sink(data)

    def finish(self) -> None:
        pass


ENCODERS = {"gzip": GzipEncoder, "zstd": ZstdEncoder, "none": PlainEncoder}


def make_encoder(compression: str, sink: Sink, pool: Executor) -> GzipEncoder | ZstdEncoder | PlainEncoder:
    return ENCODERS[compression](sink, pool)
