"""Container images to a static registry (moto bucket), proved with skopeo and podman through nginx."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from imagefixtures import build_umoci_archive, make_layer_tar, write_nix_archive
from alba_action.images.model import Platform
from servers import alba_env, run_alba
from clients import keys, podman_pull, skopeo_copy_all
from workloads import SHARED, nix_images  # noqa: F401

def test_push_order_content_types_and_real_clients(moto, bucket, website, tmp_path):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    build_umoci_archive(src / "linux.arm.v7.tar", Platform("linux", "arm", "v7"))
    r = run_alba("container", "push", "-t", "hello:0.9", "-t", "hello:latest", src, url, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [p["platform"] for p in out["platforms"]] == ["linux/amd64", "linux/arm/v7", "linux/arm64"]
    assert r.stderr.strip().splitlines()[-1] == f"✅ push succeeded {out['digest']}"
    s3 = moto.client()
    index = s3.get_object(Bucket=name, Key="v2/hello/manifests/0.9")
    assert index["ContentType"] == "application/vnd.oci.image.index.v1+json"
    body = index["Body"].read()
    assert "sha256:" + __import__("hashlib").sha256(body).hexdigest() == out["digest"]
    for p in out["platforms"]:
        m = s3.get_object(Bucket=name, Key=f"v2/hello/manifests/{p['digest']}")
        assert m["ContentType"] == "application/vnd.oci.image.manifest.v1+json"
    # The tags, and the referrers fallback tag of each platform manifest (alba's SBOM of it).
    fallbacks = sorted("sha256-" + p["digest"].removeprefix("sha256:") for p in out["platforms"])
    assert json.loads(s3.get_object(Bucket=name, Key="v2/hello/tags/list")["Body"].read()) == {
        "name": "hello", "tags": ["0.9", "latest", *fallbacks]}
    assert "v2/index.html" in keys(moto, name)
    # The shared layer is stored once.
    blobs = [k for k in keys(moto, name) if "/blobs/" in k]
    assert len(blobs) == len(set(blobs))
    # Layers went up while the images loaded; every blob line comes before the first manifest.
    lines = r.stderr.splitlines()
    layer_lines = [l for l in lines if l.startswith("[layer ")]
    assert layer_lines and all("pushed blob" in l and "while loading" in l for l in layer_lines), layer_lines
    first_manifest = next(i for i, l in enumerate(lines) if "pushed manifest" in l)
    assert max(i for i, l in enumerate(lines) if "pushed blob" in l) < first_manifest

    copied = skopeo_copy_all(website, "hello:0.9", tmp_path / "copy")
    assert copied.returncode == 0, copied.stderr
    oci_index = json.loads((tmp_path / "copy/index.json").read_text())
    assert oci_index["manifests"][0]["digest"] == out["digest"]
    for arch, variant in (("amd64", None), ("arm64", None), ("arm", "v7")):
        pulled = podman_pull(website, "hello:0.9", arch, tmp_path / "podman", variant)
        assert pulled.returncode == 0, pulled.stderr


@pytest.mark.parametrize("compression", ["gz", "zst"])
def test_nix_zstd_and_gzip_archives_pull_with_skopeo(moto, bucket, website, tmp_path, compression):
    _, url = bucket
    src = nix_images(tmp_path / "docker", compression=compression)
    r = run_alba("container", "push", "-t", "nix:1", src, url)
    assert r.returncode == 0, r.stderr
    copied = skopeo_copy_all(website, "nix:1", tmp_path / "copy")
    assert copied.returncode == 0, copied.stderr


def test_zstd_layers_are_read_by_skopeo(moto, bucket, website, tmp_path):
    _, url = bucket
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", "--compression", "zstd", "-t", "z:1", src, url, "--json")
    assert r.returncode == 0, r.stderr
    layers = [l["mediaType"] for p in json.loads(r.stdout)["platforms"] for l in p["layers"]]
    assert set(layers) == {"application/vnd.oci.image.layer.v1.tar+zstd"}
    copied = skopeo_copy_all(website, "z:1", tmp_path / "copy")
    assert copied.returncode == 0, copied.stderr


def test_docker_format_publishes_a_manifest_list(moto, bucket, website, tmp_path):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", "--format", "docker", "-t", "d:1", src, url)
    assert r.returncode == 0, r.stderr
    head = moto.client().head_object(Bucket=name, Key="v2/d/manifests/1")
    assert head["ContentType"] == "application/vnd.docker.distribution.manifest.list.v2+json"
    assert podman_pull(website, "d:1", "arm64", tmp_path / "podman").returncode == 0


def test_rerun_uploads_nothing_and_reports_unchanged(moto, bucket, tmp_path):
    _, url = bucket
    src = nix_images(tmp_path / "docker")
    first = run_alba("container", "push", "-t", "r:1", src, url, "--json")
    second = run_alba("container", "push", "-t", "r:1", src, url, "--json")
    assert first.returncode == 0 and second.returncode == 0, second.stderr
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["digest"] == b["digest"]
    assert b["pushed_blobs"] == [] and sorted(b["existing_blobs"]) == sorted(a["pushed_blobs"])
    assert b["unchanged_tags"] == ["1"]
    assert "[tag] 1 unchanged" in second.stderr


def test_dry_run_writes_nothing(moto, bucket, tmp_path):
    name, url = bucket
    src = nix_images(tmp_path / "docker")
    r = run_alba("container", "push", "--dry-run", "-t", "x:1", src, url)
    assert r.returncode == 0, r.stderr
    assert "would tag 1 -> sha256:" in r.stderr and "would push blob sha256:" in r.stderr
    assert keys(moto, name) == []


def _write_bad(root: Path, case: str) -> None:
    root.mkdir(parents=True)
    if case == "empty":
        return
    nix_images(root)
    if case == "bad name":
        (root / "linux-amd64.tar").write_bytes(b"x")
    elif case == "two for one platform":
        write_nix_archive(root / "linux.amd64.tar.zst", Platform("linux", "amd64"), [SHARED], compression="zst")
    elif case == "platform mismatch":
        write_nix_archive(root / "linux.s390x.tar", Platform("linux", "ppc64le"), [SHARED], compression=None)
    elif case == "truncated gzip":
        data = (root / "linux.arm64.tar.gz").read_bytes()
        (root / "linux.arm64.tar.gz").write_bytes(data[: len(data) // 2])
    elif case == "not a tar":
        (root / "linux.arm64.tar.gz").unlink()
        (root / "linux.arm64.tar").write_bytes(b"this is not a tar file at all" * 100)


BAD = [
    ("empty", "no image archive found"),
    ("bad name", "linux-amd64.tar"),
    ("two for one platform", "linux/amd64"),
    ("platform mismatch", "ppc64le"),
    ("truncated gzip", "linux.arm64.tar.gz"),
    ("not a tar", "linux.arm64.tar"),
]


@pytest.mark.parametrize("case,fragment", BAD, ids=[c for c, _ in BAD])
def test_bad_archives_publish_no_manifest_and_no_tag(moto, bucket, tmp_path, case, fragment):
    name, url = bucket
    _write_bad(tmp_path / "docker", case)
    r = run_alba("container", "push", "-t", "bad:1", tmp_path / "docker", url)
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert fragment in last and " — " in last, r.stderr
    assert "Traceback" not in r.stderr
    # Layers of the good archives may have been pushed while the bad one loaded: blobs that no
    # manifest references are invisible, and gc sweeps them after its grace period. Nothing else.
    left = keys(moto, name)
    assert all(k.startswith("v2/bad/blobs/sha256:") for k in left), left
    assert "while loading" not in r.stderr


def test_gc_sweeps_only_what_no_remaining_tag_uses(moto, bucket, tmp_path, monkeypatch):
    name, url = bucket
    one = nix_images(tmp_path / "one", platforms=(("linux", "amd64", None),))
    two = nix_images(tmp_path / "two", platforms=(("linux", "amd64", None), ("linux", "arm64", None)))
    r = run_alba("container", "push", "-t", "g:old", one, url, "--json", "--no-sbom")
    old = json.loads(r.stdout)
    time.sleep(1.1)  # listings give LastModified to the second: a tie would order by name
    # No SBOM referrers: this test is about the blobs two tags share (tests/integration/test_retention.py
    # covers referrers).
    r = run_alba("container", "push", "-t", "g:new", two, url, "--json", "--no-sbom")
    new = json.loads(r.stdout)
    # Same amd64 image in both: every blob of `old` is still used by `new`.
    env_keep = __import__("servers").alba_env(ALBA_GC_GRACE_SECONDS="0")
    r = run_alba("container", "gc", "-t", "g", "--keep", "1", url, "--json", env=env_keep)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["removed_tags"] == ["old"] and result["kept_tags"] == ["new"]
    remaining = keys(moto, name)
    for p in new["platforms"]:
        assert f"v2/g/manifests/{p['digest']}" in remaining
        for blob in [p["config"], *[l["digest"] for l in p["layers"]]]:
            assert f"v2/g/blobs/{blob}" in remaining
    assert f"v2/g/manifests/{old['digest']}" not in remaining  # the old index went
    assert "v2/g/manifests/old" not in remaining
    assert json.loads(moto.client().get_object(Bucket=name, Key="v2/g/tags/list")["Body"].read())["tags"] == ["new"]


def test_rm_then_ls(moto, bucket, tmp_path):
    _, url = bucket
    src = nix_images(tmp_path / "docker")
    assert run_alba("container", "push", "-t", "l:1", "-t", "l:2", src, url).returncode == 0
    assert run_alba("container", "ls", "-t", "l", url).stdout.split() in (["1", "2"], ["2", "1"])
    r = run_alba("container", "rm", "-t", "l:1", url)
    assert r.returncode == 0, r.stderr
    assert run_alba("container", "ls", "-t", "l", url).stdout.split() == ["2"]
    r = run_alba("container", "rm", "-t", "l:9", url)
    assert r.returncode != 0 and "no such tag" in r.stderr


def test_index_created_is_never_the_clock(tmp_path):
    """A CI run whose checkout lacks the commit (no date anywhere) leaves `created` out:
    a retried pipeline must give the same index digest."""
    from alba_action.context import context_from_env, image_annotations

    def index_annotations(version, env, cwd):
        return image_annotations(context_from_env(env, cwd), version)

    env = {"CI": "woodpecker", "CI_COMMIT_SHA": "0" * 40, "CI_PIPELINE_EVENT": "push",
           "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF": "refs/heads/main", "CI_REPO_URL": "https://example.org/a/b"}
    first = index_annotations("1", env=env, cwd=tmp_path)
    second = index_annotations("1", env={**env, "ALBA_NOW": "2031-01-01T00:00:00Z"}, cwd=tmp_path)
    assert first == second
    assert "org.opencontainers.image.created" not in first
    assert first["org.opencontainers.image.revision"] == "0" * 40


def test_a_folder_target_links_cached_blobs_but_copies_build_output(tmp_path):
    """Content-addressed blobs are hard-linked from the image cache (no copy); a user's
    static files are copied (a rebuild that rewrites them must not change what was published)."""
    cache = tmp_path / "cache"
    env = alba_env(ALBA_CACHE_DIR=str(cache))
    out = tmp_path / "out"
    r = run_alba("container", "push", "-t", "app:1", nix_images(tmp_path / "docker"), f"file://{out}", env=env)
    assert r.returncode == 0, r.stderr
    linked = [p for p in (out / "v2/app/blobs").iterdir() if p.stat().st_nlink >= 2]
    assert len(linked) >= 3  # the layers (two own, one shared); configs are written from memory
    assert all((cache / "v1/blobs/sha256" / p.name.split(":")[1]).stat().st_ino == p.stat().st_ino for p in linked)
    (tmp_path / "df/linux/amd64").mkdir(parents=True)
    (tmp_path / "df/linux/amd64/tool").write_text("built")
    assert run_alba("static", "push", "-t", "tool:1", tmp_path / "df", f"file://{out}", env=env).returncode == 0
    assert (out / "df-dist-v1/tool/1/linux/amd64/tool").stat().st_nlink == 1
