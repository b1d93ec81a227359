"""Matrix builds on real servers: parts from separate jobs, then one assemble step (SPEC §7).

moto (and the garage_like proxy that drops conditional headers), a folder, nginx in front of
the bucket, docker-registry; skopeo and podman pull what was assembled."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import threading
from pathlib import Path

from alba_action.images.model import Platform
from registry_server import registry_nodelete  # noqa: F401 (a fixture: deletes refused, as distribution's default)
from servers import alba_env, run_alba, s3_url
from clients import keys, podman_pull, skopeo_copy_all
from workloads import nix_images

PLATFORMS = (("linux", "amd64"), ("linux", "arm64"), ("darwin", "arm64"))


def static_job(root: Path, os_: str, arch: str) -> Path:
    """One job's SRC_DIR: a script and a file in a sub-folder of its one platform folder."""
    folder = root / f"{os_}-{arch}" / os_ / arch
    (folder / "share/doc").mkdir(parents=True)
    (folder / "tool").write_text(f"#!/bin/sh\necho {os_}/{arch}\n")
    (folder / "share/doc/README").write_text(f"tool for {os_}/{arch}\n")
    return folder.parents[1]


def one_job_dir(jobs: list[Path], into: Path) -> Path:
    for job in jobs:
        shutil.copytree(job, into, dirs_exist_ok=True)
    return into


def get(moto, bucket: str, key: str) -> bytes | None:
    try:
        return moto.client().get_object(Bucket=bucket, Key=key)["Body"].read()
    except moto.client().exceptions.NoSuchKey:
        return None


def without_published(doc: bytes) -> dict:
    out = json.loads(doc)
    out.pop("published")
    return out


def part(*args, env=None):
    return run_alba("static", "push", "--part", *map(str, args), env=env)


def test_static_parts_invisible_then_assembled_as_one_job(moto, bucket, website, tmp_path):
    name, url = bucket
    folder = f"file://{tmp_path / 'pub'}"
    jobs = [static_job(tmp_path / "jobs", *p) for p in PLATFORMS]
    for job in jobs:
        r = part("-t", "tool:1.0", "--release-id", "41", job, url, folder)
        assert r.returncode == 0, r.stderr
    # Nothing a user sees: no name document, tag document, page; only the part prefix.
    assert all(k.startswith("df-dist-v1/_parts/tool/41/") for k in keys(moto, name)), keys(moto, name)
    assert "df-dist-v1/_parts/tool/41/linux/amd64/share/doc/README" in keys(moto, name)
    assert not (tmp_path / "pub/df-dist-v1/tool/index.json").exists()
    listed = run_alba("static", "ls", "-t", "tool", url, "--json")
    assert "1.0" not in listed.stdout

    platforms = ",".join(f"{o}/{a}" for o, a in PLATFORMS)
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", platforms, "--release-id", "41", url, folder)
    assert r.returncode == 0, r.stderr
    assembled = get(moto, name, "df-dist-v1/tool/1.0")
    assert json.loads(get(moto, name, "df-dist-v1/tool"))["tags"] == ["1.0"]
    assert get(moto, name, "df-dist-v1/tool/index.html") is not None
    assert b"_parts" not in get(moto, name, "df-dist-v1/index.html")  # no name of its own on the pages
    assert get(moto, name, "df-dist-v1/tool/1.0/linux/amd64/share/doc/README") == b"tool for linux/amd64\n"
    # The parts are gone; only the marker that makes a second assembly a no-op stays.
    assert [k for k in keys(moto, name) if "_parts" in k] == ["df-dist-v1/_parts/tool/41/assembled.json"]
    # Equal to a one-job push of the same folders, but for `published`.
    one = one_job_dir(jobs, tmp_path / "one")
    r = run_alba("static", "push", "-t", "tool:1.0", one, f"file://{tmp_path / 'onejob'}")
    assert r.returncode == 0, r.stderr
    single = (tmp_path / "onejob/df-dist-v1/tool/1.0/index.json").read_bytes()
    assert without_published(assembled) == without_published(single)
    assert get(moto, name, "df-dist-v1/tool/1.0/SHA256SUMS") == (tmp_path / "onejob/df-dist-v1/tool/1.0/SHA256SUMS").read_bytes()
    assert without_published((tmp_path / "pub/df-dist-v1/tool/1.0/index.json").read_bytes()) == without_published(single)
    # Assembling twice is idempotent: nothing changes.
    again = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", platforms, "--release-id", "41", url, folder)
    assert again.returncode == 0, again.stderr
    assert "already assembled" in again.stderr
    assert get(moto, name, "df-dist-v1/tool/1.0") == assembled


