"""Reads that a lying server cannot stretch: `read(opener, key, expect, …)` hashes the bytes
as they arrive (a 2 GB file costs one piece of memory), stops at the size a document
declared, keeps at most DOCUMENT_LIMIT of a document, never inflates a content encoding,
and gives up on an answer that drips slower than the run's minimum throughput. The whole
read is the unit the run's retry budget retries: an answer cut halfway starts over."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from alba_action.errors import TargetError
from alba_action.targets.retry import RetryBudget, Timeouts, TransientError, retrying
from alba_action.targets.streams import Stream

DOCUMENT_LIMIT = 4 << 20  # tag and name documents, manifests, indexes: registries allow 4 MiB too
UNDECLARED_LIMIT = 16 << 30  # a file whose document gives no size (documents of the original tool)
IDENTITY = ("", "identity")


class BadAnswer(TargetError):
    """What a server answered cannot be what was published (too long, encoded, a path that
    leaves its folder): a problem of the release, reported, never retried."""


class TooSlow(TargetError):
    """An answer that arrives slower than the run's minimum throughput (a drip)."""


@dataclass(frozen=True)
class Expect:
    """What a read may receive: exactly `size` bytes when a document declared it, at most
    `limit`; `keep` the bytes (a document) or only hash them; `blake2b` for minisign."""

    size: int | None = None
    limit: int = DOCUMENT_LIMIT
    keep: bool = True
    blake2b: bool = False

    @classmethod
    def file(cls, size: object, blake2b: bool = False) -> "Expect":
        declared = size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None
        return cls(declared, UNDECLARED_LIMIT if declared is None else declared, keep=False, blake2b=blake2b)

    @classmethod
    def document(cls, size: object = None) -> "Expect":
        declared = size if isinstance(size, int) and not isinstance(size, bool) and 0 <= size else None
        return cls(declared, DOCUMENT_LIMIT)

    @property
    def most(self) -> int:
        return min(self.limit, self.size) if self.size is not None else self.limit


class Got:
    """The size and digests of what arrived, and its bytes when kept."""

    def __init__(self, expect: Expect) -> None:
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._blake2b = hashlib.blake2b() if expect.blake2b else None
        self._data = bytearray() if expect.keep else None

    def update(self, piece: bytes) -> None:
        self.size += len(piece)
        self._sha256.update(piece)
        if self._blake2b is not None:
            self._blake2b.update(piece)
        if self._data is not None:
            self._data += piece

    @property
    def sha256(self) -> str:
        return "sha256:" + self._sha256.hexdigest()

    @property
    def blake2b(self) -> bytes:
        return self._blake2b.digest() if self._blake2b is not None else b""

    @property
    def data(self) -> bytes:
        return bytes(self._data) if self._data is not None else b""


class Pace:
    """An answer must keep up: after `connect + request` seconds, at least `min_throughput`
    bytes a second on average. A 1 byte / 2 s drip ends in seconds, whatever its length;
    a silent server is the socket timeout's (retried)."""

    def __init__(self, timeouts: Timeouts, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeouts, self.clock = timeouts, clock
        self.started = clock()

    @property
    def header_seconds(self) -> float:
        """How long the status line and headers may take."""
        return self.timeouts.connect + self.timeouts.request

    def check(self, received: int, where: str) -> None:
        elapsed = self.clock() - self.started
        if elapsed > self.header_seconds + received / self.timeouts.min_throughput:
            raise TooSlow(f"{where}: {received} bytes in {elapsed:.0f} s, slower than "
                          f"{self.timeouts.min_throughput / (1 << 20):g} MiB/s",
                          "the server stalls its answers; check the URL and the server, or raise "
                          "ALBA_REQUEST_TIMEOUT_SECONDS for a slow link")


# Opens KEY for one attempt: a Stream, or None when the source has no such object.
Opener = Callable[[str, Pace], AbstractContextManager[Stream | None]]


def read(opener: Opener, key: str, expect: Expect, budget: RetryBudget, timeouts: Timeouts) -> Got | None:
    """KEY's bytes as `expect` allows, under the retry budget; None when missing."""
    def once() -> Got | None:
        pace = Pace(timeouts)
        with opener(key, pace) as stream:
            return None if stream is None else _drain(stream, expect, pace)

    return retrying(budget, once)


def _drain(stream: Stream, expect: Expect, pace: Pace) -> Got:
    where = stream.where
    if expect.keep and stream.encoding.lower() not in IDENTITY:
        raise BadAnswer(f"{where}: answered with Content-Encoding {stream.encoding} though alba asked for none",
                        "serve documents as stored (no compression on the fly); nothing was inflated")
    if stream.length is not None and stream.length > expect.most:
        raise _too_long(where, expect, stream.length)
    got = Got(expect)
    for piece in stream.chunks:
        if got.size + len(piece) > expect.most:
            raise _too_long(where, expect, None)
        got.update(piece)
        pace.check(got.size, where)
    if stream.length is not None and got.size < stream.length:
        raise TransientError(f"{where}: the answer stopped at {got.size} of its {stream.length} bytes")
    return got


def _too_long(where: str, expect: Expect, announced: int | None) -> BadAnswer:
    said = f"announces {announced} bytes" if announced is not None else "goes on"
    if expect.size is not None and expect.size <= expect.limit:
        return BadAnswer(f"{where}: {said}, longer than the {expect.size} bytes its document declares",
                         "the server or the object is not what was published; publish it again")
    return BadAnswer(f"{where}: {said}, past the {expect.limit >> 20} MiB a document may have",
                     "this is no document alba wrote; check the URL and what the server sends")
