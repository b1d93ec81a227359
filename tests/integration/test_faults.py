"""Flaky stores: each fault, in each phase of a publish, to each kind of target. The publish
either completes with every object correct, or fails with a clear error and no document or
tag pointing at a missing object; a re-run then completes. `kill -9` mid-publish likewise."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from faults import KINDS, FaultProxy
from servers import REPO, alba_env, run_alba, s3_url
from workloads import nix_images

STATIC = {  # phase → path pattern (path-style S3: /BUCKET/KEY)
    "files": r"^/[^/]+/df-dist-v1/[^/]+/[^/]+/.+",
    "tag document": r"^/[^/]+/df-dist-v1/[^/]+/[^/]+$",
    "name document": r"^/[^/]+/df-dist-v1/[^/]+$",
}
IMAGES_IN_BUCKET = {
    "blobs": r"/v2/.+/blobs/sha256(:|%3A)",
    "manifests": r"/v2/.+/manifests/",
    "tag list": r"/v2/.+/tags/list$",
}
IMAGES_IN_REGISTRY = {
    "blobs": r"/v2/.+/blobs/uploads/",
    "manifests": r"/v2/.+/manifests/",
}
QUICK = {"ALBA_REQUEST_TIMEOUT_SECONDS": "1.5", "ALBA_RETRY_BUDGET_SECONDS": "20", "ALBA_SETTLE_SECONDS": "0.1"}


def tree(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
        (root / "df/linux" / arch / "tool").write_bytes(arch.encode() * 500)
        (root / "df/linux" / arch / "README").write_text("read me")
    return root / "df"


def alba(*args, **env):
    return run_alba(*args, env=alba_env(**{**QUICK, **env}), timeout=240)


@pytest.fixture
def proxy(moto):
    p = FaultProxy(moto.port, silence=20)
    yield p
    p.stop()


# -- what "consistent" means: no document or tag points at something missing ---------------

def static_consistent(client, bucket: str, name: str) -> list[str]:
    def get(key):
        return json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())

    tags = get(f"df-dist-v1/{name}")["tags"]
    for tag in tags:
        for flavor in get(f"df-dist-v1/{name}/{tag}")["flavors"]:
            p = flavor["platform"]
            folder = "/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x)
            for r in flavor["resources"]:
                key = f"df-dist-v1/{name}/{tag}/{folder}/{r['path']}"
                assert client.head_object(Bucket=bucket, Key=key)["ContentLength"] == r["size"], key
    return tags


def bucket_registry_consistent(client, bucket: str, name: str) -> list[str]:
    def manifest(ref):
        return json.loads(client.get_object(Bucket=bucket, Key=f"v2/{name}/manifests/{ref}")["Body"].read())

    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=f"v2/{name}/manifests/").get("Contents", [])]
    tags = [k.rsplit("/", 1)[1] for k in keys if not k.rsplit("/", 1)[1].startswith("sha256:")]
    for tag in tags:
        for child in manifest(tag).get("manifests", []):
            m = manifest(child["digest"])
            for blob in [m["config"], *m["layers"]]:
                head = client.head_object(Bucket=bucket, Key=f"v2/{name}/blobs/{blob['digest']}")
                assert head["ContentLength"] == blob["size"], blob
    return [t for t in tags if not t.startswith("sha256-")]  # referrers' fallback tags (SBOMs) checked, not listed


def registry_consistent(address: str, repo: str) -> list[str]:
    accept = {"Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"}
    got = requests.get(f"http://{address}/v2/{repo}/tags/list", timeout=10)
    tags = (got.json().get("tags") or []) if got.status_code == 200 else []
    for tag in tags:
        index = requests.get(f"http://{address}/v2/{repo}/manifests/{tag}", headers=accept, timeout=10).json()
        for child in index["manifests"]:
            m = requests.get(f"http://{address}/v2/{repo}/manifests/{child['digest']}", headers=accept, timeout=10)
            assert m.status_code == 200, child
            for blob in [m.json()["config"], *m.json()["layers"]]:
                head = requests.head(f"http://{address}/v2/{repo}/blobs/{blob['digest']}", timeout=10)
                assert head.status_code == 200 and int(head.headers["Content-Length"]) == blob["size"], blob
    return [t for t in tags if not t.startswith("sha256-")]  # referrers' fallback tags checked, not listed


# -- the fault table --------------------------------------------------------------------------

def _methods(phase: str) -> str:
    return "GET,PUT" if phase in ("name document", "tag list") else "PUT,POST,PATCH"


@pytest.mark.parametrize("fault", KINDS)
@pytest.mark.parametrize("phase", list(STATIC))
def test_static_publish_survives(moto, bucket, proxy, tmp_path, phase, fault):
    name, _ = bucket
    proxy.add(fault, STATIC[phase], _methods(phase), count=2)
    r = alba("static", "push", "-t", "tool:1", tree(tmp_path), s3_url(name, proxy.port))
    assert r.returncode == 0, r.stderr
    assert proxy.injected, "the fault was never injected"
    assert static_consistent(moto.client(), name, "tool") == ["1"]


@pytest.mark.parametrize("fault", KINDS)
@pytest.mark.parametrize("phase", list(IMAGES_IN_BUCKET))
def test_container_publish_to_a_bucket_survives(moto, bucket, proxy, tmp_path, phase, fault):
    name, _ = bucket
    proxy.add(fault, IMAGES_IN_BUCKET[phase], _methods(phase), count=2)
    r = alba("container", "push", "-t", "app:1", nix_images(tmp_path / "docker"), s3_url(name, proxy.port))
    assert r.returncode == 0, r.stderr
    assert proxy.injected
    assert bucket_registry_consistent(moto.client(), name, "app") == ["1"]


@pytest.mark.parametrize("fault", KINDS)
@pytest.mark.parametrize("phase", list(IMAGES_IN_REGISTRY))
def test_container_publish_to_a_registry_survives(registry_open, tmp_path, phase, fault):
    proxy = FaultProxy(registry_open.port, silence=20).add(fault, IMAGES_IN_REGISTRY[phase], count=2)
    try:
        repo = f"faults/{phase}-{fault}".replace(" ", "")
        r = alba("container", "push", "-t", "app:1", nix_images(tmp_path / "docker"),
                 f"docker://127.0.0.1:{proxy.port}/{repo}?insecure=true")
        assert r.returncode == 0, r.stderr
        assert proxy.injected
        assert registry_consistent(registry_open.address, repo) == ["1"]
    finally:
        proxy.stop()


@pytest.mark.parametrize("target", ["static", "bucket registry", "registry"])
def test_a_store_that_never_recovers_fails_clearly_and_a_rerun_completes(moto, bucket, registry_open, tmp_path,
                                                                           target):
    name, _ = bucket
    upstream = registry_open.port if target == "registry" else moto.port
    proxy = FaultProxy(upstream).add("slowdown", r"/(df-dist-v1/tool/1/linux/arm64|v2/.+/blobs/)", count=None)
    url = (f"docker://127.0.0.1:{proxy.port}/never/app?insecure=true" if target == "registry"
           else s3_url(name, proxy.port))
    kind, src = ("static", tree(tmp_path)) if target == "static" else ("container", nix_images(tmp_path / "docker"))
    try:
        failed = alba(kind, "push", "-t", "tool:1", src, url, ALBA_RETRY_BUDGET_SECONDS="3")
        last = failed.stderr.strip().splitlines()[-1]
        assert failed.returncode != 0
        assert "kept throttling: gave up after" in last and "retries over" in last, last
        assert "--jobs" in last and "check the target URL" not in last
        client = moto.client()
        if target == "static":
            assert not client.list_objects_v2(Bucket=name, Prefix="df-dist-v1/tool/1/index").get("Contents")
            assert "df-dist-v1/tool" not in [o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])]
        elif target == "bucket registry":
            assert bucket_registry_consistent(client, name, "tool") == []
        else:
            assert registry_consistent(registry_open.address, "never/app") == []
        proxy.clear()
        again = alba(kind, "push", "-t", "tool:1", src, url)
        assert again.returncode == 0, again.stderr
    finally:
        proxy.stop()


def test_thirty_percent_slowdown_does_not_fail_a_publish(moto, bucket, proxy, tmp_path):
    name, _ = bucket
    src = tree(tmp_path)
    for i in range(40):
        (src / "linux/amd64" / f"f{i:03}.dat").write_bytes(os.urandom(2048))
    proxy.add("slowdown", r"^/[^/]+/df-dist-v1/", "PUT", count=None, probability=0.3)
    r = alba("static", "push", "-t", "tool:1", src, s3_url(name, proxy.port), ALBA_RETRY_BUDGET_SECONDS="120")
    assert r.returncode == 0, r.stderr
    assert len(proxy.injected) >= 10
    assert static_consistent(moto.client(), name, "tool") == ["1"]


# -- kill -9 ------------------------------------------------------------------------------------

def _killed_at(seconds: float, *args: str, env: dict) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "alba_action", *args], env=env, cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@pytest.mark.parametrize("after", [0.6, 1.2, 2.0])
def test_static_push_killed_then_rerun_is_complete_with_no_upload_left(moto, bucket, tmp_path, after):
    name, url = bucket
    src = tree(tmp_path)
    (src / "linux/amd64/big.bin").write_bytes(os.urandom(24 << 20))  # multipart at 8 MiB: 2 parts
    env = alba_env(**QUICK, ALBA_MULTIPART_THRESHOLD="8M")
    _killed_at(after, "static", "push", "-t", "tool:1", str(src), url, env=env)
    client = moto.client()
    if client.list_objects_v2(Bucket=name, Prefix="df-dist-v1/tool").get("KeyCount"):
        static_consistent_or_unlisted(client, name)
    again = run_alba("static", "push", "-t", "tool:1", src, url, env=env)
    assert again.returncode == 0, again.stderr
    assert static_consistent(client, name, "tool") == ["1"]
    assert not client.list_multipart_uploads(Bucket=name).get("Uploads")


def static_consistent_or_unlisted(client, bucket: str) -> None:
    """After a kill: either no name document yet, or every tag it lists is whole."""
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    if "df-dist-v1/tool" in keys:
        static_consistent(client, bucket, "tool")


@pytest.mark.parametrize("after", [0.8, 1.6, 2.4])
def test_container_push_killed_then_rerun_is_complete(moto, bucket, registry_open, tmp_path, after):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    env = alba_env(**QUICK, ALBA_CACHE_DIR=str(tmp_path / f"cache-{after}"))  # a cold load: killed mid-work
    repo = f"killed/at{str(after).replace('.', '')}"
    registry = f"docker://{registry_open.address}/{repo}?insecure=true"
    _killed_at(after, "container", "push", "-t", "app:1", str(src), url, registry, env=env)
    assert bucket_registry_consistent(moto.client(), name, "app") in ([], ["1"])
    assert registry_consistent(registry_open.address, repo) in ([], ["1"])
    again = run_alba("container", "push", "-t", "app:1", src, url, registry, env=env)
    assert again.returncode == 0, again.stderr
    assert bucket_registry_consistent(moto.client(), name, "app") == ["1"]
    assert registry_consistent(registry_open.address, repo) == ["1"]


@pytest.mark.parametrize("fault", KINDS)
def test_reading_through_a_flaky_website_survives(moto, bucket, website, tmp_path, fault):
    """The static registry and download files as users read them: nginx in front of the
    bucket, and a flaky network in front of nginx. `alba verify` reads everything a user
    would (documents, files, manifests, blobs) and retries what is transient."""
    name, url = bucket
    assert alba("static", "push", "-t", "tool:1", tree(tmp_path), url).returncode == 0
    assert alba("container", "push", "-t", "tool:1", nix_images(tmp_path / "docker"), url).returncode == 0
    host, port = website.split(":")
    proxy = FaultProxy(int(port), silence=20).add(fault, r"/(df-dist-v1|v2)/", "GET", count=3)
    try:
        r = alba("verify", "-t", "tool:1", f"http://127.0.0.1:{proxy.port}", "--json")
        assert r.returncode == 0, r.stderr
        assert proxy.injected and json.loads(r.stdout)["checked"]["blobs"] >= 4
    finally:
        proxy.stop()
