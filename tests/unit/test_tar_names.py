"""The tar member reader that SBOMs use agrees with tarfile on ustar, GNU and PAX archives."""

from __future__ import annotations

import io
import tarfile

import pytest

from alba_action.attest.tar_names import TarFormatError, entries

LONG = "nix/store/0c7c96gikmzv87i7lv3vq5s1cmfjd6zf-python3.11-requests-2.31.0/lib/python3.11/site-packages/" \
       "requests/packages/urllib3/contrib/_securetransport/low_level.py"


def archive(fmt: int, members: list[tuple[str, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


MEMBERS = [("nix/store", None), (LONG, b"x" * 1000), ("./var/lib/dpkg/status", b"Package: a\n"),
           ("etc/" + "d" * 90 + "/" + "f" * 90, b""), ("usr/share/doc/caf\u00e9.txt", "\u00e9".encode()),
           ("big", bytes(5000))]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_names_sizes_and_kinds_match_tarfile(fmt):
    members = [m for m in MEMBERS if fmt != tarfile.USTAR_FORMAT or m[0] != LONG]  # ustar: 100+155 at most
    data = archive(fmt, members)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        expected = [(m.name, m.type, m.size) for m in tar.getmembers()]
    got = [(e.name.rstrip("/"), e.kind, e.size) for e in entries(io.BytesIO(data))]  # tarfile drops a folder's /
    assert got == expected and len(got) == len(members)


def test_wanted_members_come_with_their_bytes():
    data = archive(tarfile.PAX_FORMAT, MEMBERS)
    got = {e.name: e.data for e in entries(io.BytesIO(data), lambda name, kind, size: name.endswith("status"))}
    assert got["./var/lib/dpkg/status"] == b"Package: a\n"
    assert got[LONG] is None and got["big"] is None


def test_damaged_and_cut_archives_are_errors():
    data = bytearray(archive(tarfile.PAX_FORMAT, MEMBERS))
    with pytest.raises(TarFormatError, match="ends inside a header"):
        list(entries(io.BytesIO(bytes(data[:512 * 3 + 100]))))
    with pytest.raises(TarFormatError, match="ends inside a member"):
        list(entries(io.BytesIO(bytes(data[:512 * 4 + 100]))))
    data[1] ^= 0xFF
    with pytest.raises(TarFormatError, match="checksum"):
        list(entries(io.BytesIO(bytes(data))))
    with pytest.raises(TarFormatError, match="no tar header"):
        list(entries(io.BytesIO(b"not a tar at all" * 64)))


def test_a_stream_that_ends_after_the_last_members_bytes_is_read_whole():
    """umoci and some other writers leave out the last member's padding and the end blocks."""
    data = archive(tarfile.USTAR_FORMAT, [("a", b"x" * 700), ("hello.txt", b"hello\n")])
    cut = data[:512 * 4 + 6]  # a's header and 2 blocks, hello's header, then its 6 bytes only
    assert [(e.name, e.size) for e in entries(io.BytesIO(cut))] == [("a", 700), ("hello.txt", 6)]
    with pytest.raises(TarFormatError, match="ends inside a member"):
        list(entries(io.BytesIO(cut[:-1])))  # a byte of the member itself missing is still an error
