"""More clients pull what alba publishes to a static registry (a moto bucket behind nginx, as
Garage's website mode serves it): containerd's `ctr` and buildah, beside skopeo, podman and
docker in the other modules. Each pulls every platform and unpacks the layers, and the test
reads a file of the unpacked image. A missing binary fails the test."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from servers import run_alba
from workloads import nix_images

PLATFORMS = ("linux/amd64", "linux/arm64")


def need(binary: str) -> str:
    path = shutil.which(binary)
    assert path, f"{binary} is missing: .ci/setup installs it (APT_PACKAGES)"
    return path


@pytest.fixture
def published(moto, bucket, website, tmp_path):
    """An image of two platforms pushed to the bucket; yields (registry host, alba's JSON)."""
    _, url = bucket
    r = run_alba("container", "push", "-t", "hello:1.0", nix_images(tmp_path / "docker"), url, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [p["platform"] for p in out["platforms"]] == list(PLATFORMS)
    return website, out


@pytest.fixture
def containerd():
    """A containerd of its own: own root, state and socket, the CRI plugin off. Yields `ctr` argv."""
    binary, ctr = need("containerd"), need("ctr")
    home = Path(tempfile.mkdtemp(prefix="ctrd", dir="/tmp"))  # a unix socket path has 108 bytes at most
    sock = home / "c.sock"
    (home / "config.toml").write_text(f"""version = 2
root = "{home}/root"
state = "{home}/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "{home}/opt"
""")
    log = open(home / "containerd.log", "w")
    proc = subprocess.Popen([binary, "--config", str(home / "config.toml")], stdout=log, stderr=subprocess.STDOUT)
    argv = [ctr, "--address", str(sock), "--namespace", "alba-test"]
    try:
        for _ in range(100):
            if proc.poll() is not None or subprocess.run([*argv, "version"], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "containerd exited: " + (home / "containerd.log").read_text()[-2000:]
        yield argv, home / "root"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def _files_named(root: Path, name: str) -> set[str]:
    return {p.read_text() for p in root.rglob(name) if p.is_file()}


def test_containerd_pulls_and_unpacks_every_platform(published, containerd):
    host, out = published
    ctr, root = containerd
    ref = f"{host}/hello:1.0"
    for platform in PLATFORMS:
        r = subprocess.run([*ctr, "images", "pull", "--plain-http", "--snapshotter", "native", "--platform", platform,
                            ref], capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    listed = subprocess.run([*ctr, "images", "ls"], capture_output=True, text=True, timeout=60).stdout
    assert ref in listed and out["digest"] in listed  # the tag resolved to alba's index
    content = subprocess.run([*ctr, "content", "ls", "--quiet"], capture_output=True, text=True, timeout=60).stdout
    for p in out["platforms"]:
        assert p["digest"] in content.split(), f"{p['platform']} manifest not fetched"
    checked = subprocess.run([*ctr, "images", "check"], capture_output=True, text=True, timeout=60).stdout
    assert "complete" in checked, checked
    # The native snapshotter keeps each unpacked layer as a folder: both platforms' files are there.
    unpacked = _files_named(root / "io.containerd.snapshotter.v1.native", "hello")
    assert unpacked == {f"hello from {p}\n" for p in PLATFORMS}
    assert _files_named(root / "io.containerd.snapshotter.v1.native", "shared.txt") == {"the same in every platform\n"}


def test_buildah_pulls_each_platform_and_mounts_it(published):
    host, out = published
    buildah = need("buildah")
    short = Path(tempfile.mkdtemp(prefix="bh", dir="/tmp"))  # short paths, as for podman's runroot
    base = [buildah, "--root", str(short / "root"), "--runroot", str(short / "run"), "--storage-driver", "vfs"]
    try:
        for platform in PLATFORMS:
            os_, arch = platform.split("/")
            pulled = subprocess.run([*base, "pull", "--tls-verify=false", "--os", os_, "--arch", arch,
                                     f"{host}/hello:1.0"], capture_output=True, text=True, timeout=180)
            assert pulled.returncode == 0, pulled.stderr[-2000:]
            image_id = pulled.stdout.strip().splitlines()[-1]
            inspect = json.loads(subprocess.run([*base, "inspect", "--type", "image", image_id], capture_output=True,
                                                text=True, timeout=60, check=True).stdout)
            want = next(p["digest"] for p in out["platforms"] if p["platform"] == platform)
            assert inspect["FromImageDigest"] == want
            assert inspect["OCIv1"]["architecture"] == arch
            box = subprocess.run([*base, "from", "--pull=never", image_id], capture_output=True, text=True,
                                 timeout=60, check=True).stdout.strip()
            mount = subprocess.run([*base, "mount", box], capture_output=True, text=True, timeout=60,
                                   check=True).stdout.strip()
            assert (Path(mount) / "bin/hello").read_text() == f"hello from {platform}\n"
            subprocess.run([*base, "rm", box], capture_output=True, timeout=60, check=True)
    finally:
        subprocess.run([*base, "rm", "--all"], capture_output=True, timeout=60)
        shutil.rmtree(short, ignore_errors=True)
