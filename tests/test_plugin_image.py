"""The plugin image, built from the Dockerfile and run the way Woodpecker and Drone run a plugin:
the workspace mounted as the working directory, PLUGIN_* settings, CI_* variables, secrets as
environment, host network, the image's non-root user. A Docker engine that cannot start fails
the test and says why.

The base is a local Debian bookworm (mmdebstrap: python3, python3-venv, git, ca-certificates,
and this machine's CA bundle so pip trusts its network) imported with `docker import`; the
Dockerfile's default stays a public Python image for users."""

from __future__ import annotations

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
from test_container_static import nix_images

STATE = Path(os.environ.get("ALBA_DOCKER_STATE", "/var/cache/alba-ci/docker"))  # kept between runs of one machine
SOCKET = "unix:///run/alba-test-dockerd.sock"
BASE = "alba-base:bookworm"
IMAGE = "alba-plugin:test"
ARTIFACTS = REPO / "test-artifacts"


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
        made = subprocess.run(["mmdebstrap", "--variant=minbase", "--include=python3,python3-venv,git,ca-certificates",
                               "--customize-hook=copy-in /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs",
                               "--format=tar", "bookworm", str(rootfs)], capture_output=True, text=True, timeout=900)
        assert made.returncode == 0, f"mmdebstrap: {made.stderr[-2000:]}"
        docker("import", str(rootfs), BASE)
        rootfs.unlink()
    started = time.monotonic()
    docker("build", "--network", "host", "--build-arg", f"BASE={BASE}", "-t", IMAGE, str(REPO), timeout=1500)
    ARTIFACTS.mkdir(exist_ok=True)
    size = int(docker("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout)
    (ARTIFACTS / "plugin-image.txt").write_text(f"size {size} bytes; build {time.monotonic() - started:.0f} s\n")
    yield IMAGE
    docker("image", "prune", "-f", check=False)  # earlier builds' layers: vfs keeps full copies


def test_the_image_has_no_compiler_and_no_pip_cache(image):
    r = docker("run", "--rm", "--entrypoint", "sh", image, "-c",
               "id -u; command -v gcc cc c++ || true; ls -d /root/.cache/pip $HOME/.cache/pip 2>/dev/null || true;"
               " /opt/alba/venv/bin/python -m pip --version 2>&1 || true")
    lines = r.stdout.split()
    assert lines[0] == "1000"  # the image's non-root user
    assert "gcc" not in r.stdout and "/cc" not in r.stdout and ".cache/pip" not in r.stdout
    assert "No module named pip" in r.stdout  # pip itself was removed after the locked install


def test_the_image_imports_compiled_modules(image):
    """No run compiles the package or its dependencies again (that took 1.6 s of each start)."""
    r = docker("run", "--rm", "--entrypoint", "/opt/alba/venv/bin/python", image, "-v", "-c",
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
    os.chmod(ws, 0o777)  # the plugin runs as uid 1000 and writes its output file there
    env = {
        "CI": "woodpecker", "CI_PIPELINE_EVENT": "tag", "CI_COMMIT_REF": "refs/tags/v1.4.0", "CI_COMMIT_TAG": "v1.4.0",
        "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567", "CI_REPO": "acme/tool",
        "CI_REPO_URL": "https://forge.example.org/acme/tool", "CI_WORKSPACE": "/woodpecker/src/acme/tool",
        "CI_PIPELINE_URL": "https://ci.example.org/repos/1/pipeline/9", "CI_PIPELINE_NUMBER": "9",
        "DRONE": "true", "DRONE_TAG": "v1.4.0", "DRONE_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "PLUGIN_NAME": "tool", "PLUGIN_STATIC_DIR": "df", "PLUGIN_CONTAINER_DIR": "docker",
        "PLUGIN_STATIC_TARGET": s3_url(name, moto.port),
        "PLUGIN_CONTAINER_TARGETS": f"{s3_url(name, moto.port)},{registry_open.url('plugin/tool')}",
        "PLUGIN_TAGS": "type=semver,pattern={{version}}", "PLUGIN_OUTPUT_FILE": "alba.json",
        **CREDENTIALS,  # secrets, as Woodpecker passes `from_secret` settings: environment variables
    }
    args = [f"--env={k}={v}" for k, v in env.items()]
    r = docker("run", "--rm", "--network", "host", "-v", f"{ws}:/woodpecker/src/acme/tool",
               "-w", "/woodpecker/src/acme/tool", *args, image, check=False, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in r.stdout + r.stderr
    out = json.loads((ws / "alba.json").read_text())
    assert out["version"] == "1.4.0" and out["tags"] == ["1.4.0", "latest"]
    keys = {o["Key"] for o in moto.client().list_objects_v2(Bucket=name).get("Contents", [])}
    assert {"df-dist-v1/tool", "df-dist-v1/tool/1.4.0/linux/amd64/tool", "v2/tool/manifests/1.4.0"} <= keys
    digest = out["digest"]
    assert [c["digest"] for c in out["containers"]] == [digest, digest]  # one index, both targets
    listed = subprocess.run(["skopeo", "list-tags", "--tls-verify=false", f"docker://{registry_open.address}/plugin/tool"],
                            capture_output=True, text=True, timeout=60)
    assert {"1.4.0", "latest"} <= set(json.loads(listed.stdout)["Tags"])
