"""Catalogs users can trust: the name document's order is a function of what is stored, the
same for every concurrent writer, with or without conditional writes; gc shows its grace."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from servers import DropConditionalsProxy, run_alba, s3_url
from workloads import nix_images, race

NAME_DOC = r"^/[^/]+/df-dist-v1/[^/]+$"  # GET of a name document (path-style: /BUCKET/KEY)


def tree(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
        (root / "df/linux" / arch / "tool").write_text(f"tool {arch}")
    return root / "df"


def stored_order(moto, bucket: str, tags: list[str]) -> list[str]:
    """The order the stored tag documents give: published, newest first, ties by name."""
    client = moto.client()
    published = {t: json.loads(client.get_object(Bucket=bucket, Key=f"df-dist-v1/tool/{t}")["Body"].read())["published"]
                 for t in tags}
    return sorted(tags, key=lambda t: (published[t], t), reverse=True)


@pytest.fixture
def slow_garage(moto):
    """Garage-like (conditional headers dropped) and name documents read 0.3 s stale."""
    with DropConditionalsProxy(moto.port, delay_reads=NAME_DOC, delay_seconds=0.3) as proxy:
        yield proxy


@pytest.mark.parametrize("store", ["garage-like, stale reads", "honours conditionals"])
@pytest.mark.parametrize("count", [2, 8])
def test_concurrent_publishers_list_every_tag_newest_first(moto, bucket, slow_garage, tmp_path, store, count):
    name, direct = bucket
    url = s3_url(name, slow_garage.port) if store.startswith("garage") else direct
    src = tree(tmp_path)
    assert run_alba("static", "push", "-t", "tool:dev-0", src, url).returncode == 0
    racers = [f"dev-{i}" for i in range(1, count + 1)]
    results = race(url, src, racers)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    listed = run_alba("static", "ls", "-t", "tool", direct, "--json")
    tags = json.loads(listed.stdout)["tags"]
    assert sorted(tags[:-1]) == sorted(racers) and tags[-1] == "dev-0"  # the older one last
    assert tags == stored_order(moto, name, tags)
    if count == 8:
        r = run_alba("static", "gc", "-t", "tool", "--keep", "8", direct, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["tags"] == ["dev-0"]
        assert json.loads(run_alba("static", "ls", "-t", "tool", direct, "--json").stdout)["tags"] == tags[:-1]


def test_republish_moves_to_front_and_old_documents_keep_their_order(moto, bucket, tmp_path):
    name, url = bucket
    src = tree(tmp_path)
    client = moto.client()
    legacy = {"flavors": []}  # documents of an earlier alba: no `published`
    for tag in ("b-old", "a-old"):
        client.put_object(Bucket=name, Key=f"df-dist-v1/tool/{tag}", Body=json.dumps(legacy).encode())
    client.put_object(Bucket=name, Key="df-dist-v1/tool", Body=b'{"name":"tool","tags":["b-old","a-old"]}')
    for tag in ("1", "2", "1"):
        assert run_alba("static", "push", "-t", f"tool:{tag}", src, url).returncode == 0
    r = run_alba("static", "ls", "-t", "tool", url)
    assert r.stdout.split() == ["1", "2", "b-old", "a-old"]


def test_container_gc_reports_what_the_grace_keeps(moto, bucket, tmp_path):
    _, url = bucket
    src = nix_images(tmp_path / "docker")
    assert run_alba("container", "push", "-t", "app:1", src, url).returncode == 0
    assert run_alba("container", "rm", "-t", "app:1", url).returncode == 0
    kept = run_alba("container", "gc", "-t", "app", "--keep", "0", url, "--json")
    assert kept.returncode == 0, kept.stderr
    out = json.loads(kept.stdout)
    assert out["deleted_blobs"] == [] and out["kept_young"]["blobs"] > 0
    assert out["kept_young"]["manifests"] == 5  # the index, 2 platform manifests, their 2 SBOMs
    assert "younger than the grace period" in kept.stderr
    swept = json.loads(run_alba("container", "gc", "-t", "app", "--keep", "0", "--grace", "0", url, "--json").stdout)
    assert len(swept["deleted_blobs"]) == out["kept_young"]["blobs"] and swept["kept_young"]["blobs"] == 0


def test_static_gc_sweeps_files_no_tag_lists_after_the_grace(moto, bucket, tmp_path):
    name, url = bucket
    src = tree(tmp_path)
    assert run_alba("static", "push", "-t", "tool:1", src, url).returncode == 0
    orphan = "df-dist-v1/tool/2/linux/amd64/tool"  # a push that died before its tag document
    moto.client().put_object(Bucket=name, Key=orphan, Body=b"half")
    kept = json.loads(run_alba("static", "gc", "-t", "tool", "--keep", "5", url, "--json").stdout)
    assert kept["kept_young"] == 1 and orphan not in kept.get("deleted", [])
    swept = json.loads(run_alba("static", "gc", "-t", "tool", "--keep", "5", "--grace", "0s", url, "--json").stdout)
    assert swept["deleted"] == [orphan] and swept["kept_young"] == 0
    assert run_alba("static", "ls", "-t", "tool", url).stdout.split() == ["1"]


@pytest.mark.parametrize("kind", ["static", "container"])
def test_negative_grace_is_refused(kind, bucket):
    _, url = bucket
    r = run_alba(kind, "gc", "-t", "x", "--keep", "1", "--grace", "-1", url)
    assert r.returncode == 2 and "--grace" in r.stderr and "negative" in r.stderr


def _latest_digest_static(moto, bucket: str) -> bytes:
    return moto.client().get_object(Bucket=bucket, Key="df-dist-v1/tool/latest")["Body"].read()


def _push(kind: str, version: str, src, url: str, *extra: str) -> subprocess.CompletedProcess:
    note = ("--annotation", f"org.opencontainers.image.version={version}") if kind == "container" else ()
    r = run_alba(kind, "push", "-t", f"tool:{version}", "-t", "tool:latest", *note, *extra, src, url, "--json")
    assert r.returncode == 0, r.stderr
    return r


def test_latest_guard_on_static_files(moto, bucket, tmp_path):
    name, url = bucket
    src = tree(tmp_path)
    first = _push("static", "2.0.0", src, url, "--latest-guard")  # no release yet: latest applies
    assert json.loads(first.stdout)["tags"] == ["2.0.0", "latest"]
    before = json.loads(_latest_digest_static(moto, name))["published"]
    backport = _push("static", "1.2.4", src, url, "--latest-guard")
    assert "latest not moved: 1.2.4 is older than 2.0.0" in backport.stderr
    assert json.loads(backport.stdout)["tags"] == ["1.2.4"]
    assert json.loads(_latest_digest_static(moto, name))["published"] == before
    rc = _push("static", "2.1.0-rc.1", src, url, "--latest-guard")  # a newer pre-release may move it
    assert json.loads(rc.stdout)["tags"] == ["2.1.0-rc.1", "latest"]
    without = _push("static", "1.0.0", src, url)  # the guard is opt-in
    assert json.loads(without.stdout)["tags"] == ["1.0.0", "latest"]


def test_latest_guard_on_a_registry(registry_open, tmp_path):
    src = nix_images(tmp_path / "docker")
    url = registry_open.url("guard/tool")
    digests = {v: json.loads(_push("container", v, src, url, "--latest-guard").stdout)["digest"] for v in ("1.0.0", "2.0.0")}
    latest = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                             f"docker://{registry_open.address}/guard/tool:latest"], capture_output=True, timeout=60)
    assert "sha256:" + __import__("hashlib").sha256(latest.stdout).hexdigest() == digests["2.0.0"]
    backport = _push("container", "1.2.4", src, url, "--latest-guard")
    assert json.loads(backport.stdout)["tags"] == ["1.2.4"] and "older than 2.0.0" in backport.stderr
    again = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false",
                            f"docker://{registry_open.address}/guard/tool:latest"], capture_output=True, timeout=60)
    assert again.stdout == latest.stdout


def test_latest_guard_in_the_step(moto, aws_env, tmp_path):
    from ci_env import github_env, run_entrypoint

    from alba_action.report.outputs import parse_outputs

    ws = tmp_path / "ws"
    tree(ws)
    moto.client().create_bucket(Bucket="guard-step")
    url = s3_url("guard-step", moto.port)
    for ref in ("refs/tags/v2.0.0", "refs/tags/v1.2.4"):
        env = github_env(ws, ref=ref, **{"name": "tool", "static-dir": "df", "static-target": url,
                                          "tags": "type=semver,pattern={{version}}", "latest-guard": "true"})
        proc = run_entrypoint(ws, env)
        assert proc.returncode == 0, proc.stderr
    out = parse_outputs((tmp_path / "github_output").read_text())
    assert out["tags"] == "1.2.4" and json.loads(out["json"])["latest"] is False
    assert "::warning::latest not moved: 1.2.4 is older than 2.0.0" in proc.stdout
    assert "latest guard" in (tmp_path / "summary.md").read_text()


@pytest.mark.parametrize("version, published, refused", [
    ("1.2.4", ["2.0.0", "1.2.3", "latest"], "1.2.4 is older than 2.0.0"),
    ("v2.0.1", ["v2.0.0", "dev"], None),
    ("2.0.0", ["2.0.0"], None),  # a re-run of the highest release
    ("2.1.0-rc.1", ["2.0.0", "2.1.0"], "2.1.0-rc.1 is older than 2.1.0"),
    ("2.1.0-rc.2", ["2.0.0", "2.1.0-rc.10"], None),  # pre-releases are not releases
    ("1.0.0", [], None),  # nothing released yet
    ("edge", ["1.0.0"], "edge is not a semver version"),
    ("1.10.0", ["1.9.0"], None),  # numbers, not strings
])
def test_latest_refusal_rule(version, published, refused):
    from alba_action.version_order import latest_refusal

    reason = latest_refusal(version, published)
    assert (reason is None) if refused is None else (refused in reason)
