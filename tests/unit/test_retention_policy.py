"""The retention policy: tags, publication times and a clock in, the exact kept set out."""

from __future__ import annotations

import pytest

from alba_action.errors import InputError
from alba_action.retention import Policy, check_glob, decide
from alba_action.version_order import floating_refusals

DAY = 86400.0
NOW = 1_800_000_000.0

# Newest first by publication; ages in days (None: no record).
MIXED = {
    "main-c3": 0.5, "2.1.0-rc.2": 1, "2.1.0-rc.1": 2, "main-b2": 3, "2.0.1": 5, "2.0.0": 10,
    "2.0.0-rc.1": 12, "1.9.1": 20, "1.9.0": 40, "1.8.3+build.7": 50, "1.8.3+build.6": 51, "main-a1": 60,
    "legacy": None,
}
TAGS = list(MIXED)
PUBLISHED = {t: (None if age is None else NOW - age * DAY) for t, age in MIXED.items()}
RELEASES = {"2.0.1", "2.0.0", "1.9.1", "1.9.0"}

CASES = [
    ("keep 2: releases are kept and not counted", Policy(keep=2), {"main-c3", "2.1.0-rc.2"} | RELEASES),
    ("keep 2 with releases", Policy(keep=2, include_releases=True), {"main-c3", "2.1.0-rc.2"}),
    ("keep 0", Policy(keep=0), RELEASES),
    ("per major 1: pre-releases rank below their release",
     Policy(keep_per_major=1, include_releases=True), {"2.1.0-rc.2", "1.9.1"}),
    ("per major 2", Policy(keep_per_major=2, include_releases=True), {"2.1.0-rc.2", "2.1.0-rc.1", "1.9.1", "1.9.0"}),
    ("per minor 1: build metadata ties go to the newest published",
     Policy(keep_per_minor=1, include_releases=True), {"2.1.0-rc.2", "2.0.1", "1.9.1", "1.8.3+build.7"}),
    ("per minor 1 keeps releases unless included", Policy(keep_per_minor=1),
     {"2.1.0-rc.2", "2.0.1", "1.8.3+build.7"} | RELEASES),
    ("older than 7d: no record is kept", Policy(older_than=7 * DAY, include_releases=True),
     {"main-c3", "2.1.0-rc.2", "2.1.0-rc.1", "main-b2", "2.0.1", "legacy"}),
    ("any rule keeps: keep 1 or per major 1", Policy(keep=1, keep_per_major=1, include_releases=True),
     {"main-c3", "2.1.0-rc.2", "1.9.1"}),
    ("protect globs", Policy(keep=0, protect=("main-*", "1.8.[0-9]*"), include_releases=True),
     {"main-c3", "main-b2", "main-a1", "1.8.3+build.7", "1.8.3+build.6"}),
    ("protect a class", Policy(keep=0, protect=("[lz]egacy",)), {"legacy"} | RELEASES),
]


@pytest.mark.parametrize("label, policy, kept", CASES, ids=[c[0] for c in CASES])
def test_kept_sets(label, policy, kept):
    decision = decide(TAGS, PUBLISHED, NOW, policy)
    assert set(decision.kept) == kept
    assert decision.victims == [t for t in TAGS if t not in kept]  # newest first, as given
    assert list(decision.kept) == [t for t in TAGS if t in kept]


def test_reasons_say_which_rule():
    decision = decide(TAGS, PUBLISHED, NOW, Policy(keep=1, older_than=DAY, protect=("main-*",)))
    assert decision.kept["main-c3"] == ["keep 1", "younger than 86400 s", "protect main-*"]
    assert decision.kept["2.0.1"] == ["release"]


def test_semver_rule_without_semver_tags_deletes_nothing():
    tags = ["nightly-3", "nightly-2", "nightly-1"]
    decision = decide(tags, {}, NOW, Policy(keep_per_minor=1))
    assert decision.victims == [] and set(decision.kept) == set(tags)
    assert "no semver tags" in decision.warnings[0]
    # Beside another rule it is simply not applied.
    decision = decide(tags, {}, NOW, Policy(keep=1, keep_per_minor=1))
    assert decision.victims == ["nightly-2", "nightly-1"] and decision.warnings


