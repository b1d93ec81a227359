"""The one settings model: built from flags or from CI inputs, each default written once, and
one request builder, signer loader and run-options reader for every entry point."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from alba_action import cli
from alba_action.config import DEFAULTS, KeyFile, Settings, build_request, load_signers, read_key_file
from alba_action.context.model import Context
from alba_action.errors import InputError
from alba_action.options import run_options
from alba_action.publish_command import flag_values
from alba_action.request import RunOptions, Secret
from alba_action.settings import ActionSettings, load_settings
from alba_action.targets.url import all_registries

CTX = Context("github", sha="a" * 40, repo_url="https://github.com/acme/tool", commit_date="2024-05-01T10:00:00Z")


# --- defaults, written once ------------------------------------------------------------

# Fields whose input form differs (text lines or lists in, tuples or secrets in the model) aside.
SHARED = sorted((set(ActionSettings.model_fields) & {f.name for f in dataclasses.fields(Settings)})
                - {"name", "registry_password", "minisign_key", "minisign_password", "sign_key", "sign_password",
                   "annotations", "container_targets", "tags", "assemble"})


@pytest.mark.parametrize("field", SHARED)
def test_an_input_defaults_to_the_settings_models_default(field):
    assert ActionSettings.model_fields[field].default == getattr(DEFAULTS, field)


@pytest.mark.parametrize("attr, var, text, expected", [
    ("settle_seconds", "ALBA_SETTLE_SECONDS", "2", 2.0),
    ("gc_grace_seconds", "ALBA_GC_GRACE_SECONDS", "15m", 900.0),
    ("retry_budget_seconds", "ALBA_RETRY_BUDGET_SECONDS", "4", 4.0),
    ("request_timeout_seconds", "ALBA_REQUEST_TIMEOUT_SECONDS", "3", 3.0),
    ("request_timeout_seconds", "ALBA_REQUEST_TIMEOUT_SECONDS", "0", RunOptions.request_timeout_seconds),
    ("multipart_threshold", "ALBA_MULTIPART_THRESHOLD", "8M", 8 << 20),
    ("cache_max_bytes", "ALBA_CACHE_MAX_SIZE", "1G", 1 << 30),
], ids=["settle", "grace-minutes", "budget", "timeout", "timeout-zero-is-default", "multipart", "cache"])
def test_run_options_read_each_variable(attr, var, text, expected):
    assert getattr(run_options({var: text}), attr) == expected


@pytest.mark.parametrize("attr", ["settle_seconds", "gc_grace_seconds", "retry_budget_seconds",
                                  "request_timeout_seconds", "multipart_threshold", "cache_max_bytes", "parallel"])
def test_run_options_unset_keep_the_one_default(attr):
    assert getattr(run_options({"HOME": "/h"}), attr) == getattr(RunOptions, attr)


@pytest.mark.parametrize("var, text", [("ALBA_RETRY_BUDGET_SECONDS", "soon"), ("ALBA_SETTLE_SECONDS", "-1x"),
                                       ("ALBA_MULTIPART_THRESHOLD", "big"), ("ALBA_CACHE_MAX_SIZE", "10Q")])
def test_a_bad_variable_names_itself_and_the_fix(var, text):
    with pytest.raises(InputError) as raised:
        run_options({var: text})
    assert raised.value.message.startswith(f"{var}={text!r}") and var in raised.value.fix


def test_given_values_win_and_secrets_stay_secret():
    options = run_options({"ALBA_REGISTRY_PASSWORD": "pw-Zq81", "ALBA_REGISTRY_USERNAME": "u", "HOME": "/h"},
                          parallel=3, registry_username="", cache_max_bytes=None)
    assert options.parallel == 3 and options.registry_username == "u"  # "" and None leave the field alone
    assert options.registry_password.value == "pw-Zq81" and "pw-Zq81" not in repr(options)
    assert options.docker_config == Path("/h/.docker/config.json")
    assert run_options({"DOCKER_CONFIG": "/d", "HOME": "/h"}).docker_config == Path("/d/config.json")


# --- one request builder ------------------------------------------------------------------

def _flags(*argv: str) -> argparse.Namespace:
    return cli.parser(list(argv)).parse_args(list(argv))


def test_a_container_push_and_the_step_build_the_same_request(tmp_path):
    (tmp_path / "docker").mkdir()
    args = _flags("container", "push", "-t", "tool:1.2.3", "--annotation", "org.opencontainers.image.version=1.2.3",
                  "--jobs", "4", str(tmp_path / "docker"), "file:///out")
    from_flags = build_request(cli.push_settings(args, {}), ["1.2.3"], "", CTX, {"HOME": "/h"}, tmp_path)
    inputs = load_settings({"INPUT_NAME": "tool", "INPUT_CONTAINER-DIR": "docker",
                            "INPUT_CONTAINER-TARGETS": "file:///out", "INPUT_JOBS": "4"})
    from_inputs = build_request(inputs.to_settings(), ["1.2.3"], "1.2.3", CTX, {"HOME": "/h"}, tmp_path)
    assert from_flags.image.annotations == from_inputs.image.annotations == {
        "org.opencontainers.image.created": "2024-05-01T10:00:00Z",
        "org.opencontainers.image.revision": "a" * 40,
        "org.opencontainers.image.source": "https://github.com/acme/tool",
        "org.opencontainers.image.version": "1.2.3"}
    assert from_flags.options == from_inputs.options and from_flags.options.parallel == 4
    assert (from_flags.name, from_flags.tags, from_flags.container_targets) == \
           (from_inputs.name, from_inputs.tags, from_inputs.container_targets)


def test_the_step_resolves_folders_and_file_targets_in_the_workspace(tmp_path):
    (tmp_path / "df").mkdir()
    s = load_settings({"INPUT_NAME": "tool", "INPUT_STATIC-DIR": "df"}).to_settings()
    req = build_request(s, ["1"], "", None, {}, tmp_path)
    assert req.static_dir == tmp_path / "df"
    assert req.static_targets == (f"file://{(tmp_path / 'alba-public').resolve()}",)  # the embedded default


def test_a_missing_folder_names_the_input(tmp_path):
    s = load_settings({"INPUT_NAME": "tool", "INPUT_STATIC-DIR": "nowhere"}).to_settings()
    with pytest.raises(InputError, match=r"static-dir 'nowhere' is not a folder"):
        build_request(s, ["1"], "", None, {}, tmp_path)


@pytest.mark.parametrize("from_inputs, named", [(False, "--annotation"), (True, "input 'annotations'")])
def test_a_bad_annotation_is_named_as_the_user_wrote_it(tmp_path, from_inputs, named):
    s = Settings(name="tool", container_dir=str(tmp_path), container_targets=("file:///o",),
                 annotations=("no-equals-sign",), from_inputs=from_inputs)
    with pytest.raises(InputError) as raised:
        build_request(s, ["1"], "", None, {}, tmp_path)
    assert raised.value.message.startswith(f"{named} 'no-equals-sign'")


def test_user_source_annotations_go_on_the_index_and_oci_manifests_only(tmp_path):
    s = Settings(name="tool", container_dir=str(tmp_path), container_targets=("file:///o",),
                 source="https://forge/x", licenses="MIT")
    req = build_request(s, ["1"], "", CTX, {"SOURCE_DATE_EPOCH": "0"}, tmp_path)
    assert req.image.annotations["org.opencontainers.image.source"] == "https://forge/x"
    assert req.image.annotations["org.opencontainers.image.created"] == "1970-01-01T00:00:00Z"
    assert req.image.manifest_annotations == {"org.opencontainers.image.created": "1970-01-01T00:00:00Z",
                                              "org.opencontainers.image.source": "https://forge/x",
                                              "org.opencontainers.image.licenses": "MIT"}
    docker = build_request(dataclasses.replace(s, format="docker"), ["1"], "", CTX, {}, tmp_path)
    assert dict(docker.image.manifest_annotations) == {}  # Docker v2 manifests carry no annotations


@pytest.mark.parametrize("targets, expected", [
    ((), False), (("docker://h/r",), True), (("docker://h/r", "docker://g/r"), True),
    (("docker://h/r", "s3://b"), False), (("file:///x",), False)])
def test_all_registries(targets, expected):
    assert all_registries(targets) is expected


def test_push_to_registries_alone_takes_name_and_tags_from_the_urls(tmp_path):
    args = _flags("container", "push", str(tmp_path), "docker://h/acme/tool:1")
    assert (cli.push_settings(args, {}).name, cli.push_settings(args, {}).tags) == ("", ())
    with pytest.raises(InputError):
        cli.push_settings(_flags("container", "push", str(tmp_path), "file:///x"), {})


# --- `alba publish`: flags fill the settings, never environment strings ------------------

def test_publish_flags_become_typed_values():
    args = _flags("publish", "--name", "tool", "--static-dir", "df", "--static-target", "s3://a",
                  "--static-target", "s3://b", "--tags", "type=sha", "--tags", "type=raw,value=dev",
                  "--dry-run", "--no-page", "--jobs", "2")
    assert flag_values(args) == {"name": "tool", "static_dir": "df", "static_target": ["s3://a", "s3://b"],
                                 "tags": "type=sha\ntype=raw,value=dev", "dry_run": True, "page": False, "jobs": "2"}


def test_publish_ignores_input_variables_but_reads_secrets():
    env = {"INPUT_NAME": "other", "INPUT_STATIC-DIR": "elsewhere", "ALBA_REGISTRY_PASSWORD": "pw",
           "INPUT_AWS-SECRET-ACCESS-KEY": "sk"}
    s = load_settings(env, given={"name": "tool", "static_dir": "df", "jobs": "2"})
    assert (s.name, s.static_dir, s.jobs) == ("tool", "df", 2)
    assert s.registry_password == "pw" and s.aws_secret_access_key == "sk"


def test_publish_flags_are_validated_like_inputs():
    with pytest.raises(InputError, match="compression"):
        load_settings({}, given={"name": "t", "static_dir": "d", "compression": "lzma"})


# --- one signer loader ------------------------------------------------------------------

def _pem(password: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    encryption = serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


@pytest.mark.parametrize("sign_password, env, ok", [
    ("pw", {}, True), ("", {"COSIGN_PASSWORD": "pw"}, True), ("pw", {"COSIGN_PASSWORD": "wrong"}, True),
    ("", {}, False), ("wrong", {"COSIGN_PASSWORD": "pw"}, False)],
    ids=["own-password", "cosign-fallback", "own-wins", "no-password", "wrong-password"])
def test_the_image_key_password_falls_back_to_cosign_password(sign_password, env, ok):
    s = Settings(sign_key=KeyFile(_pem("pw"), "--sign-key k.pem"), sign_password=Secret(sign_password))
    if ok:
        minisign, signer = load_signers(s, env)
        assert minisign is None and signer is not None
    else:
        with pytest.raises(InputError) as raised:
            load_signers(s, env)
        assert "--sign-key k.pem" in raised.value.message and "pw" not in raised.value.message


def test_no_keys_no_signers():
    assert load_signers(Settings(), {"COSIGN_PASSWORD": "x"}) == (None, None)


def test_an_unreadable_key_file_names_the_flag(tmp_path):
    with pytest.raises(InputError, match=r"--sign-key .*missing.pem: cannot read it"):
        read_key_file(tmp_path / "missing.pem", "--sign-key")
    (tmp_path / "k").write_bytes(b"key")
    key = read_key_file(tmp_path / "k", "--minisign-key")
    assert key.data == b"key" and key.label == f"--minisign-key {tmp_path / 'k'}" and "key" not in repr(key)[:9]
