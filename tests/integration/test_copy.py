"""`alba container copy` and `alba static copy` between docker-registries, moto buckets (with
nginx as the website front) and folders; checked with `alba verify`, the independent sigstore
verifier, minisign and request counts at proxies."""

from __future__ import annotations

import json
import subprocess
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from registry_server import PASSWORD, USER, FaultProxy
from servers import alba_env, relay, run_alba, s3_url
from sigstore_verifier import verify_registry_image
from workloads import nix_images


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    k = ec.generate_private_key(ec.SECP256R1())
    (d / "ec.pem").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    (d / "ec.pub").write_bytes(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo))
    subprocess.run(["minisign", "-G", "-W", "-p", d / "m.pub", "-s", d / "m.key", "-f"], check=True,
                   capture_output=True)
    return {p.name: p for p in d.iterdir()}


def ok(*args, env=None):
    r = run_alba(*args, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if "--json" in args else r


def push_signed(src_dir: Path, url: str, keys, tag: str = "1.0-rc.2", *extra: str) -> dict:
    return ok("container", "push", "-t", f"app:{tag}", "--sign-key", keys["ec.pem"], "--provenance", *extra,
              src_dir, url, "--json", env=alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=PASSWORD))


def _ends(kind: str, registry, other_registry, bucket, website, tmp_path, side: str):
    """(target URL, plain-HTTP address it is served at or None, repository there, identity it signs as)."""
    if kind == "registry":
        reg, repo = (registry, "src/app") if side == "src" else (other_registry, f"from-{tmp_path.name[-12:]}/app")
        return reg.url(repo), reg.address, repo, f"{reg.address}/{repo}"
    if kind == "bucket":
        return bucket[1], website, "app", "app"
    return f"file://{tmp_path / side}", None, "app", "app"


DIRECTIONS = [(a, b) for a in ("registry", "bucket", "folder") for b in ("registry", "bucket", "folder") if a != b]


@pytest.mark.parametrize("src_kind, dst_kind", DIRECTIONS)
def test_a_signed_attested_image_is_promoted_in_every_direction(registry_open, registry_htpasswd, moto, bucket,
                                                                website, keys, tmp_path, src_kind, dst_kind):
    """Promoted under new tags; the same digests, the signatures and provenance come along and
    verify on the far side with the original key, by alba verify and the independent verifier."""
    # Read with credentials from the htpasswd registry; written to the open one, which the verifier reads.
    src, _, _, identity = _ends(src_kind, registry_htpasswd, registry_open, bucket, website, tmp_path, "src")
    dst, address, repo, _ = _ends(dst_kind, registry_htpasswd, registry_open, bucket, website, tmp_path, "dst")
    pushed = push_signed(nix_images(tmp_path / "docker"), src, keys)
    env = alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=PASSWORD)
    out = ok("container", "copy", "-t", "app:1.0-rc.2", "--as", "1.0", "--as", "latest", src, dst, "--json", env=env)
    assert out["digests"] == {"1.0-rc.2": pushed["digest"]}
    [target] = out["targets"]
    assert target["tags"] == {"1.0": pushed["digest"], "latest": pushed["digest"]}
    assert len(target["attachments"]) == 6  # 3 signature tags, 3 referrers indexes
    for tag in ("1.0", "latest"):
        v = run_alba("verify", "-t", f"{repo}:{tag}", dst, "--key", keys["ec.pub"], "--json", env=env)
        assert v.returncode == 0, v.stdout + v.stderr
        checked = json.loads(v.stdout)["checked"]
        assert checked["signatures"] >= 4 and checked["manifests"] == 2  # 3 image signatures + provenance
    if address:  # the registry, or the bucket's website front: as the containers/image policy check reads it
        for digest in [pushed["digest"], *(p["digest"] for p in pushed["platforms"])]:
            assert verify_registry_image(address, repo, digest, keys["ec.pub"].read_bytes(), identity)
    tags = run_alba("verify", "-t", f"{repo}:1.0-rc.2", dst, env=env)
    assert tags.returncode != 0  # promotion writes the new tags only


def test_the_independent_verifier_accepts_a_copy_between_registries(registry_open, keys, tmp_path):
    pushed = push_signed(nix_images(tmp_path / "docker"), registry_open.url("sig/app"), keys)
    ok("container", "copy", "-t", "app:1.0-rc.2", registry_open.url("sig/app"), registry_open.url("sig/mirror"))
    identity = f"{registry_open.address}/sig/app"  # what was signed: a mirror's policy maps it (remapIdentity)
    for digest in [pushed["digest"], *(p["digest"] for p in pushed["platforms"])]:
        assert verify_registry_image(registry_open.address, "sig/mirror", digest, keys["ec.pub"].read_bytes(), identity)


