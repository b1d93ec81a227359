"""Signed releases: checksums and minisign for static files, sigstore signatures for images,
`alba verify`; checked with Debian's minisign, sha256sum and skopeo and an independent verifier."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

import minisign
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from servers import alba_env, run_alba
from sigstore_verifier import verify_registry_image
from workloads import nix_images

from alba_action.signing.ecdsa_keys import seal_cosign_key

PASSWORD = "correct horse 7-battery"


def require(binary: str) -> str:
    from shutil import which

    path = which(binary)
    assert path, f"{binary} is missing: .ci/setup installs it"
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    """minisign keys made by Debian's minisign (unencrypted) and py-minisign (encrypted, light
    scrypt), a cosign-format encrypted P-256 key, a PKCS#8 one, and another of each."""
    d = tmp_path_factory.mktemp("keys")
    subprocess.run([require("minisign"), "-G", "-W", "-p", d / "m.pub", "-s", "m.key", "-f"], cwd=d, check=True,
                   capture_output=True)
    subprocess.run(["minisign", "-G", "-W", "-p", d / "other.pub", "-s", d / "other.key", "-f"], check=True,
                   capture_output=True)
    pair = minisign.KeyPair.generate()
    pair.secret_key.encrypt(PASSWORD, opslimit=1 << 16, memlimit=1 << 24)
    (d / "enc.key").write_bytes(bytes(pair.secret_key) + b"\n")
    (d / "enc.pub").write_bytes(bytes(pair.public_key) + b"\n")
    for name in ("ec", "ec-other"):
        k = ec.generate_private_key(ec.SECP256R1())
        (d / f"{name}.pem").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
        (d / f"{name}.pub").write_bytes(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                                    serialization.PublicFormat.SubjectPublicKeyInfo))
        (d / f"{name}.cosign.key").write_bytes(seal_cosign_key(k, PASSWORD, n=1 << 14))
    return {p.name: p for p in d.iterdir()}


def tree(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
        (root / "df/linux" / arch / "tool").write_bytes(f"tool for {arch}\n".encode() * 50)
    return root / "df"


def fetch(site: str, key: str, dest: Path) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(urllib.request.urlopen(f"http://{site}/{key}", timeout=10).read())
    return dest


def test_minisign_and_sha256sum_accept_what_is_published_and_refuse_a_tampered_file(moto, bucket, website, keys,
                                                                                     tmp_path):
    name, url = bucket
    r = run_alba("static", "push", "-t", "tool:1.0", "--minisign-key", keys["m.key"], tree(tmp_path), url)
    assert r.returncode == 0, r.stderr
    got = tmp_path / "got"
    base = "df-dist-v1/tool/1.0"
    for key in ("SHA256SUMS", "SHA256SUMS.minisig", "linux/amd64/tool", "linux/amd64/tool.minisig",
                "linux/arm64/tool", "linux/arm64/tool.minisig"):
        fetch(website, f"{base}/{key}", got / key)
    for f in ("SHA256SUMS", "linux/amd64/tool", "linux/arm64/tool"):
        ok = subprocess.run(["minisign", "-Vm", got / f, "-p", keys["m.pub"]], capture_output=True, text=True)
        assert ok.returncode == 0 and "Trusted comment: name:tool tag:1.0" in ok.stdout, ok.stderr
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=got, capture_output=True).returncode == 0
    doc = json.loads(urllib.request.urlopen(f"http://{website}/{base}", timeout=10).read())
    assert doc["checksums"]["signature"] == "SHA256SUMS.minisig"
    assert doc["flavors"][0]["resources"][0]["signature"] == "tool.minisig"

    moto.client().put_object(Bucket=name, Key=f"{base}/linux/amd64/tool", Body=b"tampered")
    fetch(website, f"{base}/linux/amd64/tool", got / "linux/amd64/tool")
    bad = subprocess.run(["minisign", "-Vm", got / "linux/amd64/tool", "-p", keys["m.pub"]], capture_output=True)
    assert bad.returncode != 0
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=got, capture_output=True).returncode != 0
    v = run_alba("verify", "-t", "tool:1.0", f"http://{website}", "--key", keys["m.pub"], "--json")
    assert v.returncode == 1
    problems = json.loads(v.stdout)["problems"]
    assert any("linux/amd64/tool: 8 bytes" in p for p in problems), problems
    assert any("tool.minisig: does not verify" in p for p in problems), problems


