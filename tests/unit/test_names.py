"""alba_action.names: -t NAME[:TAG] values, checked before anything is written."""

from __future__ import annotations

import pytest

from alba_action.errors import AlbaError, InputError
from alba_action.names import check_name, check_tag, parse_refs, split_ref

NAME_FIX_MULTI = "use lower-case components separated by '/' of a-z, 0-9"
NAME_FIX_SINGLE = "use one path component of a-z, 0-9"
TAG_FIX = "use up to 128 characters of A-Z, a-z, 0-9, '.', '_' or '-', not starting with '.' or '-'"


@pytest.mark.parametrize(
    "ref, expected",
    [
        pytest.param("albatros:0.9", ("albatros", "0.9"), id="name-tag"),
        pytest.param("albatros", ("albatros", None), id="name-only"),
        pytest.param("team/app:1", ("team/app", "1"), id="path-name"),
        pytest.param("localhost:5000/app", ("localhost:5000/app", None), id="port-is-not-a-tag"),
        pytest.param("localhost:5000/app:1", ("localhost:5000/app", "1"), id="port-and-tag"),
        pytest.param("a:", ("a", ""), id="empty-tag"),
        pytest.param("a:b:c", ("a:b", "c"), id="last-colon-wins"),
        pytest.param(":x", ("", "x"), id="empty-name"),
        pytest.param("a/b:", ("a/b", ""), id="path-empty-tag"),
        pytest.param("", ("", None), id="empty"),
    ],
)
def test_split_ref(ref: str, expected) -> None:
    assert split_ref(ref) == expected


@pytest.mark.parametrize(
    "name, single",
    [
        pytest.param("albatros", False, id="plain"),
        pytest.param("team/app", False, id="path"),
        pytest.param("a.b_c-d", True, id="separators-single"),
        pytest.param("x", True, id="one-letter-single"),
    ],
)
def test_check_name_returns_valid_names(name: str, single: bool) -> None:
    assert check_name(name, single=single) == name


@pytest.mark.parametrize(
    "name, single, fix",
    [
        pytest.param("Albatros", False, NAME_FIX_MULTI, id="upper-case"),
        pytest.param("a b", False, NAME_FIX_MULTI, id="space"),
        pytest.param("", False, NAME_FIX_MULTI, id="empty"),
        pytest.param("a//b", False, NAME_FIX_MULTI, id="empty-component"),
        pytest.param("team/app", True, NAME_FIX_SINGLE, id="path-where-single"),
        pytest.param("-a", True, NAME_FIX_SINGLE, id="leading-dash-single"),
    ],
)
def test_check_name_refuses(name: str, single: bool, fix: str) -> None:
    with pytest.raises(InputError) as err:
        check_name(name, single=single)
    assert err.value.message == f"-t {name!r}: not a valid name"
    assert err.value.fix.startswith(fix)
    assert "(e.g. albatros)" in err.value.fix
    assert err.value.exit_code == 2


def test_check_name_names_the_flag() -> None:
    with pytest.raises(InputError, match=r"^--name 'Bad': not a valid name — "):
        check_name("Bad", flag="--name")


@pytest.mark.parametrize("tag", ["0.9", "latest", "_x", "A" * 128, "v1.0.0-rc.1"])
def test_check_tag_returns_valid_tags(tag: str) -> None:
    assert check_tag(tag) == tag


@pytest.mark.parametrize("tag", [".x", "-x", "", "a+b", "a/b", "a" * 129, "ü"], ids=repr)
def test_check_tag_refuses(tag: str) -> None:
    with pytest.raises(InputError) as err:
        check_tag(tag, flag="--as")
    assert err.value.message == f"--as tag {tag!r}: not a valid tag"
    assert err.value.fix == TAG_FIX


@pytest.mark.parametrize(
    "refs, need_tag, single, expected",
    [
        pytest.param(["a:1"], True, False, ("a", ["1"]), id="one"),
        pytest.param(["a:1", "a:2", "a:1"], True, False, ("a", ["1", "2"]), id="dedup-keeps-order"),
        pytest.param(["a:latest", "a:0.9"], True, False, ("a", ["latest", "0.9"]), id="order-as-given"),
        pytest.param(["team/app:1"], True, False, ("team/app", ["1"]), id="path-name"),
        pytest.param(["a"], False, False, ("a", []), id="name-only"),
        pytest.param(["a", "a"], False, False, ("a", []), id="name-repeated"),
        pytest.param(["a"], False, True, ("a", []), id="single-component"),
        pytest.param(["a:"], False, False, ("a", []), id="empty-tag-counts-as-none"),
    ],
)
def test_parse_refs(refs, need_tag: bool, single: bool, expected) -> None:
    assert parse_refs(refs, need_tag=need_tag, single=single) == expected


@pytest.mark.parametrize(
    "refs, need_tag, single, message, fix",
    [
        pytest.param([], True, False, "no -t given", "add -t NAME:TAG (e.g. -t albatros:0.9)", id="none-need-tag"),
        pytest.param([], False, False, "no -t given", "add -t NAME", id="none-name"),
        pytest.param(["a"], True, False, "-t 'a' has no tag", "write -t a:TAG (e.g. -t a:0.9)", id="missing-tag"),
        pytest.param(["a:"], True, False, "-t 'a:' has no tag", "write -t a:TAG (e.g. -t a:0.9)", id="empty-tag"),
        pytest.param(["a:1"], False, False, "-t 'a:1': this command takes a name without a tag", "write -t a",
                     id="tag-not-wanted"),
        pytest.param(["b:1", "a:1", "c:2"], True, False, "-t names several images (a, b, c)",
                     "publish one name per command; repeat -t only for tags", id="several-names-sorted"),
        pytest.param(["t/a:1"], True, True, "-t 't/a': not a valid name", None, id="path-where-single"),
        pytest.param(["A:1"], True, False, "-t 'A': not a valid name", None, id="bad-name"),
        pytest.param(["a:.x"], True, False, "-t tag '.x': not a valid tag", TAG_FIX, id="bad-tag"),
        pytest.param(["localhost:5000/app:1"], True, False, "-t 'localhost:5000/app': not a valid name", None,
                     id="registry-host-in-name"),
    ],
)
def test_parse_refs_refuses(refs, need_tag: bool, single: bool, message: str, fix: str | None) -> None:
    with pytest.raises(InputError) as err:
        parse_refs(refs, need_tag=need_tag, single=single)
    assert err.value.message == message
    if fix is not None:
        assert err.value.fix == fix
    assert isinstance(err.value, AlbaError) and err.value.fix