def test_a_missing_platform_on_one_target_tags_nothing_anywhere(moto, bucket, tmp_path):
    name, url = bucket
    folder = f"file://{tmp_path / 'pub'}"
    amd, arm = (static_job(tmp_path / "jobs", *p) for p in PLATFORMS[:2])
    assert part("-t", "tool:1.0", "--release-id", "7", amd, url, folder).returncode == 0
    assert part("-t", "tool:1.0", "--release-id", "7", arm, url).returncode == 0  # the folder misses arm64
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", "linux/amd64,linux/arm64",
                 "--release-id", "7", url, folder)
    assert r.returncode == 2
    assert f"{folder} has no part linux/arm64" in r.stderr, r.stderr
    assert get(moto, name, "df-dist-v1/tool/1.0") is None and get(moto, name, "df-dist-v1/tool") is None
    assert not (tmp_path / "pub/df-dist-v1/tool").exists()


def test_parts_of_different_release_ids_never_mix(moto, bucket, tmp_path):
    name, url = bucket
    amd, arm = (static_job(tmp_path / "jobs", *p) for p in PLATFORMS[:2])
    assert part("-t", "tool:1.0", "--release-id", "100", amd, url).returncode == 0
    assert part("-t", "tool:1.0", "--release-id", "101", arm, url).returncode == 0
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", "linux/amd64,linux/arm64",
                 "--release-id", "100", url)
    assert r.returncode == 2 and "has no part linux/arm64" in r.stderr, r.stderr
    assert get(moto, name, "df-dist-v1/tool/1.0") is None


def test_a_retried_part_replaces_its_own_record(moto, bucket, tmp_path):
    name, url = bucket
    amd = static_job(tmp_path / "jobs", "linux", "amd64")
    assert part("-t", "tool:1.0", "--release-id", "5", amd, url).returncode == 0
    (amd / "linux/amd64/share/doc/README").unlink()
    (amd / "linux/amd64/tool").write_text("#!/bin/sh\necho retried\n")
    assert part("-t", "tool:1.0", "--release-id", "5", amd, url).returncode == 0
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", "linux/amd64", "--release-id", "5", url)
    assert r.returncode == 0, r.stderr
    doc = json.loads(get(moto, name, "df-dist-v1/tool/1.0"))
    assert [r["path"] for r in doc["flavors"][0]["resources"]] == ["tool"]
    assert get(moto, name, "df-dist-v1/tool/1.0/linux/amd64/tool") == b"#!/bin/sh\necho retried\n"


def test_concurrent_parts_all_land_without_conditional_writes(moto, bucket, garage_like, tmp_path):
    name, _ = bucket
    url = s3_url(name, garage_like.port)
    jobs = [static_job(tmp_path / "jobs", *p) for p in PLATFORMS]
    results = [None] * len(jobs)

    def one(i: int) -> None:
        results[i] = part("-t", "tool:2.0", "--release-id", "9", jobs[i], url)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    records = sorted(k for k in keys(moto, name) if k.count("/") == 4 and k.endswith(".json"))
    assert records == [f"df-dist-v1/_parts/tool/9/{o}.{a}.json" for o, a in sorted(PLATFORMS)]
    r = run_alba("static", "assemble", "-t", "tool:2.0", "--platforms", "linux/amd64,linux/arm64,darwin/arm64",
                 "--release-id", "9", url)
    assert r.returncode == 0, r.stderr
    doc = json.loads(get(moto, name, "df-dist-v1/tool/2.0"))
    assert [f["platform"]["os"] + "/" + f["platform"]["architecture"] for f in doc["flavors"]] == [
        "darwin/arm64", "linux/amd64", "linux/arm64"]


def _elf_x86_64() -> bytes:
    header = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8) + struct.pack("<HHI", 2, 62, 1) + bytes(40)
    return header


