"""The action's inputs, workflow commands and output formats: table-driven, no servers needed."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from alba_action.errors import InputError
from alba_action.report import outputs
from alba_action.report.ci import CiLog, escape_data, escape_property
from alba_action.settings import ActionSettings, env_names, load_settings, secret_values, unknown_names

REPO = Path(__file__).resolve().parents[2]
CASES = json.loads((Path(__file__).parents[1] / "fixtures/action/settings_cases.json").read_text())


@pytest.mark.parametrize("case", CASES["cases"], ids=lambda c: c["name"])
def test_settings_from_env(case):
    if "error" in case:
        with pytest.raises(InputError) as info:
            load_settings(case["env"])
        text = str(info.value)
        for part in case["error"]:
            assert part in text
        for part in case.get("absent", []):
            assert part not in text
        return
    settings = load_settings(case["env"])
    for key, value in case["expect"].items():
        assert getattr(settings, key) == value, key


@pytest.mark.parametrize("case", CASES["warnings"], ids=lambda c: ",".join(c["env"]))
def test_unknown_names_warned_with_a_hint(case):
    warnings = unknown_names(case["env"])
    if not case["expect"]:
        assert warnings == []
        return
    assert len(warnings) == 1
    for part in case["expect"]:
        assert part in warnings[0]


def test_every_spelling_of_an_input():
    assert env_names("static-dir") == ["INPUT_STATIC-DIR", "INPUT_STATIC_DIR", "PLUGIN_STATIC_DIR",
                                       "PLUGIN_STATIC-DIR", "ALBA_STATIC_DIR"]
    assert env_names("name") == ["INPUT_NAME", "PLUGIN_NAME", "ALBA_NAME"]


def test_secrets_found_under_every_spelling():
    env = {"INPUT_REGISTRY-PASSWORD": "a-secret-1", "PLUGIN_AWS_SECRET_ACCESS_KEY": "a-secret-2",
           "AWS_SESSION_TOKEN": "a-secret-3", "ALBA_REGISTRY_PASSWORD": "a-secret-4", "INPUT_NAME": "public"}
    assert sorted(secret_values(env)) == ["a-secret-1", "a-secret-2", "a-secret-3", "a-secret-4"]


def test_secret_fields_hidden_from_repr():
    s = load_settings({"INPUT_NAME": "n", "INPUT_STATIC-DIR": "d", "INPUT_REGISTRY-PASSWORD": "pw-Zq81-never-shown"})
    assert "pw-Zq81-never-shown" not in repr(s)


# --- action.yml ------------------------------------------------------------------------


def _action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text())


def test_action_yml_declares_every_setting_with_description_and_default():
    action = _action()
    inputs = action["inputs"]
    fields = {name.replace("_", "-") for name in ActionSettings.model_fields}
    assert set(inputs) == fields
    for name, spec in inputs.items():
        assert spec.get("description"), name
        assert "default" in spec, name
    assert inputs["name"]["required"] is True
    assert {"name", "description", "branding"} <= set(action)


def test_action_yml_maps_every_input_into_the_composite_step():
    action = _action()
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "alba")
    for name in action["inputs"]:
        key = "INPUT_" + name.upper().replace("-", "_")
        assert step["env"][key] == f"${{{{ inputs.{name} }}}}", name


def test_action_yml_outputs():
    outs = _action()["outputs"]
    assert set(outs) == {"version", "tags", "labels", "annotations", "attestations", "digest", "digests", "urls", "json",
                         "release-id"}
    for name, spec in outs.items():
        assert spec["value"] == f"${{{{ steps.alba.outputs.{name} }}}}"
        assert spec["description"]


# --- workflow commands -----------------------------------------------------------------


@pytest.mark.parametrize("text,data,prop", [
    ("plain", "plain", "plain"),
    ("50% done\nnext\r", "50%25 done%0Anext%0D", "50%25 done%0Anext%0D"),
    ("a: b, c", "a: b, c", "a%3A b%2C c"),
])
def test_escaping(text, data, prop):
    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_actions_log_masks_first_and_redacts():
    out = io.StringIO()
    log = CiLog(out, commands=True)
    log.mask("line-one-secret\nline-two-secret")
    log.mask("ab")  # too short to be a secret worth masking
    log.line("token line-two-secret leaked")
    with log.group("push: a,b"):
        log.error("bad line-one-secret", title="TargetError")
    log.warning("careful\n100%")
    lines = out.getvalue().splitlines()
    assert lines[:3] == ["::add-mask::line-one-secret%0Aline-two-secret", "::add-mask::line-one-secret",
                         "::add-mask::line-two-secret"]
    assert lines[3:] == ["token *** leaked", "::group::push: a,b", "::error title=TargetError::bad ***",
                         "::endgroup::", "::warning::careful%0A100%25"]


def test_plain_log_never_prints_the_secret():
    out = io.StringIO()
    log = CiLog(out, commands=False)  # Woodpecker, Drone: `::add-mask::X` would print X
    log.mask("pw-Zq81-never-shown")
    log.line("pw-Zq81-never-shown")
    log.error("failed with pw-Zq81-never-shown", title="TargetError")
    with log.group("step"):
        pass
    text = out.getvalue()
    assert "pw-Zq81-never-shown" not in text and "::" not in text
    assert text.splitlines() == ["***", "error: TargetError: failed with ***", "── step ──"]


# --- $GITHUB_OUTPUT ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["", "1.2.3", "a\nb", "x\r\ny", "ghadelimiter_\nEOF\n", '{"k": "v=1"}'])
def test_output_round_trip(value):
    text = outputs.format_output("key", value) + outputs.format_output("after", "z")
    parsed = outputs.parse_outputs(text)
    assert parsed == {"key": value, "after": "z"}
    if "\n" in value:
        delimiter = text.split("\n", 1)[0].split("<<", 1)[1]
        assert delimiter not in value and delimiter.startswith("ghadelimiter_")


def test_pull_host_and_refs():
    result = {"target": "docker://registry-1.docker.io/dxflrs/albatros", "name": "dxflrs/albatros",
              "tags": ["0.9", "latest"], "digest": "sha256:abc"}
    assert outputs.image_refs(result, "") == ["docker.io/dxflrs/albatros:0.9", "docker.io/dxflrs/albatros:latest",
                                              "docker.io/dxflrs/albatros@sha256:abc"]
    static = {"target": "s3://registry at http://h", "name": "albatros", "tags": ["0.9"], "digest": "sha256:abc"}
    assert outputs.image_refs(static, "") == []
    assert outputs.image_refs(static, "https://registry.example.org/")[0] == "registry.example.org/albatros:0.9"


def test_release_workflow_uses_only_known_inputs():
    workflow = yaml.safe_load((REPO / ".forgejo/workflows/release.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"] if s.get("uses") == "./"]
    assert len(steps) == 1
    assert set(steps[0]["with"]) <= set(_action()["inputs"])
    assert steps[0]["with"]["dry-run"] == "${{ secrets.AWS_SECRET_ACCESS_KEY == '' }}"
