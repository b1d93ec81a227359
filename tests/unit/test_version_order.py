"""alba_action.version_order and alba_action.tags.versions: which tags are releases, which are
newest, what gc removes, where `latest` may move; node-semver and PEP 440 parsing."""

from __future__ import annotations

import itertools

import pytest

from alba_action.tags.versions import parse_pep440, parse_semver
from alba_action.version_order import is_release, latest_refusal, newest_first, run_version

# -- is_release -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag, expected",
    [
        pytest.param("1.2.3", True, id="plain"),
        pytest.param("v1.2.3", True, id="v-prefix"),
        pytest.param("0.0.0", True, id="zeros"),
        pytest.param("10.20.30", True, id="multi-digit"),
        pytest.param("1.2", False, id="two-parts"),
        pytest.param("1.2.3.4", False, id="four-parts"),
        pytest.param("1.2.3-rc.1", False, id="pre-release"),
        pytest.param("1.2.3+build", False, id="build-metadata"),
        pytest.param("V1.2.3", False, id="upper-V"),
        pytest.param("latest", False, id="latest"),
        pytest.param("main", False, id="branch"),
        pytest.param("sha-860c190", False, id="sha"),
        pytest.param("1", False, id="major-only"),
    ],
)
def test_is_release(tag: str, expected: bool) -> None:
    assert is_release(tag) is expected


# -- newest_first -----------------------------------------------------------------------------

T1 = "2026-01-01T00:00:00.000001Z"
T2 = "2026-01-01T00:00:00.000002Z"
T3 = "2026-12-03T02:13:28.123456Z"


@pytest.mark.parametrize(
    "published, previous, expected",
    [
        pytest.param({"a": T1, "b": T2}, (), ["b", "a"], id="newest-first"),
        pytest.param({"a": T2, "b": T2, "c": T1}, (), ["b", "a", "c"], id="tie-by-name-descending"),
        pytest.param({"0.9": T3, "0.10": T1}, (), ["0.9", "0.10"], id="time-not-version"),
        pytest.param({"x": None, "y": T1}, (), ["y", "x"], id="undated-after-dated"),
        pytest.param({"c": None, "b": None, "a": None}, (), ["a", "b", "c"], id="undated-unknown-by-name"),
        pytest.param({"c": None, "d": None, "z": None}, ["d", "x", "c"], ["d", "c", "z"], id="undated-keep-previous"),
        pytest.param({"a": T1, "b": None, "c": T3, "d": None}, ["d", "b"], ["c", "a", "d", "b"], id="mixed"),
        pytest.param({"x": 1.0, "y": 2.0}, (), ["y", "x"], id="epoch-seconds"),
        pytest.param({}, ["a"], [], id="empty"),
    ],
)
def test_newest_first(published, previous, expected) -> None:
    assert newest_first(published, previous) == expected


def test_newest_first_ignores_insertion_order_of_dated_tags() -> None:
    published = {"a": T1, "b": T3, "c": T2}
    for order in itertools.permutations(published):
        assert newest_first({t: published[t] for t in order}) == ["b", "c", "a"]


# -- semver precedence through run_version ----------------------------------------------------

# semver.org §11's example chain, lowest first.
SEMVER_CHAIN = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0-0", "2.0.0"]


@pytest.mark.parametrize("lower, higher", list(zip(SEMVER_CHAIN, SEMVER_CHAIN[1:])),
                         ids=[f"{a}<{b}" for a, b in zip(SEMVER_CHAIN, SEMVER_CHAIN[1:])])
def test_semver_precedence(lower: str, higher: str) -> None:
    assert run_version("", [lower, higher]) == higher
    assert run_version("", [higher, lower]) == higher