def test_bad_input_publishes_nothing(moto, bucket, tmp_path):
    name, url = bucket
    amd = static_job(tmp_path / "jobs", "linux", "amd64")
    r = run_alba("static", "push", "--part", "-t", "tool:1.0", amd, url)  # outside CI, no --release-id
    assert r.returncode == 2 and "--release-id is required outside a CI run" in r.stderr, r.stderr
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", "linux/amd65", "--release-id", "1", url)
    assert r.returncode == 2 and "--platforms: unknown architecture 'amd65'" in r.stderr, r.stderr
    wrong = tmp_path / "wrong/linux/arm64"
    wrong.mkdir(parents=True)
    (wrong / "tool").write_bytes(_elf_x86_64())
    r = part("-t", "tool:1.0", "--release-id", "1", wrong.parents[1], url)
    assert r.returncode == 2 and "linux/arm64" in r.stderr, r.stderr
    assert keys(moto, name) == []


def test_the_release_id_defaults_to_the_ci_run(moto, bucket, tmp_path):
    name, url = bucket
    amd = static_job(tmp_path / "jobs", "linux", "amd64")
    env = alba_env(GITHUB_ACTIONS="true", GITHUB_RUN_ID="987654")
    assert part("-t", "tool:1.0", amd, url, env=env).returncode == 0
    assert "df-dist-v1/_parts/tool/987654/linux.amd64.json" in keys(moto, name)
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--platforms", "linux/amd64", url, env=env)
    assert r.returncode == 0, r.stderr


def image_job(root: Path, os_: str, arch: str) -> Path:
    return nix_images(root / f"{os_}-{arch}", platforms=((os_, arch, None),))


def test_image_parts_to_a_bucket_and_a_registry_assemble_to_the_one_job_digest(
        moto, bucket, website, registry_open, tmp_path):
    name, url = bucket
    registry = registry_open.url("team/hello")
    jobs = [image_job(tmp_path / "jobs", "linux", a) for a in ("amd64", "arm64")]
    for job in jobs:
        r = run_alba("container", "push", "--part", "-t", "hello:1.0", "--release-id", "77", job, url, registry)
        assert r.returncode == 0, r.stderr
    # Invisible: no tag, no tags/list on the bucket; the registry lists no tag of team/hello.
    assert not any(k.startswith(("v2/hello/manifests/1.0", "v2/hello/tags/list")) for k in keys(moto, name))
    assert "v2/hello/_alba/parts/77/linux.amd64.json" in keys(moto, name)
    tags = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry_open.address}/team/hello"],
                          capture_output=True, text=True)
    assert tags.returncode != 0 or json.loads(tags.stdout)["Tags"] == [], tags.stdout

    missing = run_alba("container", "assemble", "-t", "hello:1.0", "--platforms", "linux/amd64,linux/arm64,linux/riscv64",
                       "--release-id", "77", url, registry)
    assert missing.returncode == 2 and "has no part linux/riscv64" in missing.stderr, missing.stderr
    r = run_alba("container", "assemble", "-t", "hello:1.0", "--platforms", "linux/amd64,linux/arm64",
                 "--release-id", "77", url, registry, "--json")
    assert r.returncode == 0, r.stderr
    digests = {t["digest"] for t in json.loads(r.stdout)["targets"]}
    one = one_job_dir(jobs, tmp_path / "one")
    single = run_alba("container", "push", "-t", "hello:1.0", one, registry_open.url("team/single"), "--json")
    assert single.returncode == 0, single.stderr
    assert digests == {json.loads(single.stdout)["digest"]}
    # Referrers equal too: alba's SBOM of each platform, made at part time.
    assert json.loads(get(moto, name, "v2/hello/tags/list"))["tags"][0] == "1.0"
    copied = skopeo_copy_all(website, "hello:1.0", tmp_path / "copy")
    assert copied.returncode == 0, copied.stderr
    for host, ref in ((registry_open.address, "team/hello:1.0"), (website, "hello:1.0")):  # both kinds, both clients
        pulled = podman_pull(host, ref, "arm64", tmp_path / "podman")
        assert pulled.returncode == 0, pulled.stderr
    copied = _skopeo("copy", "--all", "--src-tls-verify=false", f"docker://{registry_open.address}/team/hello:1.0",
                     f"oci:{tmp_path / 'copy2'}:x")
    assert copied.returncode == 0, copied.stderr
    # The SBOM referrers are those of the one-job push (made at part time, attached at assembly).
    for p in json.loads(single.stdout)["platforms"]:
        fallback = "sha256-" + p["digest"].removeprefix("sha256:")
        assert _raw(registry_open, f"team/hello:{fallback}") == _raw(registry_open, f"team/single:{fallback}")
    # The records are gone but for the assembly's marker, on both kinds of target.
    assert [k for k in keys(moto, name) if "/_alba/parts/" in k] == ["v2/hello/_alba/parts/77/assembled.json"]
    assert json.loads(_skopeo("list-tags", "--tls-verify=false",
                              f"docker://{registry_open.address}/team/hello/alba-parts").stdout)["Tags"] == ["77-assembled"]
    again = run_alba("container", "assemble", "-t", "hello:1.0", "--platforms", "linux/amd64,linux/arm64",
                     "--release-id", "77", url, registry)
    assert again.returncode == 0, again.stderr
    assert "already assembled on every image target" in again.stderr