def test_mirror_of_every_tag_to_several_targets_then_a_second_copy_sends_nothing(registry_open, moto, bucket, keys,
                                                                                 tmp_path):
    src_dir = nix_images(tmp_path / "docker")
    for tag in ("1", "2"):
        push_signed(src_dir, registry_open.url("mir/app"), keys, tag, "--annotation", f"n={tag}")
    source = FaultProxy(registry_open)
    target = FaultProxy(registry_open)
    folder = f"file://{tmp_path / 'mirror'}"
    try:
        args = ("container", "copy", "-t", "app", source.url("mir/app"), target.url("mir/copy"), bucket[1], folder,
                "--json")
        first = ok(*args)
        assert sorted(first["tags"]) == ["1", "2"] and len(first["targets"]) == 3
        assert all(t["pushed_blobs"] for t in first["targets"])
        assert sorted(ok("container", "ls", "-t", "app", bucket[1]).stdout.split()) == ["1", "2"]
        for url in (registry_open.url("mir/copy"), bucket[1], folder):
            for tag in ("1", "2"):
                name = "mir/copy" if url.startswith("docker") else "app"
                assert run_alba("verify", "-t", f"{name}:{tag}", url, "--key", keys["ec.pub"]).returncode == 0
        source.seen.clear()
        target.seen.clear()
        second = ok(*args)
        assert all(t["pushed_blobs"] == [] and t["pushed_manifests"] == [] and t["attachments"] == []
                   and sorted(t["unchanged_tags"]) == ["1", "2"] for t in second["targets"])
        assert not [s for s in target.seen if s[0] in ("PUT", "POST", "PATCH")], target.seen
        # Pulls spared: manifests read back from a target that holds them, blobs not read at all.
        pulls = [s for s in source.seen if s[0] == "GET" and ("/manifests/" in s[1] or "/blobs/" in s[1])]
        assert pulls == [], pulls
    finally:
        source.stop()
        target.stop()


def test_blobs_are_mounted_within_one_registry(registry_open, keys, tmp_path):
    push_signed(nix_images(tmp_path / "docker"), registry_open.url("mnt/a"), keys)
    out = ok("container", "copy", "-t", "x:1.0-rc.2", registry_open.url("mnt/a"), registry_open.url("mnt/b"), "--json")
    [t] = out["targets"]
    assert t["mounted_blobs"] and t["pushed_blobs"] == []


class RateLimited:
    """Docker Hub's pull limit in front of a registry: manifest GETs answer 429 with
    Retry-After (the first `count`, or every one); HEADs pass. Records every request."""

    def __init__(self, registry, count: int | None) -> None:
        self.seen: list[tuple[str, str]] = []
        self.limited = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                proxy.seen.append((self.command, self.path))
                if self.command == "GET" and "/manifests/" in self.path and (count is None or proxy.limited < count):
                    proxy.limited += 1
                    data = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}'
                    self.send_response(429)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                relay(self, registry.host, registry.port, body)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, repo: str) -> str:
        return f"docker://{self.address}/{repo}?insecure=true"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_rate_limited_source_is_waited_for_then_named(registry_open, keys, tmp_path):
    push_signed(nix_images(tmp_path / "docker"), registry_open.url("rl/app"), keys)
    limited = RateLimited(registry_open, count=2)
    try:
        out = ok("container", "copy", "-t", "app:1.0-rc.2", limited.url("rl/app"), f"file://{tmp_path / 'a'}", "--json")
        assert limited.limited == 2 and out["targets"][0]["tags"]
        assert any(m == "HEAD" and p.endswith("/manifests/1.0-rc.2") for m, p in limited.seen)  # resolved by HEAD
    finally:
        limited.stop()
    always = RateLimited(registry_open, count=None)
    try:
        r = run_alba("container", "copy", "-t", "app:1.0-rc.2", always.url("rl/app"), f"file://{tmp_path / 'b'}",
                     env=alba_env(ALBA_RETRY_BUDGET_SECONDS="2"))
        last = r.stderr.strip().splitlines()[-1]
        assert r.returncode != 0 and "rate limited" in last and "429" in last and "docker login" in last, r.stderr
        assert not (tmp_path / "b").exists() or not any((tmp_path / "b").rglob("*"))
    finally:
        always.stop()


