"""The OCI registry target against real docker-registry processes on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from alba_action.errors import InputError, TargetError
from alba_action.images.model import OCI_CONFIG, OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST
from alba_action.request import RunOptions
from alba_action.targets.registries.remote import OciRegistry, parse_docker_url
from alba_action.targets.registries.auth import load_docker_credentials
from registry_server import PASSWORD, USER, free_port, require

# --- URLs --------------------------------------------------------------------------

URLS = [
    ("docker://127.0.0.1:5000/app", ("127.0.0.1", 5000, "app", None, False)),
    ("docker://127.0.0.1:5000/app:v1?insecure=true", ("127.0.0.1", 5000, "app", "v1", True)),
    ("docker://localhost/a/b/c:1.2.3-rc.1", ("localhost", None, "a/b/c", "1.2.3-rc.1", False)),
    ("docker://ghcr.io/my.org/app:latest", ("ghcr.io", None, "my.org/app", "latest", False)),
    ("docker://docker.io/alpine:3", ("registry-1.docker.io", None, "library/alpine", "3", False)),
    ("docker://docker.io/dxflrs/garage", ("registry-1.docker.io", None, "dxflrs/garage", None, False)),
    ("docker://index.docker.io/busybox", ("registry-1.docker.io", None, "library/busybox", None, False)),
    ("docker://reg.example:443/x?insecure=false", ("reg.example", 443, "x", None, False)),
    ("docker://[::1]:5000/x", ("::1", 5000, "x", None, False)),
]

BAD_URLS = [
    ("s3://bucket/app", "not a docker:// URL"),
    ("docker:///app", "no valid registry host"),
    ("docker://host:port/app", "port is not a number"),
    ("docker://host/App", "not a repository name"),
    ("docker://host/", "not a repository name"),
    ("docker://host/app:bad/tag", "not a valid tag"),
    ("docker://host/app:-x", "not a valid tag"),
    ("docker://host/app@sha256:00", "digest references"),
    ("docker://host/app?tls=false", "unknown option 'tls'"),
    ("docker://host/app?insecure=maybe", "not true or false"),
    ("docker://bob:hunter2@host/app", "credentials in the URL"),
]


@pytest.mark.parametrize("url, expected", URLS)
def test_parse_docker_url(url, expected):
    assert parse_docker_url(url) == expected


@pytest.mark.parametrize("url, problem", BAD_URLS)
def test_parse_docker_url_errors(url, problem):
    with pytest.raises(InputError) as e:
        parse_docker_url(url)
    assert problem in str(e.value)
    assert "docker://HOST[:PORT]/REPO" in str(e.value) or "ALBA_REGISTRY_USERNAME" in str(e.value)
    assert "hunter2" not in str(e.value)


# --- Docker config -----------------------------------------------------------------


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CONFIGS = [
    ("127.0.0.1:5000", {"127.0.0.1:5000": {"auth": _b64("u:p")}}, ("u", "p")),
    ("localhost:5000", {"http://127.0.0.1:5000": {"auth": _b64("u:p:with:colons")}}, ("u", "p:with:colons")),
    ("registry-1.docker.io", {"https://index.docker.io/v1/": {"auth": _b64("hub:tok")}}, ("hub", "tok")),
    ("ghcr.io", {"https://ghcr.io": {"username": "g", "password": "pw"}}, ("g", "pw")),
    ("ghcr.io", {"ghcr.io": {}}, None),
    ("quay.io", {"ghcr.io": {"auth": _b64("u:p")}}, None),
]


@pytest.mark.parametrize("host, auths, expected", CONFIGS)
def test_docker_config_credentials(tmp_path, monkeypatch, host, auths, expected):
    (tmp_path / "config.json").write_text(json.dumps({"auths": auths}))
    found = load_docker_credentials(host, tmp_path / "config.json")
    assert (found.username, found.password) == expected if expected else found is None
    if found:
        assert found.password not in repr(found)


# --- helpers -----------------------------------------------------------------------


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def put_image(reg: OciRegistry, tmp_path: Path, arch: str, layer_size: int = 300_000) -> dict:
    """Push a config and one layer from a file; return the manifest's descriptor."""
    layer = tmp_path / f"layer-{arch}"
    layer.write_bytes(arch.encode() * (layer_size // len(arch)))
    config = json.dumps({"architecture": arch, "os": "linux"}).encode()
    for data, path in ((config, None), (None, layer)):
        body = data if data is not None else path.read_bytes()
        if not reg.blob_exists(sha(body)):
            reg.put_blob(sha(body), len(body), "", path, data)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": sha(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": sha(layer.read_bytes()),
                    "size": layer.stat().st_size}],
    }, indent=2).encode()  # indented on purpose: re-serialising would change the digest
    reg.put_manifest(sha(manifest), manifest, OCI_MANIFEST)
    return {"mediaType": OCI_MANIFEST, "digest": sha(manifest), "size": len(manifest),
            "platform": {"architecture": arch, "os": "linux"}}


