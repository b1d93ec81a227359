"""alba_action.grammar: OCI names and tags, booleans, sizes, durations, compact JSON."""

from __future__ import annotations

import pytest

from alba_action.grammar import MAX_TAG, compact_json, is_name, is_tag, parse_bool, parse_duration, parse_size

# -- OCI tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, ok",
    [
        pytest.param("a", True, id="one-letter"),
        pytest.param("A", True, id="upper-case"),
        pytest.param("_a", True, id="leading-underscore"),
        pytest.param("0.9", True, id="version"),
        pytest.param("v1.0.0-rc.1", True, id="pre-release"),
        pytest.param("a..b", True, id="double-dot-inside"),
        pytest.param("a--b", True, id="double-dash-inside"),
        pytest.param("a" * MAX_TAG, True, id="128-chars"),
        pytest.param("a" * (MAX_TAG + 1), False, id="129-chars"),
        pytest.param(".a", False, id="leading-dot"),
        pytest.param("-a", False, id="leading-dash"),
        pytest.param("", False, id="empty"),
        pytest.param("1.0+build", False, id="plus-sign"),
        pytest.param("a b", False, id="space"),
        pytest.param("a/b", False, id="slash"),
        pytest.param("a:b", False, id="colon"),
        pytest.param("é", False, id="non-ascii-letter"),
        pytest.param("\u0661", False, id="non-ascii-digit"),
        pytest.param("a\n", False, id="trailing-newline"),
    ],
)
def test_is_tag(text: str, ok: bool) -> None:
    assert is_tag(text) is ok


# -- OCI names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, multi, single",
    [
        pytest.param("albatros", True, True, id="plain"),
        pytest.param("0", True, True, id="digit"),
        pytest.param("a.b", True, True, id="dot"),
        pytest.param("a_b", True, True, id="underscore"),
        pytest.param("a__b", True, True, id="double-underscore"),
        pytest.param("a-b", True, True, id="dash"),
        pytest.param("a--b", True, True, id="dash-run"),
        pytest.param("team/app", True, False, id="two-components"),
        pytest.param("a/b/c", True, False, id="three-components"),
        pytest.param("a___b", False, False, id="triple-underscore"),
        pytest.param("a..b", False, False, id="double-dot"),
        pytest.param("a.-b", False, False, id="dot-dash"),
        pytest.param("a_-b", False, False, id="underscore-dash"),
        pytest.param("A", False, False, id="upper-case"),
        pytest.param("a/", False, False, id="trailing-slash"),
        pytest.param("/a", False, False, id="leading-slash"),
        pytest.param("a//b", False, False, id="empty-component"),
        pytest.param("-a", False, False, id="leading-dash"),
        pytest.param("a-", False, False, id="trailing-dash"),
        pytest.param("", False, False, id="empty"),
        pytest.param("ä", False, False, id="non-ascii"),
        pytest.param("a" * 255, True, True, id="255-chars"),
        pytest.param("a" * 256, False, False, id="256-chars"),
    ],
)
def test_is_name(text: str, multi: bool, single: bool) -> None:
    assert is_name(text) is multi
    assert is_name(text, single=True) is single


# -- booleans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("true", True, id="true"),
        pytest.param("TRUE", True, id="TRUE"),
        pytest.param(" yes ", True, id="yes-padded"),
        pytest.param("On", True, id="On"),
        pytest.param("1", True, id="one"),
        pytest.param(1, True, id="int-1"),
        pytest.param(True, True, id="bool-True"),
        pytest.param("false", False, id="false"),
        pytest.param("No", False, id="No"),
        pytest.param("off", False, id="off"),
        pytest.param("0", False, id="zero"),
        pytest.param(0, False, id="int-0"),
        pytest.param(False, False, id="bool-False"),
    ],
)
def test_parse_bool(value, expected: bool) -> None:
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["", "y", "enabled", None, 2, "truee"], ids=repr)
def test_parse_bool_refuses(value) -> None:
    with pytest.raises(ValueError, match="is not a boolean; write true or false") as err:
        parse_bool(value)
    assert repr(value) in str(err.value)