def _signed_release(url: str, keys, tmp_path: Path, *extra: str) -> None:
    r = run_alba("static", "push", "-t", "tool:2", "--minisign-key", keys["m.key"], tree(tmp_path), url)
    assert r.returncode == 0, r.stderr
    r = run_alba("container", "push", "-t", "tool:2", "--sign-key", keys["ec.pem"], nix_images(tmp_path / "docker"),
                 url, *extra)
    assert r.returncode == 0, r.stderr


def _verify(url: str, keys, *names: str) -> tuple[int, list[str]]:
    args = [a for n in names for a in ("--key", keys[n])]
    r = run_alba("verify", "-t", "tool:2", url, *args, "--json")
    return r.returncode, json.loads(r.stdout)["problems"] if r.stdout else [r.stderr]


def _damage(moto, bucket: str, how: str) -> str:
    c = moto.client()
    objects = [o["Key"] for o in c.list_objects_v2(Bucket=bucket).get("Contents", [])]
    index = json.loads(c.get_object(Bucket=bucket, Key="v2/tool/manifests/2")["Body"].read())
    child = index["manifests"][1]["digest"]
    if how == "flipped byte":
        key = "df-dist-v1/tool/2/linux/arm64/tool"
        data = bytearray(c.get_object(Bucket=bucket, Key=key)["Body"].read())
        data[3] ^= 1
        c.put_object(Bucket=bucket, Key=key, Body=bytes(data))
        return "linux/arm64/tool: sha256 differs"
    if how == "deleted blob":
        manifest = json.loads(c.get_object(Bucket=bucket, Key=f"v2/tool/manifests/{child}")["Body"].read())
        layer = manifest["layers"][0]["digest"]
        c.delete_object(Bucket=bucket, Key=f"v2/tool/blobs/{layer}")
        return f"blob {layer}"
    if how == "deleted platform manifest":
        c.delete_object(Bucket=bucket, Key=f"v2/tool/manifests/{child}")
        return f"manifest {child} (linux/arm64): missing"
    if how == "checksums line edited":
        key = "df-dist-v1/tool/2/SHA256SUMS"
        text = c.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        c.put_object(Bucket=bucket, Key=key, Body=text.replace(text[:4], "0000", 1).encode())
        return "SHA256SUMS: sha256 differs from the tag document"
    assert how in objects
    return how


@pytest.mark.parametrize("how", ["flipped byte", "deleted blob", "deleted platform manifest", "checksums line edited"])
def test_verify_names_each_kind_of_damage(moto, bucket, keys, tmp_path, how):
    name, url = bucket
    _signed_release(url, keys, tmp_path)
    assert _verify(url, keys, "m.pub", "ec.pub") == (0, [])
    expected = _damage(moto, name, how)
    code, problems = _verify(url, keys, "m.pub", "ec.pub")
    assert code == 1 and any(expected in p for p in problems), problems


def test_verify_refuses_other_keys_and_unsigned_releases(moto, bucket, keys, tmp_path):
    _, url = bucket
    _signed_release(url, keys, tmp_path)
    code, problems = _verify(url, keys, "other.pub", "ec-other.pub")
    assert code == 1
    assert any("does not verify with the given minisign key" in p for p in problems)
    assert any("no signature under sha256-" in p for p in problems)
    unsigned = tmp_path / "unsigned"
    r = run_alba("static", "push", "-t", "tool:2", tree(unsigned), f"file://{unsigned / 'out'}")
    assert r.returncode == 0, r.stderr
    code, problems = _verify(f"file://{unsigned / 'out'}", keys, "m.pub")
    assert code == 1 and any("not signed" in p for p in problems)


