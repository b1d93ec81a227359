"""Image metadata from the source: explicit values over the git/CI context, SOURCE_DATE_EPOCH
for `created`, and the same annotations on OCI platform manifests."""

from __future__ import annotations

import pytest

from alba_action.context import image_annotations, manifest_annotations, source_annotations, source_date
from alba_action.context.model import Context
from alba_action.errors import InputError

OCI = "org.opencontainers.image."
CTX = Context(provider="github", sha="a" * 40, repo_url="https://github.com/acme/tool",
              commit_date="2024-03-01T10:00:00Z")


@pytest.mark.parametrize("ctx, kwargs, expected", [
    (CTX, {}, {"created": "2024-03-01T10:00:00Z", "revision": "a" * 40, "source": "https://github.com/acme/tool",
               "version": "1.2.0"}),
    (CTX, {"created": "2023-11-14T22:13:20Z", "source": "https://code.example.org/acme/tool", "revision": "b" * 40,
           "licenses": "MIT OR Apache-2.0", "description": "  A tool.  "},
     {"created": "2023-11-14T22:13:20Z", "revision": "b" * 40, "source": "https://code.example.org/acme/tool",
      "version": "1.2.0", "licenses": "MIT OR Apache-2.0", "description": "A tool."}),
    # no commit time found (the clock stood in): no `created`, unless SOURCE_DATE_EPOCH gives one
    (Context(provider="local", commit_date="2026-01-01T00:00:00Z", commit_date_is_now=True), {}, {"version": "1.2.0"}),
    (Context(provider="local", commit_date_is_now=True), {"created": "2023-11-14T22:13:20Z"},
     {"created": "2023-11-14T22:13:20Z", "version": "1.2.0"}),
])
def test_image_annotations(ctx, kwargs, expected):
    assert image_annotations(ctx, "1.2.0", **kwargs) == {OCI + k: v for k, v in expected.items()}


def test_source_annotations_leave_out_empty_values():
    assert source_annotations(licenses="MIT", description=" ") == {OCI + "licenses": "MIT"}


@pytest.mark.parametrize("env, expected", [
    ({}, ""), ({"SOURCE_DATE_EPOCH": ""}, ""), ({"SOURCE_DATE_EPOCH": "0"}, "1970-01-01T00:00:00Z"),
    ({"SOURCE_DATE_EPOCH": "1700000000"}, "2023-11-14T22:13:20Z"), ({"SOURCE_DATE_EPOCH": " 1700000000\n"},
                                                                      "2023-11-14T22:13:20Z"),
])
def test_source_date_epoch(env, expected):
    assert source_date(env) == expected


@pytest.mark.parametrize("text", ["-1", "1.5", "yesterday", "99999999999999999999"])
def test_a_bad_source_date_epoch_is_an_input_error(text):
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        source_date({"SOURCE_DATE_EPOCH": text})


def test_manifest_annotations_only_with_oci():
    index = {OCI + "source": "https://x", OCI + "licenses": "MIT", "com.example.team": "infra"}
    assert manifest_annotations(index, "oci") == {OCI + "source": "https://x", OCI + "licenses": "MIT"}
    assert manifest_annotations(index, "docker") == {}