@pytest.mark.parametrize("kwargs, message", [
    ({}, "gc needs a retention rule"),
    ({"protect": ("x*",)}, "gc needs a retention rule"),
    ({"include_releases": True}, "gc needs a retention rule"),
    ({"keep": -1}, "--keep -1: must be 0 or more"),
    ({"keep_per_minor": -2}, "--keep-per-minor -2"),
    ({"keep": 1, "protect": ("v[0-9",)}, "never closed"),
    ({"keep": 1, "protect": ("a/b",)}, "not a tag glob"),
    ({"keep": 1, "protect": ("",)}, "not a tag glob"),
    ({"keep": 1, "protect": ("[a[b]",)}, "inside a [...] class"),
])
def test_bad_policies(kwargs, message):
    with pytest.raises(InputError) as err:
        Policy(**kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("glob", ["*", "stable-*", "v[0-9]*", "1.?", "[!x]*", "a_b-c.d"])
def test_good_globs(glob):
    assert check_glob(glob) == glob


FLOATING = [
    ("a newer release moves everything", "2.1.0", ["2.1.0", "2.1", "2", "latest"], ["2.0.1", "1.9.0"], {}),
    ("a backport moves its lines, not latest", "1.9.1", ["1.9.1", "1.9", "1", "latest"],
     ["2.0.1", "2.0", "2", "latest", "1.9.0", "1.9", "1"], {"latest"}),
    ("an older patch moves nothing", "1.9.0", ["1.9.0", "1.9", "1", "latest"], ["2.0.1", "1.9.1", "1.9.0"],
     {"1.9", "1", "latest"}),
    ("an older minor moves 1.8 only", "1.8.4", ["1.8.4", "1.8", "1", "latest"], ["1.9.1", "1.8.3"], {"1", "latest"}),
    ("v prefix", "v1.9.0", ["v1.9.0", "v1.9", "v1"], ["v1.9.1"], {"v1.9", "v1"}),
    ("a pre-release never counts as published", "2.0.0", ["2.0", "2"], ["2.1.0-rc.1"], {}),
    ("re-publishing the same version moves", "1.9.1", ["1.9", "1"], ["1.9.1"], {}),
    ("a number that is not this run's line is no floating tag", "1.9.0", ["7"], ["7.1.0"], {}),
    ("nothing published yet", "0.1.0", ["0.1", "0", "latest"], [], {}),
]


@pytest.mark.parametrize("label, version, tags, published, refused", FLOATING, ids=[c[0] for c in FLOATING])
def test_floating_tags_never_go_back(label, version, tags, published, refused):
    assert set(floating_refusals(version, tags, published)) == set(refused)


def test_the_summary_says_what_was_kept_and_deleted():
    from alba_action.report.summary import retention_section

    lines = retention_section([
        {"kind": "static", "target": "s3://b", "tags": ["dev-1"], "kept": {"2.0.0": ["release"]},
         "deleted": ["df-dist-v1/app/dev-1", "df-dist-v1/app/dev-1/linux/amd64/app"],
         "validation": {"whole": True}, "warnings": []},
        {"kind": "container", "target": "docker://r/app", "removed_tags": [], "kept": {"main": ["keep 1"]},
         "deleted": [], "validation": {"whole": True}, "warnings": ["--keep-per-minor 1: no semver tags"]},
    ])
    assert lines[0] == "### Retention"
    assert "| `s3://b` | `2.0.0` (release) | `dev-1` | 2 | yes |" in lines
    assert "| `docker://r/app` | `main` (keep 1) | none | 0 | yes |" in lines
    assert "> --keep-per-minor 1: no semver tags" in lines
    assert retention_section([]) == []
