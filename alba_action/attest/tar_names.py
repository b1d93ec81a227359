"""The member names of a tar stream, read header by header, and the bytes of the few members
asked for: what an SBOM needs from a layer, without tarfile's full TarInfo for each member.

Measured on a 612 MiB layer of 160,000 members: tarfile's stream mode spends 35 µs a member
(5.7 s) building objects whose fields an SBOM never reads; this reader takes a few µs.
Formats: POSIX ustar (with its name prefix), PAX extended headers (`path`, `size`) and GNU
long names — what docker, buildkit, Nix and Go's archive/tar write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

BLOCK = 512
CHUNK = 1 << 20
REGULAR = (b"0", b"\0", b"7")


class TarFormatError(ValueError):
    """Bytes that are no tar header (or a checksum that does not match)."""


@dataclass(frozen=True)
class Entry:
    name: str
    kind: bytes  # the typeflag: b"0" file, b"5" folder, b"2" symlink, …
    size: int
    data: bytes | None = None  # only for the members `want` asked for


class _Reader:
    """Buffered reads and skips over a (possibly decompressing) stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream, self._buf, self._at = stream, b"", 0

    def take(self, n: int) -> bytes:
        while len(self._buf) - self._at < n:
            more = self._stream.read(max(CHUNK, n))
            if not more:
                break
            self._buf, self._at = self._buf[self._at:] + more, 0
        out = self._buf[self._at:self._at + n]
        self._at += len(out)
        return out

    def skip(self, n: int, to_end: bool = False) -> None:
        """Skip n bytes; `to_end`: the stream may end first (a last member's padding left out)."""
        held = len(self._buf) - self._at
        if n <= held:
            self._at += n
            return
        n -= held
        self._buf, self._at = b"", 0
        while n > 0:
            got = self._stream.read(min(n, CHUNK))
            if not got:
                if to_end:
                    return
                raise TarFormatError("the tar ends inside a member")
            n -= len(got)


def entries(stream: BinaryIO, want: Callable[[str, bytes, int], bool] = lambda *_: False) -> Iterator[Entry]:
    """Every member, in order; `want(name, kind, size)` says whose bytes to read."""
    reader = _Reader(stream)
    long_name, pax = None, {}
    while True:
        header = reader.take(BLOCK)
        if not header or header == bytes(BLOCK):
            return  # the end-of-archive blocks (or, as tarfile allows, the end of the stream)
        if len(header) < BLOCK:
            raise TarFormatError("the tar ends inside a header")
        kind, size = _check(header)
        size = int(pax["size"]) if "size" in pax else size
        padded = -(-size // BLOCK) * BLOCK
        if kind in (b"L", b"x", b"g"):
            body = _body(reader, padded, size)
            if kind == b"L":
                long_name = body.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif kind == b"x":
                pax = _pax(body)
            continue
        name = pax.get("path") or long_name or _name(header)
        long_name, pax = None, {}
        if want(name, kind, size):
            yield Entry(name, kind, size, _body(reader, padded, size))
        else:
            # Some writers end the stream right after the last member's bytes, without its
            # padding or the end-of-archive blocks; docker and podman accept such layers.
            reader.skip(size)
            reader.skip(padded - size, to_end=True)
            yield Entry(name, kind, size)


def _body(reader: _Reader, padded: int, size: int) -> bytes:
    data = reader.take(padded)
    if len(data) < size:
        raise TarFormatError("the tar ends inside a member")
    return data[:size]


def _check(header: bytes) -> tuple[bytes, int]:
    stored = header[148:156].split(b"\0", 1)[0].strip()
    try:
        expected = int(stored, 8)
    except ValueError:
        raise TarFormatError("no tar header here") from None
    if expected != sum(header) - sum(header[148:156]) + 256:  # the checksum field counts as 8 spaces
        raise TarFormatError("a tar header's checksum does not match")
    return header[156:157], _size(header[124:136])


def _size(field: bytes) -> int:
    if field[0] & 0x80:  # GNU base-256, for members of 8 GiB and more
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip()
    return int(text, 8) if text else 0


def _name(header: bytes) -> str:
    name = header[:100].split(b"\0", 1)[0]
    if header[257:263] == b"ustar\0":  # POSIX: a prefix for names longer than 100 bytes
        prefix = header[345:500].split(b"\0", 1)[0]
        if prefix:
            name = prefix + b"/" + name
    return name.decode("utf-8", "surrogateescape")


def _pax(body: bytes) -> dict[str, str]:
    """`<length> <key>=<value>\\n` records (POSIX pax extended header)."""
    out, at = {}, 0
    while at < len(body):
        space = body.index(b" ", at)
        length = int(body[at:space])
        if length <= 0:
            raise TarFormatError("a pax record with no length")
        key, _, value = body[space + 1:at + length - 1].partition(b"=")
        out[key.decode()] = value.decode("utf-8", "surrogateescape")
        at += length
    return out