def _skopeo(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=60)


def _raw(registry, ref: str) -> str:
    got = _skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{registry.address}/{ref}")
    assert got.returncode == 0, got.stderr
    return got.stdout


def test_gc_sweeps_leftover_parts_after_the_grace_period(moto, bucket, registry_open, tmp_path):
    from alba_action.parts.sweep import sweep_registry, sweep_store
    from alba_action.report.progress import Reporter
    from alba_action.targets.open import open_registry, open_store

    name, url = bucket
    amd = static_job(tmp_path / "jobs", "linux", "amd64")
    assert part("-t", "tool:1.0", "--release-id", "3", amd, url).returncode == 0
    image = image_job(tmp_path / "img", "linux", "amd64")
    registry = registry_open.url("team/left")
    r = run_alba("container", "push", "--part", "-t", "left:1.0", "--release-id", "3", image, url, registry)
    assert r.returncode == 0, r.stderr
    store, reporter = open_store(url), Reporter(quiet=True)
    assert sweep_store(store, "tool", 3600, reporter) == []  # young: a pipeline may still assemble it
    assert sweep_store(store, "tool", 0, reporter, dry_run=True) and any("_parts" in k for k in keys(moto, name))
    assert sweep_store(store, "tool", 0, reporter)
    assert sweep_store(store, "left", 0, reporter) == ["v2/left/_alba/parts/3/linux.amd64.json"]
    assert not any("_parts" in k or "_alba/parts" in k for k in keys(moto, name))
    repo = open_registry(registry)
    assert sweep_registry(repo, 3600, reporter, repo_options()) == []
    assert sweep_registry(repo, 0, reporter, repo_options()) == [f"{repo.url}/alba-parts:3-linux-amd64"]


def repo_options():
    from alba_action.request import RunOptions

    return RunOptions()