def skopeo_raw(address: str, ref: str, *creds: str) -> bytes:
    cmd = [require("skopeo"), "inspect", "--raw", "--tls-verify=false", *creds, f"docker://{address}/{ref}"]
    return subprocess.run(cmd, check=True, capture_output=True, timeout=60).stdout


def assert_secret_absent(*texts: str) -> None:
    basic = _b64(f"{USER}:{PASSWORD}")
    for text in texts:
        assert PASSWORD not in text and basic not in text


# --- open registry -----------------------------------------------------------------


def test_blobs_monolithic_and_chunked(registry_open, tmp_path):
    reg = OciRegistry.from_url(registry_open.url("blobs/test"))
    reg.check()
    data = b"in memory " * 100
    assert not reg.blob_exists(sha(data))
    reg.put_blob(sha(data), len(data), "", None, data)
    assert reg.blob_exists(sha(data))

    big = tmp_path / "big"
    big.write_bytes(bytes(range(256)) * 20_000)  # 5 MB: several chunks below
    seen: list[int] = []
    reg.chunked, reg.chunk_size = True, 2_000_000
    reg.put_blob(sha(big.read_bytes()), big.stat().st_size, "", big, None, progress=seen.append)
    assert reg.blob_exists(sha(big.read_bytes()))
    assert sum(seen) == big.stat().st_size

    empty = b""
    reg.put_blob(sha(empty), 0, "", None, empty)
    assert reg.blob_exists(sha(empty))


def test_wrong_digest_is_refused(registry_open):
    reg = OciRegistry.from_url(registry_open.url("blobs/bad"))
    with pytest.raises(TargetError, match="answered 400 to upload of blob"):
        reg.put_blob(sha(b"other"), 4, "", None, b"data")


def test_cross_repository_mount(registry_open, tmp_path):
    source = OciRegistry.from_url(registry_open.url("mount/source"))
    data = b"shared layer" * 1000
    source.put_blob(sha(data), len(data), "", None, data)
    target = OciRegistry.from_url(registry_open.url("mount/target"))
    assert not target.blob_exists(sha(data))
    assert target.mount_blob(sha(data), "mount/source")
    assert target.blob_exists(sha(data))
    assert not target.mount_blob(sha(b"nowhere"), "mount/source")


def test_manifest_and_index_exact_bytes(registry_open, tmp_path):
    reg = OciRegistry.from_url(registry_open.url("exact/app"))
    assert reg.get_manifest("v1") is None and reg.manifest_digest("v1") is None
    assert reg.list_tags() == []
    children = [put_image(reg, tmp_path, arch) for arch in ("amd64", "arm64")]
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children},
                       indent=1, sort_keys=True).encode() + b"\n"
    for tag in ("v1", "latest"):
        reg.put_manifest(tag, index, OCI_INDEX)
    assert reg.get_manifest("v1") == (index, OCI_INDEX)
    assert reg.manifest_digest("latest") == sha(index)
    assert sorted(reg.list_tags()) == ["latest", "v1"]
    assert sha(skopeo_raw(registry_open.address, "exact/app:v1")) == sha(index)
    child = children[0]["digest"]
    assert sha(skopeo_raw(registry_open.address, f"exact/app@{child}")) == child


