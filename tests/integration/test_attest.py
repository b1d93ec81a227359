"""Provenance and SBOMs: OCI 1.1 referrers (never index entries), the referrers fallback tag,
`v2/NAME/referrers/DIGEST` on static registries, files under the tag for static releases;
DSSE verified with securesystemslib (not ours)."""

from __future__ import annotations

import base64
import json
import subprocess
import urllib.request
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from servers import alba_env, run_alba
from ci_env import SHA, github_env, woodpecker_env
from workloads import nix_images

SPDX = {"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "tool", "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.org/tool", "creationInfo": {"created": "2026-01-01T00:00:00Z",
                                                                           "creators": ["Tool: test"]}, "packages": []}
CDX = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}
ACCEPT = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"


@pytest.fixture(scope="module")
def key(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("k")
    k = ec.generate_private_key(ec.SECP256R1())
    (d / "k.pem").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    pub = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (d / "k.pub").write_bytes(pub)
    return {"pem": d / "k.pem", "pub": d / "k.pub", "pub_pem": pub.decode()}


def images_with_sboms(root: Path) -> Path:
    src = nix_images(root)
    (src / "linux.amd64.spdx.json").write_text(json.dumps(SPDX))
    (src / "linux.arm64.cdx.json").write_text(json.dumps(CDX))
    return src


def ci_env(kind: str, ws: Path, run: str = "7") -> dict:
    if kind == "woodpecker":
        env = woodpecker_env(ws)
        env.update(CI_PIPELINE_URL=f"https://ci.example.org/repos/1/pipeline/{run}", CI_PIPELINE_NUMBER=run,
                   CI_PIPELINE_STARTED="1764720000", CI_FORGE_URL="https://forge.example.org")
        return env
    env = github_env(ws, ref="refs/tags/v1.2.3")
    env.update(GITHUB_RUN_ID=run, GITHUB_RUN_NUMBER=run, GITHUB_WORKFLOW="release")
    if kind == "forgejo":
        env.update(FORGEJO_ACTIONS="true", GITHUB_SERVER_URL="https://code.example.org")
    return {k: v for k, v in env.items() if k not in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}


def push(src: Path, target: str, env_extra: dict, *args: str) -> dict:
    r = run_alba("container", "push", "-t", "tool:1", *args, src, target, "--json", env=alba_env(**env_extra))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def get_json(url: str) -> dict:
    return json.loads(urllib.request.urlopen(urllib.request.Request(url, headers={"Accept": ACCEPT}), timeout=10).read())


def statement_rules(statement: dict) -> None:
    """in-toto Statement v1 and SLSA provenance v1 field rules (required fields and types)."""
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["subject"] and all(s["name"] and len(s["digest"]["sha256"]) == 64 for s in statement["subject"])
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    build = statement["predicate"]["buildDefinition"]
    assert isinstance(build["buildType"], str) and build["buildType"].startswith("https://")
    assert isinstance(build["externalParameters"], dict)
    for dep in build.get("resolvedDependencies", []):
        assert dep["uri"] and dep["digest"]
    details = statement["predicate"]["runDetails"]
    assert isinstance(details["builder"]["id"], str) and details["builder"]["id"]


def dsse_verifies_with_securesystemslib(envelope: dict, pub_pem: str) -> None:
    from securesystemslib.dsse import Envelope
    from securesystemslib.signer import SSlibKey

    keyid = envelope["signatures"][0]["keyid"]
    ssl_key = SSlibKey(keyid, "ecdsa", "ecdsa-sha2-nistp256", {"public": pub_pem})
    assert keyid in Envelope.from_dict(envelope).verify([ssl_key], 1)


@pytest.mark.parametrize("where", ["registry", "static registry"])
def test_referrers_are_found_and_the_index_stays_clean(where, moto, bucket, website, registry_open, key, tmp_path):
    name, url = bucket
    src = images_with_sboms(tmp_path / "docker")
    ws = tmp_path / "ws"
    ws.mkdir()
    target = registry_open.url("att/tool") if where == "registry" else url
    first = push(src, target, ci_env("github", ws, run="7"), "--sign-key", str(key["pem"]))
    second = push(src, target, ci_env("github", ws, run="8"), "--sign-key", str(key["pem"]))  # a second attaching run
    index = first["digest"]
    assert second["digest"] == index
    base = f"http://{registry_open.address}/v2/att/tool" if where == "registry" else f"http://{website}/v2/tool"
    fallback = get_json(f"{base}/manifests/{index.replace(':', '-')}")
    provenances = [m for m in fallback["manifests"] if m["artifactType"] == "application/vnd.in-toto+json"]
    assert len(provenances) == 2  # neither run dropped the other's
    if where == "static registry":
        assert get_json(f"{base}/referrers/{index}") == fallback
        head = urllib.request.urlopen(f"{base}/referrers/{index}", timeout=10)
        assert head.headers["Content-Type"] == "application/vnd.oci.image.index.v1+json"
    for platform, kind in (("linux/amd64", "application/spdx+json"), ("linux/arm64", "application/vnd.cyclonedx+json")):
        digest = next(p["digest"] for p in first["platforms"] if p["platform"] == platform)
        refs = get_json(f"{base}/manifests/{digest.replace(':', '-')}")["manifests"]
        assert [r["artifactType"] for r in refs] == [kind]
        artifact = get_json(f"{base}/manifests/{refs[0]['digest']}")
        assert artifact["subject"]["digest"] == digest and artifact["artifactType"] == kind

    artifact = get_json(f"{base}/manifests/{provenances[0]['digest']}")
    envelope = json.loads(urllib.request.urlopen(f"{base}/blobs/{artifact['layers'][0]['digest']}", timeout=10).read())
    dsse_verifies_with_securesystemslib(envelope, key["pub_pem"])
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement_rules(statement)
    subjects = {"sha256:" + s["digest"]["sha256"] for s in statement["subject"]}
    assert subjects == {index, *(p["digest"] for p in first["platforms"])}

    ref = f"docker://{registry_open.address}/att/tool:1" if where == "registry" else f"docker://{website}/tool:1"
    copy = subprocess.run(["skopeo", "copy", "--all", "--src-tls-verify=false", ref, f"oci:{tmp_path / 'copy'}:x"],
                          capture_output=True, text=True, timeout=120)
    assert copy.returncode == 0, copy.stderr
    copied = json.loads((tmp_path / "copy/index.json").read_text())["manifests"][0]["digest"]
    copied_index = json.loads((tmp_path / "copy/blobs/sha256" / copied.split(":")[1]).read_text())
    assert sorted(m["platform"]["architecture"] for m in copied_index["manifests"]) == ["amd64", "arm64"]
    assert "unknown" not in json.dumps(copied_index)
    verify = run_alba("verify", "-t", "att/tool:1" if where == "registry" else "tool:1",
                      registry_open.url("att/tool") if where == "registry" else f"http://{website}",
                      "--key", str(key["pub"]))
    assert verify.returncode == 0, verify.stderr


@pytest.mark.parametrize("kind, builder, run_url", [
    ("github", "https://github.com/github", "https://github.com/acme/tool/actions/runs/7"),
    ("forgejo", "https://code.example.org/forgejo", "https://code.example.org/acme/tool/actions/runs/7"),
    ("woodpecker", "https://forge.example.org/woodpecker", "https://ci.example.org/repos/1/pipeline/7"),
])
def test_static_provenance_names_the_ci_run(kind, builder, run_url, moto, bucket, tmp_path):
    name, url = bucket
    ws = tmp_path / "ws"
    (ws / "df/linux/amd64").mkdir(parents=True)
    (ws / "df/linux/amd64/tool").write_text("tool")
    (ws / "df/linux/amd64.spdx.json").write_text(json.dumps(SPDX))
    env = alba_env(**ci_env(kind, ws))
    for _ in range(2):
        r = run_alba("static", "push", "-t", "tool:1", ws / "df", url, env=env, cwd=ws)
        assert r.returncode == 0, r.stderr
    client = moto.client()
    doc = json.loads(client.get_object(Bucket=name, Key="df-dist-v1/tool/1")["Body"].read())
    paths = [a["path"] for a in doc["attachments"]]
    assert paths == ["_alba/provenance.intoto.json", "_alba/linux.amd64.spdx.json"]
    assert doc["attachments"][0]["signed"] is False  # no signing key: published unsigned, and says so
    envelope = json.loads(client.get_object(Bucket=name, Key="df-dist-v1/tool/1/_alba/provenance.intoto.json")["Body"].read())
    assert envelope["signatures"] == []
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement_rules(statement)
    assert statement["predicate"]["runDetails"]["builder"]["id"] == builder
    assert statement["predicate"]["runDetails"]["metadata"]["invocationId"] == run_url
    dep = statement["predicate"]["buildDefinition"]["resolvedDependencies"][0]
    assert dep["digest"]["gitCommit"] == SHA and "acme/tool" in dep["uri"]
    assert statement["subject"] == [{"name": "linux/amd64/tool",
                                     "digest": {"sha256": doc["flavors"][0]["resources"][0]["digest"][7:]}}]


def test_provenance_is_off_locally_unless_asked(moto, bucket, tmp_path):
    name, url = bucket
    (tmp_path / "df/linux/amd64").mkdir(parents=True)
    (tmp_path / "df/linux/amd64/tool").write_text("tool")
    assert run_alba("static", "push", "-t", "tool:1", tmp_path / "df", url).returncode == 0
    doc = json.loads(moto.client().get_object(Bucket=name, Key="df-dist-v1/tool/1")["Body"].read())
    assert [a["path"] for a in doc["attachments"]] == ["_alba/linux.amd64.spdx.json"]  # alba's SBOM, no provenance
    assert run_alba("static", "push", "-t", "tool:2", "--provenance", tmp_path / "df", url).returncode == 0
    doc = json.loads(moto.client().get_object(Bucket=name, Key="df-dist-v1/tool/2")["Body"].read())
    assert doc["attachments"][0]["path"] == "_alba/provenance.intoto.json"
    assert run_alba("static", "push", "-t", "tool:3", "--no-sbom", tmp_path / "df", url).returncode == 0
    doc = json.loads(moto.client().get_object(Bucket=name, Key="df-dist-v1/tool/3")["Body"].read())
    assert "attachments" not in doc


@pytest.mark.parametrize("files, expected", [
    ({"linux.amd64.spdx.json": "not json"}, "not a JSON SBOM"),
    ({"linux.amd64.spdx.json": json.dumps(CDX)}, "not an SPDX document"),
    ({"linux.riscv64.cdx.json": json.dumps(CDX)}, "there is no an image archive for that platform"),
    ({"windows.amd64.spdx.json": json.dumps(SPDX)}, "there is no"),
])
def test_bad_sboms_fail_before_anything_is_published(moto, bucket, tmp_path, files, expected):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    for file, text in files.items():
        (src / file).write_text(text)
    r = run_alba("container", "push", "-t", "tool:1", src, url)
    assert r.returncode == 2 and expected in r.stderr.splitlines()[-1], r.stderr
    assert not moto.client().list_objects_v2(Bucket=name).get("Contents")


def test_the_step_outputs_the_attachments(moto, bucket, registry_open, key, tmp_path):
    from ci_env import run_entrypoint

    from alba_action.report.outputs import parse_outputs

    _, url = bucket
    ws = tmp_path / "ws"
    (ws / "df/linux/amd64").mkdir(parents=True)
    (ws / "df/linux/amd64/tool").write_text("tool")
    images_with_sboms(ws / "docker")
    env = github_env(ws, ref="refs/tags/v1.2.3", **{
        "name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
        "container-targets": registry_open.url("out/tool"), "tags": "type=semver,pattern={{version}}",
        "sign-key": key["pem"].read_text()})
    proc = run_entrypoint(ws, env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(parse_outputs((tmp_path / "github_output").read_text())["attestations"])
    kinds = sorted(a.get("artifactType") or a["mediaType"] for a in out)
    # The image: provenance + the build's 2 SBOMs; the static release: a provenance and alba's
    # SPDX SBOM per tag (1.2.3, latest).
    assert kinds == (["application/spdx+json"] * 3 + ["application/vnd.cyclonedx+json"]
                     + ["application/vnd.in-toto+json"] * 3)
    assert all(a["digest"].startswith("sha256:") for a in out)
    assert "Provenance and SBOMs" in (tmp_path / "summary.md").read_text()
