"""The plugin image, built from the Dockerfile and run the way Woodpecker and Drone run a plugin:
the workspace mounted as the working directory, PLUGIN_* settings, CI_* variables, secrets as
environment, host network, the image's non-root user. A Docker engine that cannot start fails
the test and says why.

The base is a local slim Debian bookworm made as debian:bookworm-slim is (mmdebstrap minbase,
merged /usr without the usrmerge package and its perl, no docs, man pages or locales) with
python3, python3-venv, ca-certificates and this machine's CA bundle so pip trusts its network,
imported with `docker import`; no git. The Dockerfile's default stays a public Python image."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from servers import CREDENTIALS, REPO, s3_url
from workloads import nix_images

STATE = Path(os.environ.get("ALBA_DOCKER_STATE", "/var/cache/alba-ci/docker"))  # kept between runs of one machine
SOCKET = "unix:///run/alba-test-dockerd.sock"
DEBOOTSTRAP = ["mmdebstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates",
               "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
               *[f"--dpkgopt=path-exclude=/usr/share/{d}/*" for d in ("doc", "man", "info", "locale")],
               "--dpkgopt=path-include=/usr/share/doc/*/copyright",
               "--customize-hook=copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs",
               '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*',
               "--format=tar", "bookworm"]
# Named after its recipe: a changed recipe builds a new base instead of reusing a cached one.
BASE = "alba-base:bookworm-" + hashlib.sha256(json.dumps(DEBOOTSTRAP).encode()).hexdigest()[:12]
IMAGE = "alba-plugin:test"
LIMIT = 200 * 1000 * 1000  # bytes, as `docker image inspect` counts them
ARTIFACTS = REPO / "test-artifacts"
COMMIT_DATE = "2024-05-04T03:02:01Z"


def docker(*args: str, timeout: int = 900, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(["docker", "-H", SOCKET, *args], capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, f"docker {' '.join(args[:3])}: {r.stderr[-2000:]}"
    return r


@pytest.fixture(scope="module")
def engine():
    dockerd = shutil.which("dockerd")
    assert dockerd, "dockerd is missing: .ci/setup installs docker.io"
    STATE.mkdir(parents=True, exist_ok=True)
    log = open(STATE / "dockerd.log", "w")
    proc = subprocess.Popen([dockerd, "--storage-driver", "vfs", "--iptables=false", "--bridge=none",
                             "--data-root", str(STATE / "root"), "--exec-root", "/run/alba-test-dockerd",
                             "--pidfile", "/run/alba-test-dockerd.pid", "-H", SOCKET],
                            stdout=log, stderr=subprocess.STDOUT)
    for _ in range(60):
        if docker("info", check=False, timeout=30).returncode == 0:
            break
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    else:
        proc.kill()
    if docker("info", check=False, timeout=30).returncode != 0:
        proc.kill()
        pytest.fail("the Docker engine did not start: " + (STATE / "dockerd.log").read_text()[-2000:])
    yield
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def image(engine):
    if docker("image", "inspect", BASE, check=False).returncode != 0:
        rootfs = STATE / "bookworm.tar"
        made = subprocess.run([*DEBOOTSTRAP, str(rootfs)], capture_output=True, text=True, timeout=900)
        assert made.returncode == 0, f"mmdebstrap: {made.stderr[-2000:]}"
        docker("import", str(rootfs), BASE)
        rootfs.unlink()
    for old in docker("images", "alba-base", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
        if old != BASE:  # bases of earlier recipes: vfs keeps a full copy of each
            docker("rmi", old, check=False)
    started = time.monotonic()
    docker("build", "--network", "host", "--build-arg", f"BASE={BASE}", "-t", IMAGE, str(REPO), timeout=1500)
    ARTIFACTS.mkdir(exist_ok=True)
    size = int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    (ARTIFACTS / "plugin-image.txt").write_text(f"size {size} bytes; build {time.monotonic() - started:.0f} s\n")
    yield IMAGE, size
    docker("image", "prune", "-f", check=False)  # earlier builds' layers: vfs keeps full copies


def test_the_image_is_under_200_mb(image):
    """A Woodpecker agent pulls the image before the first run of each version."""
    _, size = image
    assert size < LIMIT, f"the plugin image is {size / 1e6:.1f} MB, the limit is {LIMIT / 1e6:.0f} MB"


def test_the_image_has_no_compiler_no_git_and_no_pip(image):
    r = docker("run", "--rm", "--entrypoint", "sh", image[0], "-c",
               "id -u; command -v gcc cc c++ strip git || true; ls -d /root/.cache/pip $HOME/.cache/pip 2>/dev/null || true;"
               " /opt/alba/venv/bin/python -m pip --version 2>&1 || true;"
               " /opt/alba/venv/bin/python -c 'import setuptools' 2>&1 || true")
    lines = r.stdout.split()
    assert lines[0] == "1000"  # the image's non-root user
    for absent in ("gcc", "/cc", "strip", "/git", ".cache/pip"):
        assert absent not in r.stdout, r.stdout
    assert "No module named pip" in r.stdout  # pip itself was removed after the locked install
    assert "No module named 'setuptools'" in r.stdout


def test_the_image_imports_compiled_modules(image):
    """No run compiles the package or its dependencies again (that took 1.6 s of each start)."""
    r = docker("run", "--rm", "--entrypoint", "/opt/alba/venv/bin/python", image[0], "-v", "-c",
               "import alba_action.pipeline, alba_action.cli, alba_action.action, boto3, oras.provider, git")
    from_source = re.findall(r"^# code object from (/opt/alba/\S+\.py)$", r.stderr, re.M)
    compiled = re.findall(r"^# code object from '(/opt/alba/\S+\.pyc)'$", r.stderr, re.M)
    assert not from_source, f"compiled at each start: {from_source[:10]}"
    assert any("/alba_action/__pycache__/pipeline." in c for c in compiled)
    assert any("/site-packages/botocore/__pycache__/" in c for c in compiled)


def test_woodpecker_runs_the_plugin(image, moto, bucket, registry_open, tmp_path):
    name, _ = bucket
    ws = tmp_path / "ws"
    (ws / "df/linux/amd64").mkdir(parents=True)
    (ws / "df/linux/amd64/tool").write_text("tool for amd64\n")
    nix_images(ws / "docker")
    sha = _checkout(ws)
    os.chmod(ws, 0o777)  # the plugin runs as uid 1000 and writes its result file there
    env = {
        "CI": "woodpecker", "CI_PIPELINE_EVENT": "tag", "CI_COMMIT_REF": "refs/tags/v1.4.0", "CI_COMMIT_TAG": "v1.4.0",
        "CI_COMMIT_SHA": sha, "CI_REPO": "acme/tool",
        "CI_REPO_URL": "https://forge.example.org/acme/tool", "CI_WORKSPACE": "/woodpecker/src/acme/tool",
        "CI_PIPELINE_URL": "https://ci.example.org/repos/1/pipeline/9", "CI_PIPELINE_NUMBER": "9",
        "DRONE": "true", "DRONE_TAG": "v1.4.0", "DRONE_COMMIT_SHA": sha,
        "PLUGIN_NAME": "tool", "PLUGIN_STATIC_DIR": "df", "PLUGIN_CONTAINER_DIR": "docker",
        "PLUGIN_STATIC_TARGET": s3_url(name, moto.port),
        "PLUGIN_CONTAINER_TARGETS": f"{s3_url(name, moto.port)},{registry_open.url('plugin/tool')}",
        "PLUGIN_TAGS": "type=semver,pattern={{version}}",
        # Secrets as `from_secret` settings (Woodpecker refuses `environment:` on plugin steps).
        "PLUGIN_AWS_ACCESS_KEY_ID": CREDENTIALS["AWS_ACCESS_KEY_ID"],
        "PLUGIN_AWS_SECRET_ACCESS_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    }
    args = [f"--env={k}={v}" for k, v in env.items()]
    r = docker("run", "--rm", "--network", "host", "-v", f"{ws}:/woodpecker/src/acme/tool",
               "-w", "/woodpecker/src/acme/tool", *args, image[0], check=False, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in r.stdout + r.stderr
    assert "── summary ──" in r.stdout and "## ✅ alba published" in r.stdout  # no page shows a summary
    out = json.loads((ws / ".alba/result.json").read_text())  # no step outputs: the documented file
    assert out["version"] == "1.4.0" and out["tags"] == ["1.4.0", "latest"]
    # The commit date came from the root-owned checkout, read without a git binary.
    assert out["annotations"]["org.opencontainers.image.created"] == COMMIT_DATE
    assert out["annotations"]["org.opencontainers.image.revision"] == sha
    keys = {o["Key"] for o in moto.client().list_objects_v2(Bucket=name).get("Contents", [])}
    assert {"df-dist-v1/tool", "df-dist-v1/tool/1.4.0/linux/amd64/tool", "v2/tool/manifests/1.4.0"} <= keys
    digest = out["digest"]
    assert [c["digest"] for c in out["containers"]] == [digest, digest]  # one index, both targets
    listed = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry_open.address}/plugin/tool"],
                            capture_output=True, text=True, timeout=60)
    assert {"1.4.0", "latest"} <= set(json.loads(listed.stdout)["Tags"])


def _checkout(ws: Path) -> str:
    """The clone step's work: a repository owned by root (not by the plugin's user), objects packed."""
    dated = {**os.environ, "GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE}
    for cmd in (["init", "-q", "-b", "main"], ["add", "df"],
                ["-c", "user.name=ci", "-c", "user.email=ci@example.org", "commit", "-q", "-m", "release"],
                ["gc", "-q"]):
        subprocess.run(["git", "-C", str(ws), *cmd], check=True, env=dated, capture_output=True, timeout=60)
    return subprocess.run(["git", "-C", str(ws), "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
