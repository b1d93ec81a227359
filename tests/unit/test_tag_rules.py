"""alba_action.tags: metadata-action's `tags`/`flavor` rules evaluated against a Context.

One table: a ref (and event), the tags and flavor inputs in, the tags, version and latest
out. Rows here go beyond tests/integration/test_tags.py: pre-releases, `v` prefixes,
enable= conditions, priority ordering, branch names with slashes, PEP 440 versions.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from alba_action.context.model import Context
from alba_action.errors import InputError
from alba_action.tags.compute import compute_tags, oci_tag
from alba_action.tags.rules import input_lines, parse_flavor, parse_rules, split_fields

NOW = datetime(2020, 1, 10, 0, 30, tzinfo=timezone.utc)
SHA = "860c1904a1ce19322e91ac35af1ab07466440c37"

SEMVER3 = "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}\ntype=semver,pattern={{major}}"
PEP3 = "type=pep440,pattern={{version}}\ntype=pep440,pattern={{major}}.{{minor}}\ntype=pep440,pattern={{major}}"
REFS = "type=ref,event=branch\ntype=ref,event=tag\ntype=ref,event=pr"


def ctx(ref: str, event: str = "", **kw) -> Context:
    event = event or ("pull_request" if ref.startswith("refs/pull/") else "push")
    return Context(provider="github", event=event, ref=ref, sha=kw.pop("sha", SHA),
                   default_branch=kw.pop("default_branch", "main"), now=NOW, **kw)


def row(name, ref, tags, flavor, expected, version=None, latest=False, **ctx_kw):
    version = expected[0] if version is None and expected else (version or "")
    return pytest.param(ctx(ref, **ctx_kw), tags, flavor, expected, version, latest, id=name)


CASES = [
    # -- semver: releases, v prefixes, pre-releases, build metadata
    row("semver-v-prefix", "refs/tags/v1.2.3", SEMVER3, "", ["1.2.3", "1.2", "1", "latest"], latest=True),
    row("semver-no-prefix", "refs/tags/1.2.3", SEMVER3, "", ["1.2.3", "1.2", "1", "latest"], latest=True),
    row("semver-zero-major", "refs/tags/v0.1.0", SEMVER3, "", ["0.1.0", "0.1", "0", "latest"], latest=True),
    row("semver-pre-release-only-version", "refs/tags/v1.2.3-rc.1", SEMVER3, "", ["1.2.3-rc.1"]),
    row("semver-pre-release-build-dropped", "refs/tags/v1.2.3-rc.1+b.5", SEMVER3, "", ["1.2.3-rc.1"]),
    row("semver-build-metadata-dropped", "refs/tags/v1.2.3+b.5", SEMVER3, "", ["1.2.3", "1.2", "1", "latest"],
        latest=True),
    row("semver-pre-release-latest-forced", "refs/tags/v1.2.3-rc.1", SEMVER3, "latest=true", ["1.2.3-rc.1", "latest"],
        latest=True),
    row("semver-raw-keeps-v", "refs/tags/v1.2.3", "type=semver,pattern={{raw}}", "", ["v1.2.3", "latest"], latest=True),
    row("semver-raw-pre-release", "refs/tags/v1.2.3-rc.1", "type=semver,pattern={{raw}}", "", ["v1.2.3-rc.1"]),
    row("semver-pattern-with-v", "refs/tags/v1.2.3", "type=semver,pattern=v{{major}}", "", ["v1", "latest"],
        latest=True),
    row("semver-pre-release-ignores-pattern", "refs/tags/v1.2.3-beta.2", "type=semver,pattern={{prerelease}}", "",
        ["1.2.3-beta.2"]),
    row("semver-empty-prerelease-field", "refs/tags/v1.2.3",
        "type=semver,pattern={{major}}.{{minor}}.{{patch}}-{{prerelease}}", "", ["1.2.3-", "latest"], latest=True),
    row("semver-not-a-version", "refs/tags/release-1.2.3", SEMVER3, "", []),
    row("semver-two-parts", "refs/tags/1.2", SEMVER3, "", []),
    row("semver-on-branch", "refs/heads/main", SEMVER3, "", []),
    row("semver-value-on-branch", "refs/heads/main", "type=semver,pattern={{version}},value=v3.4.5", "",
        ["3.4.5", "latest"], latest=True),
    row("semver-value-from-tag-expression", "refs/tags/v1.2.3", "type=semver,pattern={{version}},value={{tag}}", "",
        ["1.2.3", "latest"], latest=True),
    row("semver-match-group", "refs/tags/p1-v1.2.3", "type=semver,pattern={{version}},match=p\\d-v(.*)", "",
        ["1.2.3", "latest"], latest=True),
    row("semver-match-tag-with-slash", "refs/tags/foo/v1.2.3", "type=semver,pattern={{version}},match=foo/v(.*)", "",
        ["1.2.3", "latest"], latest=True),
    row("semver-tag-with-slash-no-match", "refs/tags/foo/v1.2.3", "type=semver,pattern={{version}}", "", []),
    # -- pep440
    row("pep440-release", "refs/tags/v1.2.3", PEP3, "", ["1.2.3", "1.2", "1", "latest"], latest=True),
    row("pep440-two-parts", "refs/tags/1.2", PEP3, "", ["1.2", "1", "latest"], latest=True),
    row("pep440-beta-normalised", "refs/tags/1.1beta2", PEP3, "", ["1.1b2"]),
    row("pep440-dev-normalised", "refs/tags/1.0dev4", PEP3, "", ["1.0.dev4"]),
    row("pep440-post-normalised", "refs/tags/1.2post1", PEP3, "", ["1.2.post1"]),
    row("pep440-epoch-sanitised", "refs/tags/1!2.0", PEP3, "", ["1-2.0", "2.0", "2", "latest"], latest=True),
    row("pep440-local-sanitised", "refs/tags/1.0+ubuntu-1", PEP3, "", ["1.0-ubuntu.1", "1.0", "1", "latest"],
        latest=True),
    row("pep440-raw-pre-release", "refs/tags/1.1beta2", "type=pep440,pattern={{raw}}", "", ["1.1beta2"]),
    row("pep440-not-a-version", "refs/tags/sometag", PEP3, "", []),
    # -- ref: branches with slashes, tags, pull requests
    row("branch-slash", "refs/heads/feature/login", REFS, "", ["feature-login"]),
    row("branch-dependabot", "refs/heads/dependabot/npm_and_yarn/x-1.2", REFS, "", ["dependabot-npm_and_yarn-x-1.2"]),
    row("branch-case-kept", "refs/heads/Feature_X", REFS, "", ["Feature_X"]),
    row("branch-unsafe-chars", "refs/heads/a@b#c", "type=ref,event=branch", "", ["a-b-c"]),
    row("branch-non-ascii", "refs/heads/feat/ü-thing", "type=ref,event=branch", "", ["feat--thing"]),
    row("branch-prefix-and-date-suffix", "refs/heads/main", "type=ref,event=branch",
        "prefix=v-\nsuffix=-{{date 'YYYY'}}", ["v-main-2020"]),
    row("tag-with-slash", "refs/tags/v1.0/alpha", REFS, "", ["v1.0-alpha", "latest"], latest=True),
    row("pr-merge", "refs/pull/15/merge", REFS, "", ["pr-15"]),
    row("pr-head", "refs/pull/15/head", REFS, "", ["pr-15"]),
    row("pr-empty-prefix", "refs/pull/15/merge", "type=ref,event=pr,prefix=", "", ["15"]),
    row("pr-own-prefix-suffix", "refs/pull/15/merge", "type=ref,event=pr,prefix=pull-,suffix=-x", "", ["pull-15-x"]),
    row("defaults-on-branch", "refs/heads/main", "", "", ["main"]),
    row("defaults-on-tag", "refs/tags/v2.0", "", "", ["v2.0", "latest"], latest=True),
    row("defaults-on-schedule", "refs/heads/main", "", "", ["nightly", "main"], event="schedule"),
    # -- sha
    row("sha-short", "refs/heads/main", "type=sha", "", ["sha-860c190"]),
    row("sha-long", "refs/heads/main", "type=sha,format=long", "", [f"sha-{SHA}"]),
    row("sha-no-prefix", "refs/heads/main", "type=sha,prefix=", "", ["860c190"]),
    row("sha-prefix-expression", "refs/heads/main", "type=sha,prefix={{branch}}-", "", ["main-860c190"]),
    row("sha-length-12", "refs/heads/main", "type=sha", "", ["sha-860c1904a1ce"], short_sha_length=12),
    row("sha-missing", "refs/heads/main", "type=sha", "", [], sha=""),
    row("sha-default-prefix-beats-flavor", "refs/heads/main", "type=sha", "prefix=p-", ["sha-860c190"]),
    # -- raw and global expressions
    row("raw-two-in-order", "refs/heads/main", "type=raw,value=foo\ntype=raw,value=bar", "", ["foo", "bar"]),
    row("raw-branch-and-sha", "refs/heads/main", "type=raw,value={{branch}}-{{sha}}", "", ["main-860c190"]),
    row("raw-branch-slash", "refs/heads/feature/x", "type=raw,value={{branch}}", "", ["feature-x"]),
    row("raw-tag", "refs/tags/v1.0", "type=raw,value={{tag}}", "", ["v1.0"]),
    row("raw-tag-on-branch-empty", "refs/heads/main", "type=raw,value={{tag}}", "", []),
    row("raw-is-default-branch", "refs/heads/main", "type=raw,value={{is_default_branch}}", "", ["true"]),
    row("raw-is-not-default-branch", "refs/heads/dev", "type=raw,value=x{{is_not_default_branch}}", "", ["xtrue"]),
    row("raw-base-ref-on-pr", "refs/pull/3/merge", "type=raw,value=into-{{base_ref}}\ntype=sha", "",
        ["into-main", "sha-860c190"], base_ref="main"),
    row("raw-base-ref-on-branch-empty", "refs/heads/main", "type=raw,value=b{{base_ref}}", "", ["b"], base_ref="main"),
    row("raw-date", "refs/heads/main", "type=raw,value=dev-{{date 'YYYYMMDD'}}", "", ["dev-20200110"]),
    row("raw-commit-date", "refs/heads/main", "type=raw,value={{commit_date 'YYYYMMDD-HHmm'}}", "", ["20191231-2300"],
        commit_date="2019-12-31T23:00:00Z"),
    row("raw-unquoted-date-format-is-a-lookup", "refs/heads/main", "type=raw,value={{date YYYY}}", "",
        ["2020-01-10T00-30-00Z"]),
    row("raw-unknown-name-empty", "refs/tags/v1.2.3", "type=raw,value={{unknown}}x", "", ["x"]),
    row("raw-comment", "refs/tags/v1.2.3", "type=raw,value={{! comment }}x", "", ["x"]),
    row("raw-triple-stash", "refs/tags/v1.2.3", "type=raw,value={{{tag}}}", "", ["v1.2.3"]),
    row("raw-whitespace-control", "refs/tags/v1.2.3", "type=raw,value={{~ tag ~}}", "", ["v1.2.3"]),
    row("raw-upper-and-space", "refs/heads/main", "type=raw,value=UPPER case", "", ["UPPER-case"]),
    row("raw-leading-dot-dropped-dup", "refs/heads/main", "type=raw,value=.x\ntype=raw,value=x", "", ["x"]),
    row("raw-list-entries-split", "refs/tags/v1.2.3", ["type=raw,value=a", "type=raw,value=b\ntype=raw,value=c"], "",
        ["a", "b", "c"]),
    row("raw-upper-case-keys", "refs/tags/v1.2.3", "TYPE=raw,VALUE=a", "", ["a"]),
    # -- enable= conditions
    row("enable-default-branch-yes", "refs/heads/main", "type=raw,value=latest,enable={{is_default_branch}}", "",
        ["latest"]),
    row("enable-default-branch-no", "refs/heads/dev", "type=raw,value=latest,enable={{is_default_branch}}", "", []),
    row("enable-schedule-counts-as-default", "refs/heads/dev", "type=raw,value=x,enable={{is_default_branch}}", "",
        ["x"], event="schedule"),
    row("enable-pr-not-default", "refs/pull/3/merge",
        "type=raw,value=x,enable={{is_default_branch}}\ntype=ref,event=pr", "", ["pr-3"]),
    row("enable-false", "refs/heads/dev", "type=raw,value=nightly,enable=false\ntype=raw,value=x", "", ["x"]),
    row("enable-true", "refs/heads/dev", "type=raw,value=a,enable=true", "", ["a"]),
    row("enable-false-semver-falls-back", "refs/heads/main",
        "type=semver,pattern={{version}},value=1.0.0,enable=false\ntype=raw,value=fallback", "", ["fallback"]),
    row("enable-semver-on-tag-not-default", "refs/tags/v1.2.3",
        "type=semver,pattern={{version}},enable={{is_default_branch}}", "", []),
    # -- schedule, match, edge
    row("schedule-default-pattern", "refs/heads/main", "type=schedule", "", ["nightly"], event="schedule"),
    row("schedule-date-pattern", "refs/heads/main", "type=schedule,pattern={{date 'YYYYMMDD'}}", "", ["20200110"],
        event="schedule"),
    row("schedule-date-tz", "refs/heads/main", "type=schedule,pattern=nightly-{{date 'YYYY-MM-DD' tz='Asia/Tokyo'}}",
        "", ["nightly-2020-01-10"], event="schedule"),
    row("schedule-not-on-push", "refs/heads/main", "type=schedule\ntype=raw,value=x", "", ["x"]),
    row("match-group-2", "refs/tags/v1.2.3", "type=match,pattern=v(\\d+)\\.(\\d+),group=2", "", ["2", "latest"],
        latest=True),
    row("match-group-0-default", "refs/tags/v1.2.3", "type=match,pattern=v(\\d+)", "", ["v1", "latest"], latest=True),
    row("match-no-match", "refs/tags/v1.2.3", "type=match,pattern=x(\\d+),group=1", "", []),
    row("match-group-out-of-range", "refs/tags/v1.2.3", "type=match,pattern=v(\\d+),group=5", "", []),
    row("match-js-flag-i", "refs/tags/V1.2.3", "type=match,pattern=/v(\\d+)/i,group=1", "", ["1", "latest"],
        latest=True),
    row("match-on-value", "refs/heads/main", "type=match,pattern=(.*),value=abc,group=1", "", ["abc", "latest"],
        latest=True),
    row("edge-default-branch", "refs/heads/main", "type=edge", "", ["edge"]),
    row("edge-other-branch", "refs/heads/dev", "type=edge", "", []),
    row("edge-named-branch", "refs/heads/dev", "type=edge,branch=dev", "", ["edge"]),
    row("edge-on-tag", "refs/tags/v1", "type=edge", "", []),
    row("edge-no-default-branch-known", "refs/heads/main", "type=edge", "", [], default_branch=""),
    # -- priority ordering
    row("priority-default-order", "refs/tags/v1.2.3",
        "type=sha\ntype=raw,value=r\ntype=ref,event=tag\ntype=semver,pattern={{version}}", "",
        ["1.2.3", "v1.2.3", "r", "sha-860c190", "latest"], latest=True),
    row("priority-raised-sha-decides-latest", "refs/tags/v1.2.3",
        "type=sha,priority=2000\ntype=semver,pattern={{version}}", "", ["sha-860c190", "1.2.3"]),
    row("priority-lowered-semver", "refs/tags/v1.2.3", "type=sha\ntype=semver,pattern={{version}},priority=50", "",
        ["sha-860c190", "1.2.3"]),
    row("priority-ties-keep-input-order", "refs/tags/v1.2.3",
        "type=raw,value=a,priority=100\ntype=raw,value=b,priority=100", "", ["a", "b"]),
    row("priority-negative", "refs/tags/v1.2.3", "type=raw,value=a,priority=-5\ntype=sha", "", ["sha-860c190", "a"]),
    row("priority-comma-joined-rules", "refs/tags/v1.2.3", "type=raw,value=a,type=raw,value=b,priority=1000", "",
        ["b", "a"]),
    # -- flavor
    row("flavor-latest-false", "refs/tags/v1.2.3", "type=semver,pattern={{version}}", "latest=false", ["1.2.3"]),
    row("flavor-latest-true-on-branch", "refs/heads/main", "type=ref,event=branch", "latest=true", ["main", "latest"],
        latest=True),
    row("flavor-latest-auto-on-branch", "refs/heads/main", "type=ref,event=branch", "latest=auto", ["main"]),
    row("flavor-prefix-suffix-not-on-latest", "refs/tags/v1.2.3", "type=semver,pattern={{version}}",
        "prefix=app-\nsuffix=-slim", ["app-1.2.3-slim", "latest"], latest=True),
    row("flavor-prefix-suffix-onlatest", "refs/tags/v1.2.3", "type=semver,pattern={{version}}",
        "prefix=app-,onlatest=true\nsuffix=-slim,onlatest=true", ["app-1.2.3-slim", "app-latest-slim"], latest=True),
    row("flavor-overridden-by-empty-rule-affix", "refs/tags/v1.2.3", "type=semver,pattern={{version}},prefix=,suffix=",
        "prefix=app-\nsuffix=-slim", ["1.2.3", "latest"], latest=True),
    row("flavor-suffix-expression", "refs/tags/v1.2.3", "type=semver,pattern={{version}}", "suffix=-{{sha}}",
        ["1.2.3-860c190", "latest"], latest=True),
    row("flavor-dash-prefix-stripped", "refs/tags/v1.2.3", "type=semver,pattern={{version}}", "prefix=-",
        ["1.2.3", "latest"], latest=True),
    row("flavor-dash-prefix-on-latest-stripped", "refs/tags/v1.2.3", "type=semver,pattern={{version}}",
        "prefix=-,onlatest=true", ["1.2.3", "latest"], latest=True),
    row("flavor-onlatest-before-prefix-ignored", "refs/tags/v1.2.3", "type=semver,pattern={{version}}",
        "onlatest=true\nprefix=a-", ["a-1.2.3", "latest"], latest=True),
    # -- sanitising and empty results
    row("all-unusable-no-latest", "refs/heads/main", "type=raw,value=--", "latest=true", []),
    row("unusable-first-then-ok", "refs/heads/main", "type=raw,value=--\ntype=raw,value=ok", "latest=true",
        ["ok", "latest"], latest=True),
    row("no-ref-no-tags", "", "", "", []),
]


@pytest.mark.parametrize("context, tags, flavor, expected, version, latest", CASES)
def test_compute_tags(context: Context, tags, flavor, expected, version, latest) -> None:
    result = compute_tags(context, tags, flavor)
    assert result.tags == expected
    assert result.version == version
    assert result.latest is latest


def test_long_branch_name_keeps_a_hash() -> None:
    result = compute_tags(ctx("refs/heads/" + "f/" * 80), "type=ref,event=branch", "")
    (tag,) = result.tags
    assert len(tag) == 128
    assert tag.startswith("f-f-") and tag[:120] == "f-" * 60
    assert tag == oci_tag("f-" * 80)


@pytest.mark.parametrize(
    "tags, flavor, message, fix",
    [
        pytest.param("type=nope", "", "tags: unknown type 'nope' in rule 'type=nope'",
                     "use one of: schedule, semver, pep440, match, edge, ref, raw, sha", id="unknown-type"),
        pytest.param("type=ref,event=branch,pattern=x", "",
                     "tags: unknown attribute 'pattern' for type=ref in rule 'type=ref,event=branch,pattern=x'",
                     "use one of: enable, event, prefix, priority, suffix", id="attribute-of-other-type"),
        pytest.param("type=edge,branch=main,value=x", "",
                     "tags: unknown attribute 'value' for type=edge in rule 'type=edge,branch=main,value=x'",
                     "use one of: branch, enable, prefix, priority, suffix", id="value-on-edge"),
        pytest.param("type=raw,value=x,enable={{branch}}", "",
                     "tags: enable='' in rule 'type=raw,value=x,enable={{branch}}'",
                     "enable= must give true or false", id="enable-not-boolean"),
        pytest.param("type=match,pattern=v(.*),group=-1", "",
                     "tags: invalid match group '-1' in rule 'type=match,pattern=v(.*),group=-1'",
                     "group= takes a group number", id="negative-group"),
        pytest.param("type=pep440", "", "tags: missing pattern attribute in rule 'type=pep440'",
                     "add it, e.g. type=pep440,pattern={{version}}", id="pep440-no-pattern"),
        pytest.param("type=match", "", "tags: missing pattern attribute in rule 'type=match'",
                     "add it, e.g. type=match,pattern=v(.*),group=1", id="match-no-pattern"),
        pytest.param("type=raw,priority=5", "", "tags: missing value attribute in rule 'type=raw,priority=5'",
                     "add it, e.g. type=raw,value=stable", id="raw-no-value"),
        pytest.param("type=raw,value={{#if x}}y{{/if}}", "",
                     "tags: rule 'type=raw,value={{#if x}}y{{/if}}': unsupported expression {{#if x}}",
                     "block helpers and sub-expressions are not supported; use a plain {{name}}", id="block-helper"),
        pytest.param("type=raw,value={{date 'YYYY' foo='x'}}", "",
                     "tags: rule \"type=raw,value={{date 'YYYY' foo='x'}}\": unknown foo attribute in a date expression",
                     "only tz='Area/City' is allowed", id="date-unknown-hash"),
        pytest.param("type=match,pattern=/v(.*)/q", "",
                     "tags: unknown regex flag 'q' in rule 'type=match,pattern=/v(.*)/q'",
                     "use the flags i, m, s or g", id="regex-flag"),
        pytest.param("type=semver,pattern={{version}}", "latest=TRUE",
                     "flavor: invalid latest='TRUE' in 'latest=TRUE'",
                     "use latest=auto, latest=true or latest=false", id="flavor-latest-case"),
        pytest.param("type=semver,pattern={{version}}", "prefix=a,onlatest=1",
                     "flavor: invalid onlatest='1' in 'prefix=a,onlatest=1'",
                     "use onlatest=true or onlatest=false", id="flavor-onlatest-1"),
        pytest.param("type=semver,pattern={{version}}", "suffix", "flavor: unknown entry 'suffix'",
                     "use latest=, prefix=, suffix= and onlatest=", id="flavor-bare-word"),
    ],
)
def test_compute_tags_refuses(tags, flavor, message: str, fix: str) -> None:
    with pytest.raises(InputError) as err:
        compute_tags(ctx("refs/tags/v1.2.3"), tags, flavor)
    assert err.value.message == message
    assert err.value.fix == fix


# -- the input syntax underneath -------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        pytest.param(["a\nb", "  # c", "", " d "], ["a", "b", "d"], id="list-with-comment"),
        pytest.param(None, [], id="None"),
        pytest.param("x\r\ny", ["x", "y"], id="crlf"),
        pytest.param("a # b", ["a # b"], id="hash-mid-line-kept"),
    ],
)
def test_input_lines(value, expected) -> None:
    assert input_lines(value) == expected


@pytest.mark.parametrize(
    "line, expected",
    [
        pytest.param("a,b,,c", ["a", "b", "c"], id="empty-field-dropped"),
        pytest.param('"a,b",c', ["a,b", "c"], id="quoted-comma"),
        pytest.param('"a""b"', ['a"b'], id="doubled-quote"),
        pytest.param("", [], id="empty"),
        pytest.param("a, ,b", ["a", "b"], id="blank-field-dropped"),
    ],
)
def test_split_fields(line: str, expected) -> None:
    assert split_fields(line, "tags") == expected


def test_default_rules_and_their_defaults() -> None:
    rules = parse_rules(None)
    assert [(r.type, r.attrs, r.priority) for r in rules] == [
        ("schedule", {"pattern": "nightly", "enable": "true"}, 1000),
        ("ref", {"event": "branch", "enable": "true"}, 600),
        ("ref", {"event": "tag", "enable": "true"}, 600),
        ("ref", {"event": "pr", "prefix": "pr-", "enable": "true"}, 600),
    ]


def test_comma_joined_rules_get_their_own_sources() -> None:
    rules = parse_rules("type=sha,type=raw,value=x")
    assert [(r.type, r.source) for r in rules] == [("raw", "type=raw,value=x"), ("sha", "type=sha")]
    assert rules[1].attrs == {"prefix": "sha-", "format": "short", "enable": "true"}


@pytest.mark.parametrize(
    "flavor, expected",
    [
        pytest.param(None, ("auto", "", False, "", False, ""), id="defaults"),
        pytest.param("labelprefix=x", ("auto", "", False, "", False, "x"), id="labelprefix"),
        pytest.param("latest=false\nsuffix=-s,onlatest=true", ("false", "", False, "-s", True, ""),
                     id="suffix-onlatest"),
        pytest.param(["prefix=p-", "onlatest=true"], ("auto", "p-", False, "", False, ""),
                     id="onlatest-on-its-own-line-ignored"),
    ],
)
def test_parse_flavor(flavor, expected) -> None:
    f = parse_flavor(flavor)
    assert (f.latest, f.prefix, f.prefix_latest, f.suffix, f.suffix_latest, f.label_prefix) == expected