@pytest.mark.parametrize(
    "version, tags, expected",
    [
        pytest.param("main", ["1.0.0"], "main", id="rule-version-wins"),
        pytest.param("", ["main", "latest"], "", id="no-semver"),
        pytest.param("", [], "", id="no-tags"),
        pytest.param("", ["main", "1.2.0", "1.10.0", "1.9.9"], "1.10.0", id="numeric-not-text"),
        pytest.param("", ["2.0.0-rc.1", "1.9.0"], "2.0.0-rc.1", id="pre-release-of-higher-line"),
        pytest.param("", ["1.0.0+b", "1.0.0+a"], "1.0.0+b", id="build-metadata-ties-first"),
        pytest.param("", ["v1.2.0", "1.1.0"], "v1.2.0", id="v-prefix-kept"),
        pytest.param("", ["1.2", "01.2.3", "1.2.3.4", "0.0.1"], "0.0.1", id="non-semver-ignored"),
    ],
)
def test_run_version(version: str, tags, expected: str) -> None:
    assert run_version(version, tags) == expected


# -- latest_refusal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, published",
    [
        pytest.param("2.0.0-rc.1", ["1.0.0"], id="pre-release-of-newer-line"),
        pytest.param("1.0.0", ["v1.0.0"], id="same-with-v"),
        pytest.param("1.2.3", ["1.2.3"], id="same-version"),
        pytest.param("1.0.0+b", ["1.0.0"], id="build-metadata-equal"),
        pytest.param("1.10.0", ["1.9.0"], id="numeric-compare"),
        pytest.param("1.0.0", [], id="nothing-published"),
        pytest.param("x", ["1.0.0-rc.1"], id="only-pre-releases-published"),
        pytest.param("main", ["1.0.0-rc.1", "latest", "main"], id="no-release-at-all"),
        pytest.param("1.0.0", ["1.0.0-rc.1", "0.9.0", "latest"], id="newest-release"),
    ],
)
def test_latest_may_move(version: str, published) -> None:
    assert latest_refusal(version, published) is None


@pytest.mark.parametrize(
    "version, published, expected",
    [
        pytest.param("1.0.0", ["2.0.0"], "1.0.0 is older than 2.0.0, already released", id="older-major"),
        pytest.param("2.0.0-rc.1", ["2.0.0"], "2.0.0-rc.1 is older than 2.0.0, already released",
                     id="pre-release-below-its-release"),
        pytest.param("v0.9.0", ["0.10.0"], "v0.9.0 is older than 0.10.0, already released", id="v-prefix-numeric"),
        pytest.param("1.9.0", ["1.10.0", "1.2.0", "latest"], "1.9.0 is older than 1.10.0, already released",
                     id="highest-is-named"),
        pytest.param("", ["1.0.0"], "this run is not a semver version and 1.0.0 is already released", id="no-version"),
        pytest.param("main", ["1.0.0"], "main is not a semver version and 1.0.0 is already released", id="branch"),
        pytest.param("1.2", ["1.0.0"], "1.2 is not a semver version and 1.0.0 is already released", id="short-version"),
    ],
)
def test_latest_refused(version: str, published, expected: str) -> None:
    assert latest_refusal(version, published) == expected


# -- parse_semver (node-semver's strict grammar) ----------------------------------------------


@pytest.mark.parametrize(
    "text, version, prerelease, build",
    [
        pytest.param("1.2.3", "1.2.3", (), (), id="plain"),
        pytest.param("v1.2.3", "1.2.3", (), (), id="v-prefix"),
        pytest.param(" 1.2.3 ", "1.2.3", (), (), id="padded"),
        pytest.param("1.2.3-0", "1.2.3-0", ("0",), (), id="numeric-pre-zero"),
        pytest.param("1.2.3-0a", "1.2.3-0a", ("0a",), (), id="alnum-pre-leading-zero"),
        pytest.param("1.2.3-x-y", "1.2.3-x-y", ("x-y",), (), id="dash-inside-pre"),
        pytest.param("1.2.3+b.01", "1.2.3", (), ("b", "01"), id="build-leading-zero-ok"),
        pytest.param("1.2.3-rc.1+b.2", "1.2.3-rc.1", ("rc", "1"), ("b", "2"), id="pre-and-build"),
    ],
)
def test_parse_semver(text: str, version: str, prerelease, build) -> None:
    parsed = parse_semver(text)
    assert parsed is not None
    assert (parsed.version, parsed.prerelease, parsed.build, parsed.raw) == (version, prerelease, build, text)


