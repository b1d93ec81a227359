"""Parts planning, pure: release ids, --platforms, record keys and documents, the assemble check."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from alba_action.errors import InputError
from alba_action.parts import plan
from alba_action.parts.static import Found, check
from alba_action.platforms import Platform

AMD, ARM, V7 = Platform("linux", "amd64"), Platform("linux", "arm64"), Platform("linux", "arm", "v7")


@pytest.mark.parametrize("text, expected", [
    ("linux/amd64,linux/arm64", (AMD, ARM)),
    ("linux/arm64 linux/amd64", (AMD, ARM)),  # spaces, and the one platform order
    ("linux/arm/v7\nlinux/amd64", (AMD, V7)),
    ("linux/amd64,", (AMD,)),
])
def test_platforms_parse_in_the_one_order(text, expected):
    assert plan.parse_platforms(text, "--platforms") == expected


@pytest.mark.parametrize("text, message", [
    ("linux/amd65", "--platforms: unknown architecture 'amd65'"),
    ("linx/amd64", "--platforms: unknown os 'linx'"),
    ("linux.amd64", "--platforms: 'linux.amd64' is not os/arch[/variant]"),
    ("linux/amd64,linux/amd64", "--platforms: linux/amd64 given twice"),
    ("", "--platforms: no platform given"),
])
def test_bad_platforms_name_the_input(text, message):
    with pytest.raises(InputError) as err:
        plan.parse_platforms(text, "--platforms")
    assert err.value.message == message


@pytest.mark.parametrize("given, run_id, expected", [
    ("41", "", "41"),
    ("", "12345", "12345"),  # the CI run's id
    ("rc-1.2", "999", "rc-1.2"),  # given wins
])
def test_release_id(given, run_id, expected):
    assert plan.release_id(given, SimpleNamespace(run_id=run_id), "--release-id") == expected


@pytest.mark.parametrize("given, ctx", [("", None), ("", SimpleNamespace(run_id="")), ("a/b", None), ("-x", None),
                                        ("x" * 65, None)])
def test_release_id_errors(given, ctx):
    with pytest.raises(InputError) as err:
        plan.release_id(given, ctx, "--release-id")
    assert "--release-id" in err.value.message


@pytest.mark.parametrize("platform, key", [
    (AMD, "df-dist-v1/_parts/tool/7/linux.amd64.json"),
    (V7, "df-dist-v1/_parts/tool/7/linux.arm.v7.json"),
])
def test_record_keys_one_per_platform(platform, key):
    assert plan.static_record_key("tool", "7", platform) == key


def test_record_document_is_compact_and_ordered():
    doc = plan.static_record("tool", "7", AMD, [{"path": "tool", "size": 3, "digest": "sha256:ab"}],
                             [plan.PartFile("linux/amd64/tool", 3, "sha256:ab")])
    assert doc == (b'{"name":"tool","release":"7","platform":{"architecture":"amd64","os":"linux"},'
                   b'"resources":[{"path":"tool","size":3,"digest":"sha256:ab"}],'
                   b'"files":[{"path":"linux/amd64/tool","size":3,"digest":"sha256:ab"}]}')
    assert plan.record_platform(plan.read_record(doc, "x")) == AMD


REC = {"files": []}


@pytest.mark.parametrize("found, platforms, outcome", [
    ({"s3://a": Found({AMD: REC, ARM: REC}, None)}, (AMD, ARM), False),
    ({"s3://a": Found({AMD: REC, ARM: REC}, None), "file:///b": Found({AMD: REC}, None)}, (AMD, ARM),
     "file:///b has no part linux/arm64"),
    ({"s3://a": Found({}, None)}, (AMD,), "s3://a has no part linux/amd64"),
    ({"s3://a": Found({AMD: REC, ARM: REC}, None)}, (AMD,), "also has parts linux/arm64"),
    ({"s3://a": Found({}, {"tags": ["1.0", "latest"]})}, (AMD,), True),  # assembled already: nothing to do
    ({"s3://a": Found({}, {"tags": ["1.0"]}), "s3://b": Found({AMD: REC}, None)}, (AMD,), False),
    ({"s3://a": Found({}, {"tags": ["0.9"]})}, (AMD,), "was assembled as 0.9"),
], ids=["complete", "missing-on-one-target", "nothing", "extra-platform", "done", "done-on-one", "done-other-tag"])
def test_assemble_check(found, platforms, outcome):
    if isinstance(outcome, bool):
        assert check(found, "tool", "7", platforms, ["1.0"]) is outcome
        return
    with pytest.raises(InputError) as err:
        check(found, "tool", "7", platforms, ["1.0"])
    assert outcome in err.value.message
    assert "nothing was assembled" in err.value.message or "also has" in outcome or "assembled as" in outcome


def test_missing_parts_lists_every_target_and_platform_in_order():
    found = {"s3://a": {AMD: REC}, "docker://r/x": {}}
    assert [str(m) for m in plan.missing_parts(found, (AMD, ARM))] == [
        "s3://a has no part linux/arm64", "docker://r/x has no part linux/amd64", "docker://r/x has no part linux/arm64"]


@pytest.mark.parametrize("settings, message", [
    (dict(part=True), "--release-id is required outside a CI run"),
    (dict(part=True, assemble=("linux/amd64",), release_id="1"), "--part and --assemble together"),
    (dict(assemble=("linux/amd65",), release_id="1"), "--platforms: unknown architecture 'amd65'"),
])
def test_settings_refuse_bad_part_input(settings, message, tmp_path):
    from alba_action.config import Settings, build_request

    s = Settings(name="tool", tags=("1.0",), static_dir=str(tmp_path), static_targets=(f"file://{tmp_path}/o",),
                 **settings)
    with pytest.raises(InputError) as err:
        build_request(s, s.tags, "", None, {}, tmp_path)
    assert message in err.value.message