def _tree(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
        (root / "df/linux" / arch / "tool").write_bytes(f"tool for {arch}\n".encode() * 50)
    return root / "df"


def test_a_minisigned_static_release_is_promoted_between_buckets(moto, bucket, website, keys, tmp_path):
    staging = "alba-copy-staging"
    moto.client().create_bucket(Bucket=staging)
    src = s3_url(staging, moto.port)
    ok("static", "push", "-t", "tool:1.0-rc.2", "--minisign-key", keys["m.key"], _tree(tmp_path), src)
    ok("static", "push", "-t", "tool:0.9", "--minisign-key", keys["m.key"], _tree(tmp_path), bucket[1])
    out = ok("static", "copy", "-t", "tool:1.0-rc.2", "--as", "1.0", src, bucket[1], "--json")
    assert out["targets"][0]["tags"] == ["1.0"] and out["targets"][0]["pages"]
    site = f"http://{website}"
    doc = json.loads(urllib.request.urlopen(f"{site}/df-dist-v1/tool", timeout=10).read())
    assert doc["tags"] == ["1.0", "0.9"]  # the promoted tag is the newest
    got = tmp_path / "got"
    got.mkdir()
    for key in ("SHA256SUMS", "linux/amd64/tool", "linux/arm64/tool"):
        flat = got / key.replace("/", "_")
        for suffix in ("", ".minisig"):  # through the website front, as a user downloads them
            Path(f"{flat}{suffix}").write_bytes(urllib.request.urlopen(f"{site}/df-dist-v1/tool/1.0/{key}{suffix}",
                                                                       timeout=10).read())
        v = subprocess.run(["minisign", "-Vm", flat, "-p", keys["m.pub"]], capture_output=True, text=True)
        assert v.returncode == 0 and "tag:1.0-rc.2" in v.stdout, v.stderr  # signed as the release candidate
    assert run_alba("verify", "-t", "tool:1.0", site, "--key", keys["m.pub"]).returncode == 0
    assert b"1.0" in urllib.request.urlopen(f"{site}/df-dist-v1/tool/", timeout=10).read()
    again = ok("static", "copy", "-t", "tool:1.0-rc.2", "--as", "1.0", src, bucket[1], "--json")
    assert again["targets"][0]["files"] == []  # nothing sent twice
    # The website as a source (read by key over HTTP), mirrored whole into a folder.
    folder = f"file://{tmp_path / 'mirror'}"
    mirror = ok("static", "copy", "-t", "tool", site, folder, "--json")
    assert sorted(mirror["tags"]) == ["0.9", "1.0"]
    assert ok("static", "ls", "-t", "tool", folder).stdout.split() == ["1.0", "0.9"]
    assert run_alba("verify", "-t", "tool:0.9", folder, "--key", keys["m.pub"]).returncode == 0


@pytest.mark.parametrize("kind", ["image", "static"])
def test_a_tampered_source_writes_nothing_anywhere(moto, bucket, keys, tmp_path, kind):
    name, url = bucket
    src = tmp_path / "src"
    if kind == "image":
        push_signed(nix_images(tmp_path / "docker"), f"file://{src}", keys)
        blob = max((src / "v2/app/blobs").iterdir(), key=lambda p: p.stat().st_size)
        args = ("container", "copy", "-t", "app:1.0-rc.2")
    else:
        ok("static", "push", "-t", "app:1.0-rc.2", "--minisign-key", keys["m.key"], _tree(tmp_path), f"file://{src}")
        blob = next(src.rglob("arm64/tool"))
        args = ("static", "copy", "-t", "app:1.0-rc.2")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 1
    blob.write_bytes(bytes(data))
    folder = tmp_path / "dst"
    r = run_alba(*args, f"file://{src}", url, f"file://{folder}")
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode != 0 and "does not hash" in last and "nothing was copied" in last, r.stderr
    assert not moto.client().list_objects_v2(Bucket=name).get("Contents")
    assert not folder.exists()


def test_bad_input_names_what_is_wrong_and_writes_nothing(moto, bucket, keys, tmp_path):
    name, url = bucket
    src = f"file://{tmp_path / 'src'}"
    push_signed(nix_images(tmp_path / "docker"), src, keys)
    missing = run_alba("container", "copy", "-t", "app:9.9", src, url)
    assert missing.returncode == 2 and "tag 9.9 is not in" in missing.stderr.splitlines()[-1], missing.stderr
    unknown = s3_url("no-such-bucket", moto.port)
    bad = run_alba("container", "copy", "-t", "app:1.0-rc.2", src, url, unknown)
    assert bad.returncode != 0 and "no-such-bucket" in bad.stderr.splitlines()[-1], bad.stderr
    promote = run_alba("container", "copy", "-t", "app", "--as", "1.0", src, url)
    assert promote.returncode == 2 and "--as" in promote.stderr.splitlines()[-1]
    assert not moto.client().list_objects_v2(Bucket=name).get("Contents")
    dry = run_alba("container", "copy", "-t", "app:1.0-rc.2", "--as", "1.0", "--dry-run", "--json", src, url)
    assert dry.returncode == 0 and "would tag 1.0 -> sha256:" in dry.stderr, dry.stderr
    assert json.loads(dry.stdout)["plan"] and not moto.client().list_objects_v2(Bucket=name).get("Contents")


def test_the_step_promotes_on_a_release_tag(registry_open, moto, bucket, keys, tmp_path):
    """The documented workflow: main published `sha-…` to staging; the release tag v1.2.3 copies
    it to the public targets as 1.2.3, 1.2 and latest (the copy-as rules, flavor latest=auto)."""
    from ci_env import SHA, github_env, run_entrypoint

    from alba_action.report.outputs import parse_outputs

    staging = f"file://{tmp_path / 'staging'}"
    built = f"sha-{SHA[:7]}"
    pushed = push_signed(nix_images(tmp_path / "docker"), staging, keys, built)
    ok("static", "push", "-t", f"app:{built}", "--minisign-key", keys["m.key"], _tree(tmp_path), staging)
    ws = tmp_path / "ws"
    ws.mkdir()
    inputs = {"name": "app", "copy-from": staging, "tags": "type=sha",
              "copy-as": "type=semver,pattern={{version}}\ntype=semver,pattern={{major}}.{{minor}}",
              "container-targets": f"{registry_open.url('step/app')}\n{bucket[1]}", "static-target": bucket[1],
              "insecure": "true"}
    proc = run_entrypoint(ws, github_env(ws, **inputs))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(parse_outputs((tmp_path / "github_output").read_text())["json"])
    assert out["tags"] == ["1.2.3", "1.2", "latest"] and out["digest"] == pushed["digest"]
    for url, name in ((registry_open.url("step/app"), "step/app"), (bucket[1], "app")):
        v = run_alba("verify", "-t", f"{name}:1.2.3", url, "--key", keys["ec.pub"], "--key", keys["m.pub"])
        assert v.returncode == 0, v.stderr
    assert ok("static", "ls", "-t", "app", bucket[1]).stdout.split()[:3] == ["1.2.3", "1.2", "latest"]
    summary = (tmp_path / "summary.md").read_text()
    assert "### Copied container `app`" in summary and "`sha-0123456` → `1.2.3`, `1.2`, `latest`" in summary


def test_no_referrers_leaves_the_attachments_behind(keys, tmp_path):
    src, dst = f"file://{tmp_path / 'src'}", f"file://{tmp_path / 'dst'}"
    pushed = push_signed(nix_images(tmp_path / "docker"), src, keys)
    out = ok("container", "copy", "-t", "app:1.0-rc.2", "--no-referrers", src, dst, "--json")
    assert out["targets"][0]["attachments"] == []
    tags = (tmp_path / "dst/v2/app/tags/list").read_text()
    assert "sha256-" not in tags and not (tmp_path / "dst/v2/app/referrers").exists()
    assert run_alba("verify", "-t", "app:1.0-rc.2", dst).returncode == 0  # the image itself is whole
    signed = run_alba("verify", "-t", "app:1.0-rc.2", dst, "--key", keys["ec.pub"])
    assert signed.returncode == 1 and f"{pushed['digest']}: no signature" in signed.stderr


def test_copy_from_a_token_registry(registry_token, keys, tmp_path):
    """Bearer tokens for the source's pulls (the referrers API included) and the target's pushes."""
    env = alba_env(ALBA_REGISTRY_USERNAME=USER, ALBA_REGISTRY_PASSWORD=PASSWORD)
    push_signed(nix_images(tmp_path / "docker"), registry_token.url("tok/app"), keys)
    out = ok("container", "copy", "-t", "app:1.0-rc.2", registry_token.url("tok/app"), registry_token.url("tok/copy"),
             f"file://{tmp_path / 'out'}", "--json", env=env)
    assert [len(t["attachments"]) for t in out["targets"]] == [6, 6]
    assert out["targets"][0]["mounted_blobs"] and not out["targets"][0]["pushed_blobs"]
    assert run_alba("verify", "-t", "tok/copy:1.0-rc.2", registry_token.url("tok/copy"), "--key", keys["ec.pub"],
                    env=env).returncode == 0
