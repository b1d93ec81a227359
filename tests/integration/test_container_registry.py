"""`alba container push` to docker-registry (distribution 2.8), checked with skopeo."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time

from registry_server import PASSWORD, USER
from servers import alba_env, run_alba
from workloads import nix_images


def skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)


def test_push_to_open_registry_matches_static_digest_and_skopeo_copies_all(registry_open, bucket, tmp_path):
    _, bucket_url = bucket
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", "-t", "app:1.0", src, registry_open.url("team/app", "latest"), "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["tags"] == ["1.0", "latest"]
    static = run_alba("container", "push", "-t", "app:1.0", src, bucket_url, "--json")
    # The same input gives the same index digest on every target (annotations come from the same context).
    assert json.loads(static.stdout)["digest"] == out["digest"]
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry_open.address}/team/app:1.0")
    assert raw.returncode == 0, raw.stderr
    assert "sha256:" + hashlib.sha256(raw.stdout.encode()).hexdigest() == out["digest"]
    copied = skopeo("copy", "--all", "--src-tls-verify=false", f"docker://{registry_open.address}/team/app:latest",
                    f"oci:{tmp_path / 'copy'}:x")
    assert copied.returncode == 0, copied.stderr
    again = run_alba("container", "push", "-t", "app:1.0", src, registry_open.url("team/app", "latest"), "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["pushed_blobs"] == [] and sorted(second["unchanged_tags"]) == ["1.0", "latest"]


def test_docker_format_to_registry(registry_open, tmp_path):
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", "--format", "docker", src, registry_open.url("fmt/app", "1"))
    assert r.returncode == 0, r.stderr
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry_open.address}/fmt/app:1")
    assert json.loads(raw.stdout)["mediaType"] == "application/vnd.docker.distribution.manifest.list.v2+json"


def test_htpasswd_credentials_from_env_and_wrong_password(registry_htpasswd, tmp_path):
    src = nix_images(tmp_path / "docker")
    url = registry_htpasswd.url("auth/app", "1")
    ok = run_alba("container", "push", src, url,
                  env=alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=PASSWORD))
    assert ok.returncode == 0, ok.stderr
    secret = "not-the-password-Q9x"
    cache = tmp_path / "cache"
    bad = run_alba("container", "push", src, url.replace("auth/app", "auth/other"),
                   env=alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=secret, ALBA_CACHE_DIR=str(cache)))
    assert bad.returncode != 0
    assert "refused the credentials" in bad.stderr.splitlines()[-1]
    assert secret not in bad.stderr + bad.stdout
    # The load began beside the check and stopped with it (or finished into the cache):
    # no trace of it, no half-written file, nothing published.
    assert "-- load archives --" not in bad.stderr
    leftovers = list((cache / "v1" / "tmp").glob("*")) if (cache / "v1" / "tmp").exists() else []
    assert leftovers == []
    tags = skopeo("list-tags", "--tls-verify=false", f"--creds={USER}:{PASSWORD}",
                  f"docker://{registry_htpasswd.address}/auth/other")
    assert tags.returncode != 0 and "404 (Not Found)" in tags.stderr, tags.stdout  # the repository does not exist


def test_docker_config_credentials(registry_htpasswd, tmp_path):
    import base64

    src = nix_images(tmp_path / "docker")
    cfg = tmp_path / "dockercfg"
    cfg.mkdir()
    auth = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    (cfg / "config.json").write_text(json.dumps({"auths": {registry_htpasswd.address: {"auth": auth}}}))
    r = run_alba("container", "push", src, registry_htpasswd.url("cfg/app", "1"), env=alba_env(DOCKER_CONFIG=str(cfg)))
    assert r.returncode == 0, r.stderr


def test_token_auth_flow(registry_token, tmp_path):
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", src, registry_token.url("tok/app", "1"),
                 env=alba_env(ALBA_REGISTRY_USERNAME=registry_token.username, ALBA_REGISTRY_PASSWORD=registry_token.password))
    assert r.returncode == 0, r.stderr
    assert any("push" in str(req) for req in registry_token.token_server.requests)


def test_registry_down_fails_fast(tmp_path):
    src = nix_images(tmp_path / "docker")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    r = run_alba("container", "push", src, f"docker://127.0.0.1:{port}/down/app:1?insecure=true")
    assert r.returncode != 0
    assert time.monotonic() - start < 20
    assert "does not answer" in r.stderr.splitlines()[-1]


def test_5xx_during_blob_upload_is_retried_and_tag_written_last(registry_open, fault_proxy, tmp_path):
    src = nix_images(tmp_path / "docker")
    proxy = fault_proxy(registry_open, fail_first=("PUT",))
    url = f"docker://{proxy.address}/fault/app:1?insecure=true"
    r = run_alba("container", "push", src, url)
    assert r.returncode == 0, r.stderr
    assert proxy.faults, "the proxy injected no fault"
    copied = skopeo("copy", "--all", "--src-tls-verify=false", f"docker://{registry_open.address}/fault/app:1",
                    f"oci:{tmp_path / 'copy'}:x")
    assert copied.returncode == 0, copied.stderr


def test_second_repository_mounts_blobs(registry_open, tmp_path):
    """Two targets on one registry in one run: the second mounts what the first pushed."""
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", src, registry_open.url("mount/a", "1"), registry_open.url("mount/b", "1"))
    assert r.returncode == 0, r.stderr
    assert "mounted blob" in r.stderr
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry_open.address}/mount/b:1")
    assert raw.returncode == 0


def test_chunked_uploads_on_request(registry_open, fault_proxy, tmp_path):
    src = nix_images(tmp_path / "docker")
    proxy = fault_proxy(registry_open)  # no faults: it only records what goes through
    r = run_alba("container", "push", "--chunked", src, f"docker://{proxy.address}/chunk/app:1?insecure=true")
    assert r.returncode == 0, r.stderr
    assert any(method == "PATCH" for method, *_ in proxy.seen)
    copied = skopeo("copy", "--all", "--src-tls-verify=false", f"docker://{registry_open.address}/chunk/app:1",
                    f"oci:{tmp_path / 'copy'}:x")
    assert copied.returncode == 0, copied.stderr


def test_a_blob_that_never_uploads_leaves_no_tag(registry_open, fault_proxy, tmp_path):
    src = nix_images(tmp_path / "docker")
    proxy = fault_proxy(registry_open, fail_first=("PUT",), always=True)
    start = time.monotonic()
    r = run_alba("container", "push", src, f"docker://{proxy.address}/broken/app:1?insecure=true",
                 env=alba_env(ALBA_RETRY_BUDGET_SECONDS="3"))
    assert r.returncode != 0
    assert time.monotonic() - start < 60
    assert "Traceback" not in r.stderr and "503" in r.stderr.splitlines()[-1], r.stderr
    assert len(proxy.faults) > 1  # it did retry
    inspect = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry_open.address}/broken/app:1")
    assert inspect.returncode != 0  # the tag was never written