def test_image_signatures_on_a_registry(registry_open, keys, tmp_path):
    """Signed with a cosign-format encrypted key; an independent verifier and `alba verify`
    accept the index and each platform manifest; skopeo finds the sigstore attachments."""
    src = nix_images(tmp_path / "docker")
    env = alba_env(COSIGN_PASSWORD=PASSWORD)
    url = registry_open.url("signed/app")
    r = run_alba("container", "push", "-t", "app:1", "--sign-key", keys["ec.cosign.key"], src, url, "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert PASSWORD not in r.stderr + r.stdout
    identity = f"{registry_open.address}/signed/app"
    for digest in [out["digest"], *(p["digest"] for p in out["platforms"])]:
        assert verify_registry_image(registry_open.address, "signed/app", digest, keys["ec.pub"].read_bytes(), identity)
        assert not verify_registry_image(registry_open.address, "signed/app", digest, keys["ec-other.pub"].read_bytes(),
                                         identity)
    assert [s["subject"] for s in out["signatures"]][0] == out["digest"]
    ok = run_alba("verify", "-t", "signed/app:1", url, "--key", keys["ec.pub"])
    assert ok.returncode == 0, ok.stderr
    other = run_alba("verify", "-t", "signed/app:1", url, "--key", keys["ec-other.pub"])
    assert other.returncode == 1 and "no signature under" in other.stderr
    again = run_alba("container", "push", "-t", "app:1", "--sign-key", keys["ec.cosign.key"], src, url, env=env)
    assert again.returncode == 0 and again.stderr.count("unchanged") >= 4, again.stderr  # 3 signatures + the tag


def _skopeo_with_policy(tmp_path: Path, pub: Path, ref: str) -> subprocess.CompletedProcess:
    policy = {"default": [{"type": "reject"}], "transports": {"docker": {"": [
        {"type": "sigstoreSigned", "keyPath": str(pub), "signedIdentity": {"type": "matchRepository"}}]}}}
    (tmp_path / "policy.json").write_text(json.dumps(policy))
    (tmp_path / "registries.d").mkdir(exist_ok=True)
    (tmp_path / "registries.d/default.yaml").write_text("default-docker:\n  use-sigstore-attachments: true\n")
    return subprocess.run([require("skopeo"), "--policy", tmp_path / "policy.json", "--registries.d",
                           tmp_path / "registries.d", "copy", "--src-tls-verify=false", ref,
                           f"oci:{tmp_path / 'copy'}:x"], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("where", ["registry", "static registry"])
def test_skopeo_finds_the_signatures_where_real_clients_look(registry_open, moto, bucket, website, keys, tmp_path, where):
    """Debian's skopeo is built with sigstore verification disabled, so it cannot judge a
    signature; it does prove where it looks: unsigned → "no signature exists"; signed → it
    gets past that to the verification step."""
    src = nix_images(tmp_path / "docker")
    name, url = bucket
    if where == "registry":
        target, ref_base = registry_open.url("sk/app"), f"docker://{registry_open.address}/sk/app"
    else:
        target, ref_base = url, f"docker://{website}/app"
    assert run_alba("container", "push", "-t", "app:plain", src, target).returncode == 0
    assert run_alba("container", "push", "-t", "app:signed", "--sign-key", keys["ec.pem"], src, target,
                    "--annotation", "manifest:signed=yes").returncode == 0  # its own platform manifests
    (tmp_path / "u").mkdir()
    (tmp_path / "s").mkdir()
    unsigned = _skopeo_with_policy(tmp_path / "u", keys["ec.pub"], f"{ref_base}:plain")
    text = unsigned.stderr.lower()
    assert unsigned.returncode != 0
    if where == "registry":
        assert "no signature exists" in text, unsigned.stderr
    else:
        # A website answers a missing key with its own 404 page, not the registry's MANIFEST_UNKNOWN:
        # skopeo names the attachment it looked for (README: the error document that fixes this).
        assert ".sig in" in text and "404" in text, unsigned.stderr
    signed = _skopeo_with_policy(tmp_path / "s", keys["ec.pub"], f"{ref_base}:signed")
    # Past finding the signature, to the verification Debian's build leaves out.
    assert signed.returncode != 0 and "sigstore disabled" in signed.stderr.lower(), signed.stderr


@pytest.mark.parametrize("flag, key, password, expected", [
    ("--minisign-key", "enc.key", "Wr0ng-pass-Zq9", "wrong password for the minisign key"),
    ("--minisign-key", "enc.key", "", "is encrypted and no password was given"),
    ("--minisign-key", "ec.pem", "", "not a minisign secret key"),
    ("--minisign-key", "missing.key", "", "cannot read it"),
    ("--sign-key", "ec.cosign.key", "Wr0ng-pass-Zq9", "wrong password for the cosign key"),
    ("--sign-key", "m.key", "", "not a private key alba can read"),
])
def test_bad_keys_fail_before_anything_is_uploaded(moto, bucket, keys, tmp_path, flag, key, password, expected):
    name, url = bucket
    kind, src = ("static", tree(tmp_path)) if flag == "--minisign-key" else ("container", nix_images(tmp_path / "d"))
    env = alba_env(ALBA_MINISIGN_PASSWORD=password, ALBA_SIGN_PASSWORD=password)
    r = run_alba(kind, "push", "-t", "tool:1", flag, keys.get(key, tmp_path / key), src, url, env=env)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 2 and expected in last, r.stderr
    assert not moto.client().list_objects_v2(Bucket=name).get("Contents")
    secret = keys[key].read_text() if key in keys else ""
    for line in secret.splitlines():
        if len(line) > 20:
            assert line not in r.stderr + r.stdout
    if password:
        assert password not in r.stderr + r.stdout


def test_encrypted_minisign_key_signs_and_signatures_do_not_change_on_rerun(moto, bucket, keys, tmp_path):
    name, url = bucket
    env = alba_env(ALBA_MINISIGN_PASSWORD=PASSWORD)
    src = tree(tmp_path)
    for _ in range(2):
        r = run_alba("static", "push", "-t", "tool:3", "--minisign-key", keys["enc.key"], src, url, env=env)
        assert r.returncode == 0, r.stderr
    sig = moto.client().get_object(Bucket=name, Key="df-dist-v1/tool/3/linux/amd64/tool.minisig")["Body"].read()
    data = (src / "linux/amd64/tool").read_bytes()
    (tmp_path / "t").write_bytes(data)
    (tmp_path / "t.minisig").write_bytes(sig)
    assert subprocess.run(["minisign", "-Vm", tmp_path / "t", "-p", keys["enc.pub"]], capture_output=True).returncode == 0
    r = run_alba("static", "push", "-t", "tool:3", "--minisign-key", keys["enc.key"], src, url, env=env)
    assert r.returncode == 0, r.stderr  # Ed25519 is deterministic: the same signature bytes on every run
    assert moto.client().get_object(Bucket=name, Key="df-dist-v1/tool/3/linux/amd64/tool.minisig")["Body"].read() == sig


def test_container_ls_and_gc_treat_signatures_as_attachments(moto, bucket, keys, tmp_path):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    for tag in ("1", "2"):
        r = run_alba("container", "push", "-t", f"app:{tag}", "--annotation", f"n={tag}", "--sign-key", keys["ec.pem"],
                     src, url)
        assert r.returncode == 0, r.stderr
    assert run_alba("container", "ls", "-t", "app", url).stdout.split() == ["2", "1"]
    gc = run_alba("container", "gc", "-t", "app", "--keep", "1", "--grace", "0", url, "--json")
    assert gc.returncode == 0, gc.stderr
    out = json.loads(gc.stdout)
    # The platform manifests are shared with tag 2: only the index signature of tag 1 goes.
    assert out["removed_tags"] == ["1"] and len(out["removed_attachments"]) == 1
    left = [o["Key"].rsplit("/", 1)[1] for o in moto.client().list_objects_v2(
        Bucket=name, Prefix="v2/app/manifests/").get("Contents", [])]
    assert sum(1 for k in left if k.endswith(".sig")) == 3 and "2" in left and "1" not in left
    assert run_alba("verify", "-t", "app:2", url, "--key", keys["ec.pub"]).returncode == 0


def test_the_step_signs_from_secret_inputs_and_verifies_through_the_website(moto, bucket, website, registry_open,
                                                                            keys, tmp_path):
    from ci_env import assert_secret_nowhere, github_env, run_entrypoint

    from alba_action.report.outputs import parse_outputs

    name, url = bucket
    ws = tmp_path / "ws"
    tree(ws)
    nix_images(ws / "docker")
    inputs = {"name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
              "container-targets": f"{url}\n{registry_open.url('step/tool')}", "tags": "type=semver,pattern={{version}}",
              "minisign-key": keys["enc.key"].read_text(), "minisign-password": PASSWORD,
              "sign-key": keys["ec.cosign.key"].read_text(), "sign-password": PASSWORD, "verify": "true",
              "public-url": f"http://{website}", "registry-public-url": f"http://{website}"}
    proc = run_entrypoint(ws, github_env(ws, **inputs))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(parse_outputs((tmp_path / "github_output").read_text())["json"])
    assert [r["ok"] for r in out["verify"]] == [True, True]  # the website (files and image), the registry
    assert sum(r["checked"]["signatures"] for r in out["verify"]) >= 3 + 3 + 3
    assert "Verified" in (tmp_path / "summary.md").read_text()
    for secret in (PASSWORD, keys["enc.key"].read_text().splitlines()[1], keys["ec.cosign.key"].read_text().splitlines()[1]):
        assert_secret_nowhere(secret, proc, tmp_path / "summary.md", tmp_path / "github_output")