@pytest.mark.parametrize(
    "text",
    ["V1.2.3", "vv1.2.3", "=1.2.3", "1.2.3.4", "1.2", "01.2.3", "1.2.3-00", "1.2.3-01", "1.2.3-", "1.2.3+",
     "1.2.3-a..b", "\u0661.0.0", "1.2.3-a" + "a" * 260],
    ids=lambda t: repr(t[:16]),
)
def test_parse_semver_refuses(text: str) -> None:
    assert parse_semver(text) is None


def test_semver_fields_for_patterns() -> None:
    parsed = parse_semver("v9.5.7-alpha.2+fork.3")
    assert parsed.fields() == {"raw": "v9.5.7-alpha.2+fork.3", "version": "9.5.7-alpha.2", "major": "9",
                               "minor": "5", "patch": "7", "prerelease": "alpha,2", "build": "fork,3"}


# -- parse_pep440 -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, normalized, pre, post, parts, epoch",
    [
        pytest.param("1.0", "1.0", False, False, ("1", "0", "0"), 0, id="two-parts"),
        pytest.param("1", "1", False, False, ("1", "0", "0"), 0, id="major-only"),
        pytest.param("v2", "2", False, False, ("2", "0", "0"), 0, id="v-major"),
        pytest.param("1.0.0.0.1", "1.0.0.0.1", False, False, ("1", "0", "0"), 0, id="five-parts"),
        pytest.param("2.0.0a1", "2.0.0a1", True, False, ("2", "0", "0"), 0, id="alpha"),
        pytest.param("1.0a", "1.0a0", True, False, ("1", "0", "0"), 0, id="alpha-implicit-0"),
        pytest.param("1.0c1", "1.0rc1", True, False, ("1", "0", "0"), 0, id="c-is-rc"),
        pytest.param("1.0pre", "1.0rc0", True, False, ("1", "0", "0"), 0, id="pre-is-rc"),
        pytest.param("1.0alpha-3", "1.0a3", True, False, ("1", "0", "0"), 0, id="alpha-dash-number"),
        pytest.param("1.0.0.dev", "1.0.0.dev0", True, False, ("1", "0", "0"), 0, id="dev-implicit-0"),
        pytest.param("1.0-dev", "1.0.dev0", True, False, ("1", "0", "0"), 0, id="dash-dev"),
        pytest.param("v1.0.dev0", "1.0.dev0", True, False, ("1", "0", "0"), 0, id="v-dev"),
        pytest.param("1.0-1", "1.0.post1", False, True, ("1", "0", "0"), 0, id="implicit-post"),
        pytest.param("1.0_r2", "1.0.post2", False, True, ("1", "0", "0"), 0, id="r-is-post"),
        pytest.param("1.0.post1.dev2", "1.0.post1.dev2", True, True, ("1", "0", "0"), 0, id="post-dev"),
        pytest.param("1.0rc1.post2", "1.0rc1.post2", True, True, ("1", "0", "0"), 0, id="rc-post"),
        pytest.param("2!1.0", "2!1.0", False, False, ("1", "0", "0"), 2, id="epoch"),
        pytest.param(" 1.0 ", "1.0", False, False, ("1", "0", "0"), 0, id="padded"),
        pytest.param("1.0+local_Ver-1", "1.0+local.ver.1", False, False, ("1", "0", "0"), 0, id="local-normalised"),
        pytest.param("3.4.5", "3.4.5", False, False, ("3", "4", "5"), 0, id="three-parts"),
    ],
)
def test_parse_pep440(text, normalized, pre, post, parts, epoch) -> None:
    parsed = parse_pep440(text)
    assert parsed is not None
    assert parsed.normalized() == normalized
    assert (parsed.is_prerelease, parsed.is_postrelease) == (pre, post)
    assert (parsed.part(0), parsed.part(1), parsed.part(2)) == parts
    assert parsed.epoch == epoch


@pytest.mark.parametrize("text", ["x1.0", "1.0+", "", "1.0.", "one", "1.0-beta.67.x"], ids=repr)
def test_parse_pep440_refuses(text: str) -> None:
    assert parse_pep440(text) is None


@pytest.mark.parametrize("text", ["1.0.1\u0663", "\u0661.0.0", "1.0.0-\u0661"])
def test_only_ascii_digits_make_a_semver_version(text):
    from alba_action.tags.versions import parse_semver

    assert parse_semver(text) is None