# --- basic auth ----------------------------------------------------------------------


def test_htpasswd_push_sends_each_request_once(registry_htpasswd, fault_proxy, tmp_path):
    proxy = fault_proxy(registry_htpasswd)
    reg = OciRegistry.from_url(proxy.url("basic/app"), username=USER, password=PASSWORD)
    reg.check()
    desc = put_image(reg, tmp_path, "amd64")
    unauthenticated = [s for s in proxy.seen if not s[2]]
    assert unauthenticated == [("GET", "/v2/", False)]  # only the first, which gets the challenge
    assert reg.manifest_digest(desc["digest"]) == desc["digest"]
    out = skopeo_raw(registry_htpasswd.address, f"basic/app@{desc['digest']}", f"--creds={USER}:{PASSWORD}")
    assert sha(out) == desc["digest"]


@pytest.mark.parametrize("kind", ["htpasswd", "token"])
def test_wrong_password_is_refused_and_never_shown(kind, registry_htpasswd, registry_token, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    server = registry_htpasswd if kind == "htpasswd" else registry_token
    wrong = PASSWORD + "-wrong"
    reg = OciRegistry.from_url(server.url("secret/app"), username=USER, password=wrong)
    with pytest.raises(TargetError) as e:
        reg.check()
    assert f"registry {server.address} refused the credentials for {USER}" in str(e.value)
    assert "check the username and password" in str(e.value)
    with pytest.raises(TargetError) as e2:
        reg.put_blob(sha(b"x"), 1, "", None, b"x")
    out = capsys.readouterr()
    texts = [str(e.value), repr(e.value), str(e2.value), repr(reg), repr(reg.client.authenticator),
             repr(reg.client.authenticator.credentials), out.out, out.err, caplog.text]
    for text in texts:
        assert wrong not in text and _b64(f"{USER}:{wrong}") not in text


def test_anonymous_push_to_basic_registry_asks_for_credentials(registry_htpasswd, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))  # no config.json there
    reg = OciRegistry.from_url(registry_htpasswd.url("anon/app"))
    with pytest.raises(TargetError, match="requires credentials.*ALBA_REGISTRY_USERNAME"):
        reg.check()


def test_credentials_from_docker_config(registry_htpasswd, monkeypatch, tmp_path):
    auths = {f"http://{registry_htpasswd.address}": {"auth": _b64(f"{USER}:{PASSWORD}")}}
    (tmp_path / "config.json").write_text(json.dumps({"auths": auths}))
    reg = OciRegistry.from_url(registry_htpasswd.url("config/app"), docker_config=tmp_path / "config.json")
    reg.check()
    reg.put_blob(sha(b"cfg"), 3, "", None, b"cfg")
    assert reg.blob_exists(sha(b"cfg"))


# --- token auth ----------------------------------------------------------------------


def test_token_push_then_anonymous_pull(registry_token, tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    tokens = registry_token.token_server
    tokens.requests.clear()
    reg = OciRegistry.from_url(registry_token.url("token/app"), username=USER, password=PASSWORD)
    reg.check()
    desc = put_image(reg, tmp_path, "amd64")
    reg.put_manifest("v1", json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                                       "manifests": [desc]}).encode(), OCI_INDEX)
    # One token per scope, reused by every request: ping, pull (HEADs), pull+push.
    assert [r.scopes for r in tokens.requests] == [
        [], ["repository:token/app:pull"], ["repository:token/app:pull,push"]]
    assert all(r.user == USER for r in tokens.requests)

    tokens.requests.clear()
    anon = OciRegistry.from_url(registry_token.url("token/app"))
    assert anon.get_manifest("v1")[1] == OCI_INDEX
    assert tokens.requests[0].user is None
    assert tokens.requests[0].granted == [{"type": "repository", "name": "token/app", "actions": ["pull"]}]
    with pytest.raises(TargetError, match="requires credentials for pull on token/app and push on token/app"):
        anon.put_blob(sha(b"anon"), 4, "", None, b"anon")


