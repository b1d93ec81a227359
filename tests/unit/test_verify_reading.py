"""Pure pieces of bounded reading: which paths stay in their folder, which tags a name
document may list, and how a read stops a lying or dripping answer."""

from __future__ import annotations

import pytest

from alba_action.errors import TargetError
from alba_action.grammar import is_digest, is_relative_path
from alba_action.static.plan import checked_tags
from alba_action.targets.retry import Timeouts, TransientError
from alba_action.targets.streams import Stream
from alba_action.verify.checks import platform_folder
from alba_action.verify.reading import DOCUMENT_LIMIT, BadAnswer, Expect, Pace, TooSlow, _drain


@pytest.mark.parametrize("path, ok", [
    ("tool", True), ("share/man/man1/hello.1", True), ("a b/c-d_e.f", True), ("..foo", True), ("foo..", True),
    ("..", False), ("../x", False), ("a/../b", False), ("a/..", False), ("/etc/passwd", False), ("a//b", False),
    ("./a", False), ("a/.", False), ("", False), ("a\\b", False), ("..\\..\\x", False), ("a\0b", False),
    ("a\nb", False), ("a/", False), (None, False), (42, False), (["a"], False), ("x" * 5000, False),
])
def test_relative_paths(path, ok):
    assert is_relative_path(path) is ok


@pytest.mark.parametrize("text, ok", [
    ("sha256:" + "a" * 64, True), ("sha256:" + "A" * 64, False), ("sha256:" + "a" * 63, False),
    ("sha512:" + "a" * 128, False), ("sha256:../../x", False), (None, False),
])
def test_digests(text, ok):
    assert is_digest(text) is ok


@pytest.mark.parametrize("platform, folder", [
    ({"os": "linux", "architecture": "amd64"}, "linux/amd64"),
    ({"os": "linux", "architecture": "arm", "variant": "v7"}, "linux/arm/v7"),
    ({"os": "../..", "architecture": "amd64"}, None), ({"os": "linux/x", "architecture": "amd64"}, None),
    ({"os": "linux", "architecture": "amd64", "variant": ".."}, None), ({"os": "linux"}, None),
    ({"os": 1, "architecture": "amd64"}, None), ("linux/amd64", None), (None, None),
])
def test_platform_folders(platform, folder):
    assert platform_folder({"platform": platform}) == folder


def test_a_name_document_listing_a_path_is_refused():
    assert checked_tags(["1.0", "latest"], "tool", "file:///s") == ["1.0", "latest"]
    for bad in ("../../x", "/etc", "..", "a/b", ".hidden", ""):
        with pytest.raises(TargetError, match="not a tag"):
            checked_tags(["1.0", bad], "tool", "file:///s")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _stream(pieces, length=None, encoding="") -> Stream:
    return Stream(iter(pieces), length, encoding, "GET x")


def _pace(clock=None) -> Pace:
    return Pace(Timeouts(request=4, connect=2), clock or Clock())


def test_a_read_hashes_what_arrives():
    got = _drain(_stream([b"ab", b"c"], 3), Expect.file(3), _pace())
    assert (got.size, got.sha256[:15], got.data) == (3, "sha256:ba7816bf", b"")


@pytest.mark.parametrize("stream, expect, message", [
    (_stream([b"x"] * 10, None), Expect.file(5), "goes on, longer than the 5 bytes"),
    (_stream([b"x"], 1 << 40), Expect.file(5), "announces 1099511627776 bytes, longer than the 5"),
    (_stream([b"x" * 65536] * 100, None), Expect.document(), "past the 4 MiB"),
    (_stream([b"{}"], 2, "gzip"), Expect.document(), "Content-Encoding gzip"),
])
def test_a_read_stops_what_lies(stream, expect, message):
    with pytest.raises(BadAnswer, match=message):
        _drain(stream, expect, _pace())


def test_an_encoded_file_is_taken_as_its_bytes():
    got = _drain(_stream([b"\x1f\x8b..."], 5, "gzip"), Expect.file(5), _pace())
    assert got.size == 5


def test_an_answer_shorter_than_announced_is_retried():
    with pytest.raises(TransientError, match="stopped at 3 of its 10 bytes"):
        _drain(_stream([b"abc"], 10), Expect.file(10), _pace())


def test_a_drip_ends_after_the_header_time():
    clock = Clock()

    def drip():
        for _ in range(1000):
            clock.now += 2.0
            yield b"{"

    with pytest.raises(TooSlow, match=r"4 bytes in 8 s") as err:
        _drain(_stream(drip(), 100), Expect.document(100), _pace(clock))
    assert "ALBA_REQUEST_TIMEOUT_SECONDS" in err.value.fix


def test_a_fast_large_answer_is_never_too_slow():
    clock = Clock()

    def fast():
        for _ in range(64):
            clock.now += 0.5  # 1 MiB in half a second: twice the minimum
            yield b"x" * (1 << 20)

    got = _drain(_stream(fast(), 64 << 20), Expect.file(64 << 20), _pace(clock))
    assert got.size == 64 << 20


def test_limits():
    assert Expect.document().most == DOCUMENT_LIMIT
    assert Expect.file(None).most == 16 << 30
    assert Expect.file(-1).size is None and Expect.file(True).size is None
