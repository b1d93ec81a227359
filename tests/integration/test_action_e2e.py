"""entrypoint.py end to end, as GitHub/Forgejo and Woodpecker run it, against moto, nginx and docker-registry."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from imagefixtures import make_layer_tar, write_nix_archive
from registry_server import PASSWORD, USER
from servers import CREDENTIALS, REPO, alba_env
from ci_env import AWS_SECRET, PLATFORMS, SHA, assert_secret_nowhere, github_env, run_entrypoint, woodpecker_env  # noqa: F401

from alba_action.images.model import Platform
from alba_action.report.outputs import parse_outputs

def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def skopeo_raw(ref: str, *extra: str) -> bytes:
    out = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", *extra, f"docker://{ref}"],
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout


def bucket_keys(moto, name: str) -> list[str]:
    return [o["Key"] for o in moto.client().list_objects_v2(Bucket=name).get("Contents", [])]


def test_github_tag_push_to_bucket_served_by_nginx(workspace, moto, bucket, website):
    name, url = bucket
    env = github_env(workspace, **{
        "name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
        "container-targets": url, "public-url": f"http://{website}", "registry-public-url": f"http://{website}",
        "tags": "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}",
        "aws-secret-access-key": AWS_SECRET, "output-file": "out/alba.json",
    })
    proc = run_entrypoint(workspace, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"::add-mask::{AWS_SECRET}"
    assert "::group::check inputs and targets" in lines and "::endgroup::" in lines

    out = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())
    assert out["version"] == "1.2.3"
    assert out["tags"] == "1.2.3\n1.2\nlatest"
    digest = out["digest"]
    assert sorted(json.loads(out["digests"])) == ["linux/amd64", "linux/arm64"]
    doc = json.loads(out["json"])
    assert doc == json.loads((workspace / "out/alba.json").read_text())
    assert doc["containers"][0]["digest"] == digest

    # What the outputs point at is really there, through the public (nginx) address.
    file_url = f"http://{website}/df-dist-v1/tool/1.2.3/linux/arm64/tool"
    assert file_url in out["urls"].splitlines()
    assert urllib.request.urlopen(file_url, timeout=10).read() == b"tool for arm64\n"
    pull = f"{website}/tool:1.2.3"
    assert pull in out["urls"].splitlines()
    assert sha256(skopeo_raw(pull)) == digest

    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    for part in ("## ✅ alba published", digest, f"docker pull {pull}", file_url, "linux/arm64",
                 json.loads(out["digests"])["linux/amd64"]):
        assert part in summary
    assert_secret_nowhere(AWS_SECRET, proc, Path(env["GITHUB_OUTPUT"]), Path(env["GITHUB_STEP_SUMMARY"]),
                          workspace / "out/alba.json")


def test_woodpecker_to_bucket_and_registry_with_password(workspace, moto, bucket, registry_htpasswd):  # noqa: F811
    name, url = bucket
    registry = registry_htpasswd
    env = woodpecker_env(workspace, **{
        "name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
        "container-targets": registry.url("acme/tool"), "registry-username": USER, "registry-password": PASSWORD,
        "tags": "type=ref,event=branch,type=sha", "output-file": "alba.json",  # a YAML list, comma-joined
    })
    proc = run_entrypoint(workspace, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::" not in proc.stdout  # Woodpecker has no workflow commands; `::add-mask::X` would print X
    doc = json.loads((workspace / "alba.json").read_text())
    assert doc["tags"] == ["main", "sha-0123456"] and doc["version"] == "main"
    assert "df-dist-v1/tool/main/linux/amd64/tool" in bucket_keys(moto, name)
    ref = f"{registry.address}/acme/tool:main"
    assert ref in doc["urls"]
    raw = skopeo_raw(ref, f"--creds={USER}:{PASSWORD}")
    assert sha256(raw) == doc["digest"]
    assert [m["platform"]["architecture"] for m in json.loads(raw)["manifests"]] == list(PLATFORMS)
    assert_secret_nowhere(PASSWORD, proc, workspace / "alba.json")
    assert_secret_nowhere(AWS_SECRET, proc, workspace / "alba.json")

    again = run_entrypoint(workspace, env)  # a re-run is a no-op: same digest, tags left alone
    assert again.returncode == 0, again.stdout + again.stderr
    redo = json.loads((workspace / "alba.json").read_text())
    assert redo["digest"] == doc["digest"]
    assert redo["containers"][0]["unchanged_tags"] == ["main", "sha-0123456"]
    assert redo["containers"][0]["pushed_blobs"] == []


def test_dry_run_writes_outputs_but_no_object(workspace, moto, bucket):
    name, url = bucket
    env = github_env(workspace, **{"name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
                                   "container-targets": url, "dry-run": "true"})
    proc = run_entrypoint(workspace, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert bucket_keys(moto, name) == []
    out = parse_outputs(Path(env["GITHUB_OUTPUT"]).read_text())
    assert json.loads(out["json"])["dry_run"] is True and out["digest"].startswith("sha256:")
    assert "Dry run" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()


def test_default_target_is_a_local_folder(workspace):
    env = woodpecker_env(workspace, name="tool", **{"static-dir": "df", "tags": "type=raw,value=dev"})
    proc = run_entrypoint(workspace, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (workspace / "alba-public/df-dist-v1/tool/dev/linux/amd64/tool").read_text() == "tool for amd64\n"


BAD = [
    ("invalid tag rule", {"tags": "type=semver,pattern={{version}}\ntype=bogus,value=x"}, "'type=bogus,value=x'"),
    ("no tag for this event", {"tags": "type=semver,pattern={{version}}"}, "'tags'"),
    ("output file cannot be written", {"output-file": "blocker/alba.json"}, "output-file"),
    ("name missing", {"name": ""}, "input 'name' is required"),
    ("static dir missing", {"static-dir": "nope"}, "static-dir 'nope'"),
    ("bad compression", {"compression": "lz4"}, "'compression'"),
]


@pytest.mark.parametrize("inputs,expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_fails_before_any_upload(workspace, moto, bucket, inputs, expected):
    name, url = bucket
    (workspace / "blocker").write_text("a file where a folder is needed")
    settings = {"name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
                "container-targets": url, "registry-password": PASSWORD, **inputs}
    ref = "refs/heads/main" if expected == "'tags'" else "refs/tags/v1.2.3"
    env = github_env(workspace, ref=ref, **{k: v for k, v in settings.items() if v})
    proc = run_entrypoint(workspace, env)
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert expected in last and " — " in last  # the message and its fix
    assert proc.stdout.splitlines()[0] == f"::add-mask::{PASSWORD}"
    assert any(line.startswith("::error title=") for line in proc.stdout.splitlines())
    assert bucket_keys(moto, name) == []
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert "## ❌ alba failed" in summary and "Nothing was published." in summary
    assert_secret_nowhere(PASSWORD, proc, Path(env["GITHUB_STEP_SUMMARY"]))