# -- sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("4096", 4096, id="bytes"),
        pytest.param("0", 0, id="zero-string"),
        pytest.param("1k", 1024, id="k-lower"),
        pytest.param("2KB", 2048, id="KB"),
        pytest.param("3kib", 3072, id="kib"),
        pytest.param("512M", 512 << 20, id="M"),
        pytest.param("16G", 16 << 30, id="G"),
        pytest.param("1.5GiB", 3 << 29, id="fraction-GiB"),
        pytest.param("1T", 1 << 40, id="T"),
        pytest.param("5B", 5, id="B"),
        pytest.param("  7m  ", 7 << 20, id="padded-lower-m-is-MiB"),
        pytest.param("8 M", 8 << 20, id="space-before-unit"),
        pytest.param("1.9999", 1, id="fraction-of-byte-truncated"),
        pytest.param(10, 10, id="int"),
        pytest.param(None, None, id="None"),
        pytest.param("", None, id="empty"),
        pytest.param(0, None, id="int-zero-is-unset"),
    ],
)
def test_parse_size(value, expected) -> None:
    assert parse_size(value) == expected


@pytest.mark.parametrize("value", ["lots", "1P", "1.M", "M", "-1M", "1 0"], ids=repr)
def test_parse_size_refuses(value) -> None:
    with pytest.raises(ValueError, match="is not a size; write e.g. 512M or 16G"):
        parse_size(value)


# -- durations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param("90", 90.0, id="bare-seconds"),
        pytest.param("90s", 90.0, id="s"),
        pytest.param("15m", 900.0, id="m"),
        pytest.param("10M", 600.0, id="M-is-minutes"),
        pytest.param("1h", 3600.0, id="h"),
        pytest.param("1.5h", 5400.0, id="fraction-h"),
        pytest.param("2d", 172800.0, id="d"),
        pytest.param("1D", 86400.0, id="D"),
        pytest.param("250ms", 0.25, id="ms"),
        pytest.param("0", 0.0, id="zero"),
        pytest.param("1 h", 3600.0, id="space-before-unit"),
        pytest.param(" 2m ", 120.0, id="padded"),
        pytest.param(1.5, 1.5, id="float"),
        pytest.param(30, 30.0, id="int"),
    ],
)
def test_parse_duration(value, expected: float) -> None:
    got = parse_duration(value)
    assert got == expected
    assert isinstance(got, float)


@pytest.mark.parametrize("value", ["x", "1w", "", "h", True, "1y"], ids=repr)
def test_parse_duration_refuses_non_durations(value) -> None:
    with pytest.raises(ValueError, match="is not a duration; write e.g. 0, 90s, 15m or 1h"):
        parse_duration(value)


@pytest.mark.parametrize("value", ["-5", "-5s", "-1.5h", -1, -0.5], ids=repr)
def test_parse_duration_refuses_negative(value) -> None:
    with pytest.raises(ValueError, match="is negative; write 0 or more"):
        parse_duration(value)


# -- compact JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc, expected",
    [
        pytest.param({"b": 1, "a": 2}, b'{"b":1,"a":2}', id="key-order-kept"),
        pytest.param({"a": [1, None, True, False]}, b'{"a":[1,null,true,false]}', id="no-spaces"),
        pytest.param({"n": "é"}, '{"n":"é"}'.encode(), id="utf8-not-escaped"),
        pytest.param("\u2028", b'"\xe2\x80\xa8"', id="line-separator-raw"),
        pytest.param({"q": 'a"b\\c'}, b'{"q":"a\\"b\\\\c"}', id="quotes-escaped"),
        pytest.param({"n": "a\nb"}, b'{"n":"a\\nb"}', id="newline-escaped"),
        pytest.param(1.0, b"1.0", id="float"),
        pytest.param([], b"[]", id="empty-list"),
    ],
)
def test_compact_json(doc, expected: bytes) -> None:
    assert compact_json(doc) == expected