def test_token_mount_needs_pull_on_source(registry_token, tmp_path):
    src = OciRegistry.from_url(registry_token.url("token/src"), username=USER, password=PASSWORD)
    src.put_blob(sha(b"mounted"), 7, "", None, b"mounted")
    dst = OciRegistry.from_url(registry_token.url("token/dst"), username=USER, password=PASSWORD)
    assert dst.mount_blob(sha(b"mounted"), "token/src")
    assert ["repository:token/dst:pull,push", "repository:token/src:pull"] in [
        r.scopes for r in registry_token.token_server.requests]


def test_parallel_uploads_share_one_token(registry_token, tmp_path):
    reg = OciRegistry.from_url(registry_token.url("token/parallel"), username=USER, password=PASSWORD)
    reg.check()
    blobs = [f"blob {i}".encode() * 5000 for i in range(16)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda b: reg.put_blob(sha(b), len(b), "", None, b), blobs))
    assert all(reg.blob_exists(sha(b)) for b in blobs)


# --- faults --------------------------------------------------------------------------


def test_registry_down_fails_fast_and_clearly():
    reg = OciRegistry.from_url(f"docker://127.0.0.1:{free_port()}/down/app?insecure=true")
    start = time.monotonic()
    with pytest.raises(TargetError) as e:
        reg.check()
    assert time.monotonic() - start < 20
    assert str(e.value) == (f"registry {reg.host} does not answer — "
                            "check the URL, or that the registry runs")


@pytest.mark.parametrize("chunked, faults", [(False, ("PUT",)), (True, ("PATCH", "PUT"))])
def test_5xx_during_blob_upload_is_retried(registry_open, fault_proxy, tmp_path, chunked, faults):
    proxy = fault_proxy(registry_open, fail_first=faults)
    reg = OciRegistry.from_url(proxy.url(f"fault/app-{int(chunked)}"), chunked=chunked)
    reg.chunk_size = 100_000
    layer = tmp_path / "layer"
    layer.write_bytes(b"\x01\x02\x03" * 150_000)
    reg.put_blob(sha(layer.read_bytes()), layer.stat().st_size, "", layer, None)
    assert [m for m, _ in proxy.faults] == list(faults)
    assert OciRegistry.from_url(registry_open.url(f"fault/app-{int(chunked)}")).blob_exists(
        sha(layer.read_bytes()))


def test_connection_reset_during_upload_is_retried(registry_open, fault_proxy):
    proxy = fault_proxy(registry_open, fail_first=("PUT",), reset=True)
    reg = OciRegistry.from_url(proxy.url("fault/reset"))
    data = b"reset me" * 10_000
    reg.put_blob(sha(data), len(data), "", None, data)
    assert proxy.faults and reg.blob_exists(sha(data))


def test_https_against_plain_http_says_how_to_fix(registry_open):
    reg = OciRegistry.from_url(f"docker://{registry_open.address}/tls/app")
    with pytest.raises(TargetError, match=r"TLS with registry .* failed.*\?insecure=true"):
        reg.check()


def test_retries_stop_when_the_budget_is_spent(registry_open, fault_proxy):
    proxy = fault_proxy(registry_open, fail_first=("PUT",))
    reg = OciRegistry.from_url(proxy.url("fault/budget"), options=RunOptions(retry_budget_seconds=0.5))  # Retry-After: 1 > 0.5
    with pytest.raises(TargetError, match="answered 503 .*injected fault"):
        reg.put_blob(sha(b"b"), 1, "", None, b"b")
