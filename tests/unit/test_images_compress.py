"""Compression output is a contract: fixed bytes for fixed input, whatever the thread count."""

from __future__ import annotations

import gzip
import hashlib
import random
from concurrent.futures import ThreadPoolExecutor

import pytest
import zstandard

from alba_action.images.compress import make_encoder

DATA = random.Random(7).randbytes(300_000) * 4 + b"alba " * 700_000  # ~4.7 MB, 5 blocks
# If these change, every published layer digest changes: CODEC_ID must change too (it keys
# the image cache), and the README says so.
EXPECTED = {
    "gzip": "881bc58a5a73afae9023ed86fcbfe2827cf1e2b31b19db88b242bc26e0db0c7d",
    "zstd": "668b4958a04719893297d7cebec135cf1cc6e872d35f4dd29e57d292f232208d",
    "none": hashlib.sha256(DATA).hexdigest()}


def encode(compression: str, threads: int, piece: int) -> bytes:
    out = bytearray()
    with ThreadPoolExecutor(threads) as pool:
        enc = make_encoder(compression, out.extend, pool)
        for i in range(0, len(DATA), piece):
            enc.write(DATA[i : i + piece])
        enc.finish()
    return bytes(out)


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_output_does_not_depend_on_threads_or_write_sizes(compression):
    outputs = {encode(compression, threads, piece) for threads, piece in [(1, 1 << 20), (2, 65_536), (4, 3_000_001)]}
    assert len(outputs) == 1
    (out,) = outputs
    back = {"gzip": gzip.decompress, "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
            "none": bytes}[compression](out)
    assert back == DATA
    if EXPECTED[compression]:
        assert hashlib.sha256(out).hexdigest() == EXPECTED[compression]


def test_gzip_header_is_fixed():
    out = encode("gzip", 2, 1 << 20)
    assert out[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no mtime, no name, OS unknown


def test_incompressible_blocks_are_stored_and_compressible_ones_deflated():
    from alba_action.images.compress import BLOCK, incompressible

    noise = random.Random(11).randbytes(BLOCK)
    text = (b"alba publishes what a pipeline built\n" * 40_000)[:BLOCK]
    assert incompressible(noise) and not incompressible(text)
    out = bytearray()
    with ThreadPoolExecutor(2) as pool:
        enc = make_encoder("gzip", out.extend, pool)
        enc.write(noise)
        enc.write(text)
        enc.finish()
    assert gzip.decompress(bytes(out)) == noise + text
    # header 10 + noise in 16 stored blocks of 5-byte headers + the text, deflated + trailer
    stored = len(noise) + 5 * -(-len(noise) // 0xFFFF)
    assert stored + 10 < len(out) < stored + 10 + len(text) // 20
    assert bytes(out[10:15]) == b"\x00\xff\xff\x00\x00"  # a stored block of 65535 bytes, not final