def test_the_step_path_publishes_parts_then_assembles(moto, bucket, tmp_path):
    name, url = bucket
    base = alba_env(GITHUB_ACTIONS="true", GITHUB_RUN_ID="555", GITHUB_REF="refs/tags/v1.2.0", GITHUB_SHA="a" * 40,
                    GITHUB_REPOSITORY="o/tool", GITHUB_OUTPUT=str(tmp_path / "out"),
                    GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    for o, a in PLATFORMS[:2]:
        job = static_job(tmp_path / "jobs", o, a)
        r = run_alba("publish", "--part", "--name", "tool", "--tags", "type=raw,value=1.2.0", "--static-dir", job, "--static-target", url,
                     "--provenance", "false", env=base, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
    assert not any(k.startswith("df-dist-v1/tool") for k in keys(moto, name))
    summary = (tmp_path / "summary.md").read_text()
    assert "### Parts of release `555`" in summary and "| linux/arm64 |" in summary, summary
    assert "parts of release 555 of tool" in r.stdout
    r = run_alba("publish", "--assemble", "linux/amd64,linux/arm64", "--name", "tool", "--tags", "type=raw,value=1.2.0", "--static-target", url,
                 "--provenance", "false", env=base, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(get(moto, name, "df-dist-v1/tool"))["tags"][0] == "1.2.0"
    assert "release-id=555" in (tmp_path / "out").read_text()


def test_three_static_platforms_and_two_images_from_separate_jobs_into_a_bucket_and_a_registry(
        moto, bucket, registry_open, tmp_path):
    """The issue's bar: each job publishes its parts through the step (static files and images
    at once), one assemble step per kind, and the result is a one-job publish's."""
    name, url = bucket
    registry = registry_open.url("acme/tool")
    env = alba_env(GITHUB_ACTIONS="true", GITHUB_RUN_ID="31337", GITHUB_REF="refs/tags/v2.0.0", GITHUB_SHA="b" * 40,
                   GITHUB_REPOSITORY="acme/tool", GITHUB_SERVER_URL="https://github.com",
                   GITHUB_OUTPUT=str(tmp_path / "out"))
    common = ["--name", "tool", "--tags", "type=semver,pattern={{version}}"]
    statics, images = [], []
    for o, a in PLATFORMS:
        job = ["--part", *common, "--static-dir", static_job(tmp_path / "jobs", o, a), "--static-target", url]
        statics.append(job[job.index("--static-dir") + 1])
        if o == "linux":
            images.append(image_job(tmp_path / "img", o, a))
            job += ["--container-dir", images[-1], "--container-target", url, "--container-target", registry]
        r = run_alba("publish", *job, env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stdout + r.stderr
    assert not any(k.startswith(("df-dist-v1/tool", "v2/tool/manifests/2.0.0")) for k in keys(moto, name))
    static = run_alba("publish", "--assemble", "linux/amd64,linux/arm64,darwin/arm64", *common,
                      "--static-target", url, env=env, cwd=tmp_path)
    assert static.returncode == 0, static.stdout + static.stderr
    image = run_alba("publish", "--assemble", "linux/amd64,linux/arm64", *common, "--container-target", url,
                     "--container-target", registry, "--output-file", "image.json", env=env, cwd=tmp_path)
    assert image.returncode == 0, image.stdout + image.stderr
    assembled = json.loads((tmp_path / "image.json").read_text())
    # One job with every folder and archive, to other targets: the same index digest.
    one = run_alba("publish", *common, "--static-dir", one_job_dir(statics, tmp_path / "one-static"),
                   "--static-target", f"file://{tmp_path / 'one'}", "--container-dir",
                   one_job_dir(images, tmp_path / "one-images"), "--container-target",
                   registry_open.url("acme/one"), "--output-file", "one.json", env=env, cwd=tmp_path)
    assert one.returncode == 0, one.stdout + one.stderr
    single = json.loads((tmp_path / "one.json").read_text())
    assert assembled["digest"] == single["digest"] and assembled["digest"].startswith("sha256:")
    assert without_published(get(moto, name, "df-dist-v1/tool/2.0.0")) == without_published(
        (tmp_path / "one/df-dist-v1/tool/2.0.0/index.json").read_bytes())
    assert _raw(registry_open, "acme/tool:2.0.0") == _raw(registry_open, "acme/one:2.0.0")


def test_an_image_part_whose_archive_names_another_platform_publishes_nothing(moto, bucket, tmp_path):
    from imagefixtures import make_layer_tar, write_nix_archive

    name, url = bucket
    src = tmp_path / "docker"
    src.mkdir()
    write_nix_archive(src / "linux.amd64.tar.gz", Platform("linux", "arm64"), [make_layer_tar({"bin/x": b"x\n"})])
    r = run_alba("container", "push", "--part", "-t", "hello:1.0", "--release-id", "4", src, url)
    assert r.returncode == 2, r.stderr
    assert "linux.amd64" in r.stderr and "arm64" in r.stderr, r.stderr
    assert keys(moto, name) == []


def test_the_latest_guard_runs_once_across_targets_at_assembly(moto, bucket, tmp_path):
    name, url = bucket
    newer = static_job(tmp_path / "newer", "linux", "amd64")
    assert run_alba("static", "push", "-t", "tool:2.0.0", "-t", "tool:latest", newer, url).returncode == 0
    older = static_job(tmp_path / "older", "linux", "amd64")
    assert part("-t", "tool:1.0.0", "--release-id", "8", older, url).returncode == 0
    r = run_alba("static", "assemble", "-t", "tool:1.0.0", "-t", "tool:latest", "--latest-guard",
                 "--platforms", "linux/amd64", "--release-id", "8", url)
    assert r.returncode == 0, r.stderr
    assert "latest not moved" in r.stderr
    assert json.loads(get(moto, name, "df-dist-v1/tool"))["tags"][:1] == ["1.0.0"]
    assert json.loads(get(moto, name, "df-dist-v1/tool/latest"))["flavors"] == json.loads(
        get(moto, name, "df-dist-v1/tool/2.0.0"))["flavors"]


def test_signed_assembly_verifies(moto, bucket, tmp_path):
    """Signatures are made at assembly: minisign for the files, the image key for the index and
    every platform manifest; `alba verify` checks the assembled releases with the public keys."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    name, url = bucket
    k = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "ec.pem").write_bytes(k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    (tmp_path / "ec.pub").write_bytes(k.public_key().public_bytes(serialization.Encoding.PEM,
                                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    subprocess.run(["minisign", "-G", "-W", "-p", tmp_path / "m.pub", "-s", tmp_path / "m.key", "-f"], check=True,
                   capture_output=True)
    for o, a in PLATFORMS[:2]:
        assert part("-t", "tool:1.0", "--release-id", "2", static_job(tmp_path / "jobs", o, a), url).returncode == 0
        r = run_alba("container", "push", "--part", "-t", "hello:1.0", "--release-id", "2",
                     image_job(tmp_path / "img", o, a), url)
        assert r.returncode == 0, r.stderr
    r = run_alba("static", "assemble", "-t", "tool:1.0", "--minisign-key", tmp_path / "m.key",
                 "--platforms", "linux/amd64,linux/arm64", "--release-id", "2", url)
    assert r.returncode == 0, r.stderr
    r = run_alba("container", "assemble", "-t", "hello:1.0", "--sign-key", tmp_path / "ec.pem",
                 "--platforms", "linux/amd64,linux/arm64", "--release-id", "2", url, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["signatures"]) == 3
    assert get(moto, name, "df-dist-v1/tool/1.0/SHA256SUMS.minisig") is not None
    for ref, key in (("tool:1.0", "m.pub"), ("hello:1.0", "ec.pub")):
        v = run_alba("verify", "-t", ref, url, "--key", tmp_path / key)
        assert v.returncode == 0, v.stdout + v.stderr


def test_concurrent_image_parts_all_land_without_conditional_writes(moto, bucket, garage_like, tmp_path):
    name, _ = bucket
    url = s3_url(name, garage_like.port)
    jobs = [image_job(tmp_path / "img", "linux", a) for a in ("amd64", "arm64")]
    results = [None, None]

    def one(i: int) -> None:
        results[i] = run_alba("container", "push", "--part", "-t", "hello:1.0", "--release-id", "12", jobs[i], url)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    wrong = run_alba("container", "assemble", "-t", "hello:1.0", "--format", "docker", "--platforms",
                     "linux/amd64,linux/arm64", "--release-id", "12", url)
    assert wrong.returncode == 2 and "not a --format docker manifest" in wrong.stderr, wrong.stderr
    assert get(moto, name, "v2/hello/manifests/1.0") is None
    r = run_alba("container", "assemble", "-t", "hello:1.0", "--platforms", "linux/amd64,linux/arm64",
                 "--release-id", "12", url, "--json")
    assert r.returncode == 0, r.stderr
    index = json.loads(get(moto, name, "v2/hello/manifests/1.0"))
    assert [m["platform"]["architecture"] for m in index["manifests"]] == ["amd64", "arm64"]


def test_a_registry_that_refuses_deletes_keeps_the_records_and_still_assembles(registry_nodelete, tmp_path):
    registry = registry_nodelete.url("team/kept")
    job = image_job(tmp_path / "img", "linux", "amd64")
    assert run_alba("container", "push", "--part", "-t", "kept:1.0", "--release-id", "6", job, registry).returncode == 0
    r = run_alba("container", "assemble", "-t", "kept:1.0", "--platforms", "linux/amd64", "--release-id", "6", registry)
    assert r.returncode == 0, r.stderr
    tags = json.loads(_skopeo("list-tags", "--tls-verify=false",
                              f"docker://{registry_nodelete.address}/team/kept/alba-parts").stdout)["Tags"]
    assert sorted(tags) == ["6-assembled", "6-linux-amd64"]
    assert run_alba("container", "assemble", "-t", "kept:1.0", "--platforms", "linux/amd64", "--release-id", "6",
                    registry).returncode == 0  # the marker still makes it a no-op
