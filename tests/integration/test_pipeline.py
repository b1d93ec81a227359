"""One pipeline for the command line and the CI step: same objects, several targets, no shared state."""

from __future__ import annotations

import io
import json
import os
import subprocess

import pytest
from servers import alba_env, run_alba
from ci_env import github_env, run_entrypoint
from workloads import nix_images

from alba_action.pipeline import PlainTrace, publish
from alba_action.report.progress import Reporter
from alba_action.request import ImageOptions, PublishRequest, RunOptions


def bucket_objects(moto, name: str) -> dict[str, bytes]:
    """Every object's bytes; JSON documents without fields that record when they were written."""
    client = moto.client()
    out = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for obj in page.get("Contents", []):
            data = client.get_object(Bucket=name, Key=obj["Key"])["Body"].read()
            if obj["Key"].endswith("index.html"):
                continue  # download pages show publication times; their documents are compared
            if obj["Key"].startswith("df-dist-v1/") and data.startswith(b"{"):
                doc = json.loads(data)
                doc.pop("published", None)
                doc.pop("etags", None)  # the name document's record of its tag documents' versions
                data = json.dumps(doc, sort_keys=True).encode()
            out[obj["Key"]] = data
    return out


def new_bucket(moto, name: str) -> str:
    moto.client().create_bucket(Bucket=name)
    return f"s3://{name}?endpoint=127.0.0.1:{moto.port}&disableSSL=true&region=us-east-1"


STEP_INPUTS = {"name": "tool", "static-dir": "df", "container-dir": "docker", "tags": "type=semver,pattern={{version}}"}


def test_cli_publish_command_and_step_write_the_same_objects(moto, aws_env, workspace):  # noqa: F811
    urls = {kind: new_bucket(moto, f"same-{kind}") for kind in ("step", "publish", "cli")}
    env = github_env(workspace, **STEP_INPUTS, **{"static-target": urls["step"], "container-targets": urls["step"]})
    step = run_entrypoint(workspace, env)
    assert step.returncode == 0, step.stderr

    context = {k: v for k, v in github_env(workspace).items() if not k.startswith("GITHUB_OUTPUT")}
    full = alba_env(ALBA_NOW="2024-06-01T00:00:00Z", ALBA_SETTLE_SECONDS="0.2", **context)
    flags = ["--name", "tool", "--static-dir", "df", "--container-dir", "docker", "--tags", STEP_INPUTS["tags"],
             "--static-target", urls["publish"], "--container-target", urls["publish"]]
    r = run_alba("publish", *flags, env=full, cwd=workspace)
    assert r.returncode == 0, r.stderr

    tags = ["-t", "tool:1.2.3", "-t", "tool:latest"]
    r = run_alba("static", "push", *tags, "df", urls["cli"], env=full, cwd=workspace)
    assert r.returncode == 0, r.stderr
    r = run_alba("container", "push", *tags, "--annotation", "org.opencontainers.image.version=1.2.3", "docker",
                 urls["cli"], env=full, cwd=workspace)
    assert r.returncode == 0, r.stderr

    step_objects = bucket_objects(moto, "same-step")
    assert any(k.startswith("v2/tool/manifests/sha256:") for k in step_objects)
    assert any(k.startswith("df-dist-v1/tool/1.2.3/linux/") for k in step_objects)
    assert bucket_objects(moto, "same-publish") == step_objects
    assert bucket_objects(moto, "same-cli") == step_objects


def test_container_push_to_a_bucket_and_a_registry_in_one_run(registry_open, bucket, tmp_path):
    _, url = bucket
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", "-t", "app:2", src, url, registry_open.url("both/app"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [t["tags"] for t in out["targets"]] == [["2"], ["2"]]
    digests = {t["digest"] for t in out["targets"]}
    assert len(digests) == 1
    assert r.stderr.count("-- load archives --") == 1  # loaded once, published twice
    raw = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                          f"docker://{registry_open.address}/both/app:2"], capture_output=True, timeout=60)
    assert raw.returncode == 0, raw.stderr
    assert "sha256:" + __import__("hashlib").sha256(raw.stdout).hexdigest() == digests.pop()


