"""An object read as it arrives, whatever holds it (a folder, a bucket, a registry, a
website): its announced length and content encoding, and its bytes in pieces of at most
CHUNK, each handed over as soon as it is there (a slow answer is seen between pieces)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from alba_action.targets.retry import TransientError

CHUNK = 1 << 16


@dataclass
class Stream:
    chunks: Iterator[bytes]
    length: int | None = None  # Content-Length (or the file's size), None when not announced
    encoding: str = ""  # Content-Encoding as answered ("" or "identity": the bytes as stored)
    where: str = ""


def read1_chunks(read1: Callable[[int], bytes], where: str,
                 failures: tuple[type[BaseException], ...] = (OSError,)) -> Iterator[bytes]:
    """Pieces from a `read1`-like call (returns what arrived, b"" at the end); a dropped or
    cut answer is a TransientError, as every target reports it."""
    while True:
        try:
            piece = read1(CHUNK)
        except failures as err:
            raise TransientError(f"{where}: the answer was cut ({type(err).__name__})") from None
        if not piece:
            return
        yield piece
