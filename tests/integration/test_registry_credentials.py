"""Credentials stay with the registry's own host:port: a blob download redirected to a CDN
on another port, an upload Location on another port — neither receives the registry's
Authorization (docker's distribution client and go-containerregistry keep credentials
to the registry's host:port too), unless that host's own token challenge asks: then it
gets a token of the realm it names, never the password."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading

from hostile import HostileServer, answer
from servers import alba_env, run_alba
from workloads import nix_images

USER, PASSWORD = "alice", "s3cret-Pa55"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _image() -> dict[str, tuple[bytes, str]]:
    """path → (bytes, media type) of a one-platform image behind an index tagged 1."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    layer = b"layer bytes " * 100
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": _digest(config), "size": len(config)},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                       "digest": _digest(layer), "size": len(layer)}]}).encode()
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                       "digest": _digest(manifest), "size": len(manifest),
                                       "platform": {"architecture": "amd64", "os": "linux"}}]}).encode()
    return {f"/v2/tool/manifests/{_digest(manifest)}": (manifest, "application/vnd.oci.image.manifest.v1+json"),
            "/v2/tool/manifests/1": (index, "application/vnd.oci.image.index.v1+json"),
            f"/v2/tool/blobs/{_digest(config)}": (config, "application/octet-stream"),
            f"/v2/tool/blobs/{_digest(layer)}": (layer, "application/octet-stream")}


def _basic_only(serve):
    """A behaviour behind Basic auth: 401 with a Basic challenge unless the password is sent."""
    def behave(h, s):
        if h.headers.get("Authorization") != BASIC:
            return answer(b'{"errors":[{"code":"UNAUTHORIZED"}]}', 401,
                          {"WWW-Authenticate": 'Basic realm="test"'})(h, s)
        serve(h, s)
    return behave


def _authorizations(server: HostileServer) -> list[str]:
    return [headers.get("Authorization", "") for _, _, headers in server.seen]


def test_a_blob_download_redirected_to_another_port_gets_no_credentials():
    objects = _image()
    with HostileServer({}) as cdn:
        routes = {"/v2/": _basic_only(answer(b"{}"))}
        for path, (data, media_type) in objects.items():
            if "/blobs/" in path:
                cdn.routes[f"/cdn/{path.rsplit('/', 1)[1]}"] = answer(data, 200, {"Content-Type": media_type})
                routes[path] = _basic_only(answer(b"", 307, {"Location": f"{cdn.url}/cdn/{path.rsplit('/', 1)[1]}"}))
            else:
                routes[path] = _basic_only(answer(data, 200, {"Content-Type": media_type}))
        with HostileServer(routes) as registry:
            r = run_alba("verify", "-t", "tool:1", f"docker://127.0.0.1:{registry.port}/tool?insecure=true",
                         env=alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=PASSWORD,
                                      ALBA_RETRY_BUDGET_SECONDS="4"))
            assert r.returncode == 0, r.stderr
            assert "2 blobs" in r.stderr, r.stderr
            assert BASIC in _authorizations(registry)
    assert len(cdn.seen) == 2, cdn.paths()
    assert _authorizations(cdn) == ["", ""], cdn.seen


class _Uploads:
    """A registry behind Basic auth whose uploads go to `store` (another port)."""

    def __init__(self, store: HostileServer) -> None:
        self.store = store
        self.lock = threading.Lock()
        self.count = 0

    def routes(self, h, s) -> None:
        path = h.path.split("?", 1)[0]
        if h.headers.get("Authorization") != BASIC:
            return answer(b"{}", 401, {"WWW-Authenticate": 'Basic realm="test"'})(h, s)
        if path == "/v2/":
            return answer(b"{}")(h, s)
        if h.command == "POST" and path.endswith("/blobs/uploads/"):
            with self.lock:
                self.count += 1
                n = self.count
            return answer(b"", 202, {"Location": f"{self.store.url}/upload/{n}"})(h, s)
        if h.command == "PUT" and "/manifests/" in path:
            return answer(b"", 201, {"Docker-Content-Digest": ""})(h, s)
        if h.command in ("HEAD", "GET") and re.search(r"/(blobs|manifests)/", path):
            return answer(b'{"errors":[{"code":"UNKNOWN"}]}', 404)(h, s)
        if path.endswith("/tags/list"):
            return answer(b'{"name":"tool","tags":[]}')(h, s)
        return answer(b"{}", 404)(h, s)


def _push(registry: HostileServer, tmp_path) -> object:
    return run_alba("container", "push", "-t", "tool:1", nix_images(tmp_path / "docker"),
                    f"docker://127.0.0.1:{registry.port}/tool?insecure=true",
                    env=alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=PASSWORD,
                                 ALBA_RETRY_BUDGET_SECONDS="4"))


def test_an_upload_location_on_another_port_gets_no_credentials(tmp_path):
    with HostileServer({}, answer(b"", 201)) as store:
        uploads = _Uploads(store)
        with HostileServer({}, uploads.routes) as registry:
            r = _push(registry, tmp_path)
    assert r.returncode == 0, r.stderr
    puts = [(m, p) for m, p, _ in store.seen if m == "PUT"]
    assert len(puts) >= 3, store.seen  # layers and configs went there
    assert not any(a for a in _authorizations(store)), store.seen


def test_an_upload_host_that_asks_with_a_basic_challenge_gets_no_password(tmp_path):
    challenge = answer(b"{}", 401, {"WWW-Authenticate": 'Basic realm="elsewhere"'})
    with HostileServer({}, challenge) as store:
        with HostileServer({}, _Uploads(store).routes) as registry:
            r = _push(registry, tmp_path)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    assert f"sends the password for 127.0.0.1:{registry.port} to 127.0.0.1:{registry.port} only" in r.stderr, r.stderr
    assert not any(a for a in _authorizations(store)), store.seen


def test_an_upload_host_that_asks_with_its_own_token_challenge_gets_a_token(tmp_path):
    with HostileServer({}) as tokens:
        tokens.default = answer(b'{"token":"elsewhere-token"}')

        def upload(h, s):
            if h.headers.get("Authorization") != "Bearer elsewhere-token":
                return answer(b"{}", 401, {"WWW-Authenticate": f'Bearer realm="{tokens.url}/token",service="up"'})(h, s)
            answer(b"", 201)(h, s)

        with HostileServer({}, upload) as store:
            with HostileServer({}, _Uploads(store).routes) as registry:
                r = _push(registry, tmp_path)
    assert r.returncode == 0, r.stderr
    sent = set(_authorizations(store))
    assert sent <= {"", "Bearer elsewhere-token"} and "Bearer elsewhere-token" in sent, sent
    assert BASIC not in sent