def _run(src, url: str, cache) -> str:
    log = io.StringIO()
    request = PublishRequest("", ("1",), container_dir=src, container_targets=(url,), image=ImageOptions(),
                             options=RunOptions(cache_dir=cache))
    publish(request, PlainTrace(Reporter(stream=log, live=False)))
    return log.getvalue()


def test_two_runs_in_one_process_share_nothing(registry_open, tmp_path):
    """What the first run learnt (which repository holds a blob) does not reach the second:
    within one run the second target mounts, across runs each uploads on its own."""
    src = nix_images(tmp_path / "docker")
    first = _run(src, registry_open.url("iso/a"), tmp_path / "cache")
    second = _run(src, registry_open.url("iso/b"), tmp_path / "cache")
    assert "pushed blob" in first and "pushed blob" in second
    assert "mounted blob" not in second


def test_the_step_leaves_the_process_environment_alone(moto, aws_env, workspace, monkeypatch):  # noqa: F811
    from alba_action.action import main

    url = new_bucket(moto, "env-alone")
    env = github_env(workspace, **STEP_INPUTS, **{"static-target": url, "container-targets": url,
                                                  "aws-access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
                                                  "aws-secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"]})
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    before = dict(os.environ)
    env.update(ALBA_NOW="2024-06-01T00:00:00Z", ALBA_SETTLE_SECONDS="0.1", ALBA_CACHE_DIR=str(workspace.parent / "c"))
    assert main(env, cwd=workspace, stdout=io.StringIO()) == 0  # credentials from the inputs alone
    assert dict(os.environ) == before
    assert "df-dist-v1/tool" in bucket_objects(moto, "env-alone")


NON_ASCII = ["é1", "１"]  # a Latin letter with an accent; a full-width digit (Python's \d matches it)


@pytest.mark.parametrize("tag", NON_ASCII)
def test_non_ascii_tag_refused_everywhere_with_one_message(bucket, tmp_path, tag):
    _, url = bucket
    (tmp_path / "df/linux/amd64").mkdir(parents=True)
    (tmp_path / "df/linux/amd64/tool").write_text("x")
    runs = [
        run_alba("static", "push", "-t", f"tool:{tag}", tmp_path / "df", url),
        run_alba("container", "push", "-t", f"tool:{tag}", tmp_path, url),
        run_alba("container", "push", tmp_path, f"docker://127.0.0.1:1/tool:{tag}"),
        run_alba("static", "rm", "-t", f"tool:{tag}", url),
    ]
    for r in runs:
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode == 2, r.stderr
        assert f"tag {tag!r}: not a valid tag" in last and "up to 128 characters of A-Z" in last, last


def test_bad_annotation_fails_before_anything_is_written(moto, bucket, tmp_path):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    for bad in ("no-equals-sign", "=value", "index-descriptor:a=b"):
        r = run_alba("container", "push", "-t", "app:1", "--annotation", bad, src, url)
        assert r.returncode == 2 and "--annotation" in r.stderr.splitlines()[-1], r.stderr
    assert not moto.client().list_objects_v2(Bucket=name).get("Contents")


@pytest.mark.parametrize("kind", ["bucket", "registry"])
def test_index_digest_does_not_depend_on_the_tag(kind, moto, bucket, registry_open, tmp_path):
    """Promote a tested image by pushing it again under other tags: the same digest, nothing new
    but the tags."""
    _, url = bucket
    target = url if kind == "bucket" else registry_open.url("promote/app")
    src = nix_images(tmp_path / "docker")
    note = ["--annotation", "org.opencontainers.image.licenses=MIT"]
    first = run_alba("container", "push", "-t", "app:0.9", *note, src, target, "--json")
    assert first.returncode == 0, first.stderr
    before = set(bucket_objects(moto, bucket[0]))
    second = run_alba("container", "push", "-t", "app:1.0", "-t", "app:latest", *note, src, target, "--json")
    assert second.returncode == 0, second.stderr
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert two["digest"] == one["digest"]
    assert two["pushed_blobs"] == [] and len(two["existing_blobs"]) == len(one["pushed_blobs"])
    assert "pushed manifest" not in second.stderr
    if kind == "bucket":
        added = set(bucket_objects(moto, bucket[0])) - before
        assert added == {"v2/app/manifests/1.0", "v2/app/manifests/latest"}

