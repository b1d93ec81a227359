"""Retention by policy on every kind of target (moto + nginx, docker-registry with and
without deletes): exact kept sets for mixed release and dev tags sharing blobs and platform
manifests, signed and attested on both sides of the line; dry run = real run; protect; age;
a registry that refuses deletes; floating tags that never go back; every kept tag pulls."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from registry_server import registry_nodelete  # noqa: F401 (registry_open, registry_token: conftest)
from servers import run_alba, s3_url
from workloads import nix_images

# Oldest first. Releases share their platform manifests (an index annotation tells them
# apart); dev tags get their own platform manifests (a manifest annotation), sharing layers.
PUBLISHED = ["1.0.0", "dev-1", "1.1.0", "dev-2", "2.0.0-rc.1", "dev-3", "2.0.0", "dev-4"]
POLICY = ["--keep", "2", "--keep-per-major", "1", "--include-releases"]
KEPT = {"dev-4", "2.0.0", "1.1.0"}  # the 2 newest; the highest of majors 2 and 1
GONE = set(PUBLISHED) - KEPT


@pytest.fixture(scope="module")
def sign_key(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    k = ec.generate_private_key(ec.SECP256R1())
    (d / "ec.pem").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    (d / "ec.pub").write_bytes(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo))
    return {"pem": d / "ec.pem", "pub": d / "ec.pub"}


def alba(*args, ok: bool = True) -> subprocess.CompletedProcess:
    r = run_alba(*args)
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def publish_all(src: Path, key: Path, *targets: str, tags=PUBLISHED) -> dict[str, str]:
    """tag → index digest; a second between pushes, as listings date objects to the second."""
    digests = {}
    for tag in tags:
        note = f"manifest:n={tag}" if tag.startswith("dev") else f"n={tag}"
        out = json.loads(alba("container", "push", "-t", f"app:{tag}", "--annotation", note, "--sign-key", key,
                              src, *targets, "--json").stdout)
        digests[tag] = (out["targets"][0] if "targets" in out else out)["digest"]
        time.sleep(1.05)
    return digests


def gc(kind: str, target: str, *args: str, ok: bool = True) -> tuple[dict | None, subprocess.CompletedProcess]:
    name = ["-t", "app"] if not target.startswith("docker://") else []
    r = alba(kind, "gc", *name, *args, target, "--json", ok=ok)
    return (json.loads(r.stdout) if r.returncode == 0 else None), r


def pulls(ref: str, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["skopeo", "copy", "--all", "--src-tls-verify=false", ref, f"oci:{dest}:x"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"{ref}: {r.stderr}"


def registry_tags(address: str, repo: str) -> list[str]:
    r = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{address}/{repo}"],
                       capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)["Tags"] if r.returncode == 0 else []


def bucket_keys(moto, name: str, prefix: str) -> set[str]:
    pages = moto.client().get_paginator("list_objects_v2").paginate(Bucket=name, Prefix=prefix)
    return {o["Key"] for page in pages for o in page.get("Contents", [])}


def platform_digests(address_or_site: str, repo: str, digest: str) -> set[str]:
    import urllib.request

    req = urllib.request.Request(f"http://{address_or_site}/v2/{repo}/manifests/{digest}",
                                 headers={"Accept": "application/vnd.oci.image.index.v1+json"})
    return {m["digest"] for m in json.loads(urllib.request.urlopen(req, timeout=10).read())["manifests"]}


def test_policy_on_a_static_registry_and_a_registry(moto, bucket, website, registry_open, sign_key, tmp_path):
    name, url = bucket
    target = registry_open.url("ret/app")
    src = nix_images(tmp_path / "docker")
    digests = publish_all(src, sign_key["pem"], url, target)
    platforms = {t: platform_digests(website, "app", d) for t, d in digests.items()}
    kept_platforms = set().union(*(platforms[t] for t in KEPT))
    gone_platforms = set().union(*(platforms[t] for t in GONE)) - kept_platforms
    assert gone_platforms and platforms["1.0.0"] <= kept_platforms  # releases share; dev-1..3 do not

    for where, kind_target, base in (("static registry", url, ("app", website)),
                                     ("registry", target, ("ret/app", registry_open.address))):
        plan, _ = gc("container", kind_target, *POLICY, "--grace", "0", "--dry-run")
        assert set(plan["kept"]) == KEPT and set(plan["removed_tags"]) == GONE, where
        done, r = gc("container", kind_target, *POLICY, "--grace", "0")
        assert done["deleted"] == plan["deleted"] and done["deleted"], where  # the dry run said exactly this
        assert done["validation"]["whole"] and "validated: 3 kept tags whole" in r.stderr
        again, _ = gc("container", kind_target, *POLICY, "--grace", "0")
        assert again["deleted"] == [], where  # nothing left over: the plan was complete
        repo, host = base
        for tag in KEPT:
            pulls(f"docker://{host}/{repo}:{tag}", tmp_path / where.replace(" ", "-") / tag)
            assert alba("verify", "-t", f"app:{tag}", kind_target, "--key", sign_key["pub"]).returncode == 0
        deleted = set(done["deleted_manifests"])
        assert {digests[t] for t in GONE} <= deleted and gone_platforms <= deleted
        assert not deleted & ({digests[t] for t in KEPT} | kept_platforms)

    keys = bucket_keys(moto, name, "v2/app/")
    tags = {k.rsplit("/", 1)[1] for k in keys if "/manifests/" in k and "sha256:" not in k}
    sigs = {f"{d.replace(':', '-')}.sig" for d in {digests[t] for t in KEPT} | kept_platforms}
    assert {t for t in tags if not t.startswith("sha256-")} == KEPT
    assert {t for t in tags if t.endswith(".sig")} == sigs  # signatures went with their images
    referrers = {k.rsplit("/", 1)[1] for k in keys if "/referrers/" in k}
    assert referrers == kept_platforms  # SBOMs of kept platforms stay, the others' files went
    assert set(registry_tags(registry_open.address, "ret/app")) & set(PUBLISHED) == KEPT
    assert {t for t in registry_tags(registry_open.address, "ret/app") if t.endswith(".sig")} == sigs


def test_a_tag_naming_a_kept_digest_is_left_on_a_registry(registry_open, bucket, sign_key, tmp_path):
    _, url = bucket
    target = registry_open.url("ret/same")
    src = nix_images(tmp_path / "docker")
    for tags in (["old"], ["edge", "new"]):  # `edge` and `new` name one index
        refs = [x for t in tags for x in ("-t", f"app:{t}")]
        alba("container", "push", *refs, "--annotation", f"n={tags[0]}", src, target, url)
        time.sleep(1.05)
    out, r = gc("container", target, "--keep", "1", "--protect", "new")
    assert out["left_tags"] == {"edge": "new"} and out["removed_tags"] == ["old"]
    assert "left tag edge" in r.stderr
    assert sorted(t for t in registry_tags(registry_open.address, "ret/same") if not t.startswith("sha256-")) \
        == ["edge", "new"]
    # A static registry deletes tag objects one by one: `edge` goes, `new` stays whole.
    out, _ = gc("container", url, "--keep", "1", "--protect", "new", "--grace", "0")
    assert set(out["kept"]) == {"new"} and sorted(out["removed_tags"]) == ["edge", "old"]


def test_a_registry_that_refuses_deletes(registry_nodelete, sign_key, tmp_path):
    target = registry_nodelete.url("ret/app")
    src = nix_images(tmp_path / "docker")
    publish_all(src, sign_key["pem"], target, tags=["dev-1", "dev-2"])
    before = registry_tags(registry_nodelete.address, "ret/app")
    _, dry = gc("container", target, "--keep", "1", "--dry-run", ok=False)
    assert dry.returncode != 0 and "storage: delete: enabled: true" in dry.stderr  # the dry run says so too
    _, r = gc("container", target, "--keep", "1", ok=False)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert "storage: delete: enabled: true" in last and "405" in last, last
    assert "deleted manifest" not in r.stderr
    assert registry_tags(registry_nodelete.address, "ret/app") == before  # nothing lost
    for tag in ("dev-1", "dev-2"):
        pulls(f"docker://{registry_nodelete.address}/ret/app:{tag}", tmp_path / tag)


def test_age_comes_from_the_publication_record(registry_open, tmp_path):
    target = registry_open.url("ret/age")
    src = nix_images(tmp_path / "docker")
    alba("container", "push", "-t", "app:dev-1", src, target)
    # A tag alba did not publish (no record): written with skopeo from the pushed image.
    r = subprocess.run(["skopeo", "copy", "--all", "--src-tls-verify=false", "--dest-tls-verify=false",
                        f"docker://{registry_open.address}/ret/age:dev-1",
                        f"docker://{registry_open.address}/ret/age:foreign"], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    alba("container", "push", "-t", "app:dev-2", "--annotation", "n=2", src, target)
    young, _ = gc("container", target, "--older-than", "1h", "--dry-run")
    assert young["removed_tags"] == [] and young["kept"]["foreign"] == ["no publication record"]
    out, _ = gc("container", target, "--older-than", "0s")
    # dev-1 and foreign name one digest: foreign is kept (no record), so dev-1 is left.
    assert out["removed_tags"] == ["dev-2"] and out["left_tags"] == {"dev-1": "foreign"}


def tree(root: Path, text: str) -> Path:
    for arch in ("amd64", "arm64"):
        (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
        (root / "df/linux" / arch / "tool").write_text(f"{text} for {arch}\n")
    return root / "df"


def test_static_names_by_policy(moto, bucket, sign_key, tmp_path):
    name, url = bucket
    for tag in PUBLISHED:
        alba("static", "push", "-t", f"app:{tag}", tree(tmp_path / tag, tag), url)
    plan, _ = gc("static", url, *POLICY, "--dry-run")
    assert set(plan["kept"]) == KEPT and set(plan["tags"]) == GONE
    done, r = gc("static", url, *POLICY)
    assert done["deleted"] == plan["deleted"] and done["validation"] == {"tags": 3, "files": 15, "whole": True}
    assert set(alba("static", "ls", "-t", "app", url).stdout.split()) == KEPT
    assert not any(k.startswith(tuple(f"df-dist-v1/app/{t}/" for t in GONE)) for k in bucket_keys(moto, name, ""))
    # Protect and age: dev-4's document says it was published two days ago.
    key = "df-dist-v1/app/dev-4"
    doc = json.loads(moto.client().get_object(Bucket=name, Key=key)["Body"].read())
    doc["published"] = "2026-01-01T00:00:00.000000Z"
    moto.client().put_object(Bucket=name, Key=key, Body=json.dumps(doc).encode(), ContentType="application/json")
    out, _ = gc("static", url, "--older-than", "1d", "--protect", "1.*", "--include-releases", "--dry-run")
    assert out["tags"] == ["dev-4"] and set(out["kept"]) == {"2.0.0", "1.1.0"}
    assert out["kept"]["1.1.0"] == ["younger than 86400 s", "protect 1.*"]


def test_bad_input_deletes_nothing(moto, bucket, tmp_path):
    name, url = bucket
    for tag in ("nightly-1", "nightly-2"):
        alba("static", "push", "-t", f"app:{tag}", tree(tmp_path / tag, tag), url)
    before = bucket_keys(moto, name, "")
    for args, message in ((["--older-than", "3 weeks"], "not a duration"),
                          (["--keep", "1", "--protect", "v[0-9"], "never closed"),
                          ([], "gc needs a retention rule"),
                          (["--protect", "x*"], "gc needs a retention rule")):
        _, r = gc("static", url, *args, ok=False)
        assert r.returncode == 2 and message in r.stderr, (args, r.stderr)
    out, r = gc("static", url, "--keep-per-minor", "1")
    assert out["tags"] == [] and "no semver tags" in r.stderr and out["warnings"]
    _, r = gc("static", url.replace(name, name + "-missing"), "--keep", "0", ok=False)
    assert r.returncode != 0 and "deleted" not in r.stderr
    _, r = gc("container", "docker://127.0.0.1:9/ret/app?insecure=true", "--keep", "0", ok=False)
    assert r.returncode != 0 and "does not answer" in r.stderr
    assert bucket_keys(moto, name, "") == before


def test_floating_tags_never_go_back(moto, bucket, website, registry_open, tmp_path):
    _, url = bucket
    target = registry_open.url("ret/float")
    src = nix_images(tmp_path / "docker")
    runs = {}
    for version in ("1.9.0", "2.0.1", "1.9.1", "1.9.0"):
        major, minor, _ = version.split(".")
        refs = [x for t in (version, f"{major}.{minor}", major, "latest") for x in ("-t", f"app:{t}")]
        out = json.loads(alba("container", "push", *refs, "--annotation", f"n={version}", "--latest-guard", src,
                              url, target, "--json").stdout)
        runs.setdefault(version, out["targets"][0]["digest"])
    for host, repo in ((website, "app"), (registry_open.address, "ret/float")):
        names = {t: _digest(host, repo, t) for t in ("latest", "2", "1", "1.9", "2.0")}
        assert names == {"latest": runs["2.0.1"], "2": runs["2.0.1"], "2.0": runs["2.0.1"],
                         "1": runs["1.9.1"], "1.9": runs["1.9.1"]}, host


def _digest(host: str, repo: str, tag: str) -> str:
    import urllib.request

    req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", method="HEAD",
                                 headers={"Accept": "application/vnd.oci.image.index.v1+json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        if r.headers.get("Docker-Content-Digest"):
            return r.headers["Docker-Content-Digest"]
    import hashlib

    get = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}",
                                 headers={"Accept": "application/vnd.oci.image.index.v1+json"})
    return "sha256:" + hashlib.sha256(urllib.request.urlopen(get, timeout=10).read()).hexdigest()


def test_the_step_trims_after_publishing_and_says_so(moto, aws_env, registry_open, tmp_path):
    from ci_env import github_env, run_entrypoint

    from alba_action.report.outputs import parse_outputs

    ws = tmp_path / "ws"
    tree(ws, "tool")
    nix_images(ws / "docker")
    moto.client().create_bucket(Bucket="ret-step")
    url = s3_url("ret-step", moto.port)
    target = registry_open.url("ret/step")
    inputs = {"name": "tool", "static-dir": "df", "static-target": url, "container-dir": "docker",
              "container-targets": target, "tags": "type=ref,event=branch\ntype=sha", "gc-keep": "2",
              "gc-protect": "keep-*"}
    for sha in ("a" * 40, "b" * 40, "c" * 40):
        (tmp_path / "github_output").unlink(missing_ok=True)
        (tmp_path / "summary.md").unlink(missing_ok=True)
        proc = run_entrypoint(ws, {**github_env(ws, ref="refs/heads/main", **inputs), "GITHUB_SHA": sha})
        assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads(parse_outputs((tmp_path / "github_output").read_text())["json"])
    static, images = out["retention"]
    assert set(static["kept"]) == {"sha-ccccccc", "main"} and static["tags"] == ["sha-bbbbbbb"]  # sha-aaaaaaa went in the run before
    assert set(images["kept"]) == {"sha-ccccccc", "main"} and images["validation"]["whole"]
    summary = (tmp_path / "summary.md").read_text()
    assert "### Retention" in summary and "sha-bbbbbbb" in summary
    bad = run_entrypoint(ws, {**github_env(ws, ref="refs/heads/main", **{**inputs, "gc-older-than": "a week"}),
                              "GITHUB_SHA": "d" * 40})
    assert bad.returncode != 0 and "gc-older-than" in bad.stdout + bad.stderr
    assert "sha-ddddddd" not in run_alba("static", "ls", "-t", "tool", url).stdout  # failed before any upload


def test_gc_on_a_token_registry_asks_for_the_delete_scope(registry_token, tmp_path):
    from servers import alba_env

    env = alba_env(ALBA_REGISTRY_USERNAME=registry_token.username, ALBA_REGISTRY_PASSWORD=registry_token.password)
    target = registry_token.url("ret/token")
    src = nix_images(tmp_path / "docker")
    for tag in ("dev-1", "dev-2"):
        r = run_alba("container", "push", "-t", f"app:{tag}", "--annotation", f"n={tag}", src, target, env=env)
        assert r.returncode == 0, r.stderr
    r = run_alba("container", "gc", "--keep", "1", target, "--json", env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["removed_tags"] == ["dev-1"] and out["validation"]["whole"]
    assert any("delete" in a for req in registry_token.token_server.requests for g in req.granted
               for a in g["actions"])
