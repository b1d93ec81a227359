"""The package as users install it: an sdist and a wheel built with `python3 -m build` (Debian's
python3-build) from a copy of the source, each installed with `pip install` into a clean venv
and with `pipx install`, then run from elsewhere: `alba --version` and a real push to a folder.
Dependencies come from the package index, held to requirements.lock's versions by a constraint
file. A missing tool fails the test."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from servers import REPO

VERSION = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
DEBIAN_PYTHON = "/usr/bin/python3"  # python3-build and pipx are Debian's


def need(binary: str) -> str:
    path = shutil.which(binary)
    assert path, f"{binary} is missing: .ci/setup installs it (APT_PACKAGES)"
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """No checkout on the path and no active virtualenv: only what the install put there."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV", "PYTHONHOME")
    return {k: v for k, v in os.environ.items() if k not in drop} | {"PIP_DISABLE_PIP_VERSION_CHECK": "1"} | extra


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """sdist and wheel of a copy of the source (the build writes egg-info beside it, not in the tree)."""
    root = tmp_path_factory.mktemp("packaging")
    src = root / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "alba_action", src / "alba_action", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    assert Path(DEBIAN_PYTHON).exists(), "Debian's python3 is missing: .ci/setup installs python3"
    r = subprocess.run([DEBIAN_PYTHON, "-m", "build", "--outdir", str(root / "dist"), str(src)],
                       capture_output=True, text=True, timeout=600, env=clean_env())
    assert r.returncode == 0, "python3 -m build (python3-build): " + r.stdout[-2000:] + r.stderr[-2000:]
    # The lock's versions without its hashes: pip takes hashes in requirements, not in constraints.
    pins = [m.group(0) for m in re.finditer(r"^[A-Za-z0-9_.-]+==[^\s\\;]+", (REPO / "requirements.lock").read_text(), re.M)]
    (root / "constraints.txt").write_text("\n".join(pins) + "\n")
    found = {("wheel" if p.suffix == ".whl" else "sdist"): p for p in (root / "dist").iterdir()}
    assert set(found) == {"wheel", "sdist"}, sorted(p.name for p in (root / "dist").iterdir())
    return found, root / "constraints.txt"


def test_the_built_files_hold_the_package_its_metadata_and_its_command(dist):
    files, _ = dist
    with tarfile.open(files["sdist"]) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "alba_action/__init__.py", "alba_action/report/forge.py"} <= names
    assert not any(n.startswith("tests/") or "__pycache__" in n for n in names)
    with zipfile.ZipFile(files["wheel"]) as wheel:
        names = set(wheel.namelist())
        info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    assert files["wheel"].name == f"alba_action-{VERSION}-py3-none-any.whl"
    assert f"\nVersion: {VERSION}\n" in metadata and "Requires-Dist: boto3" in metadata
    assert "alba = alba_action.cli:console" in entry_points
    assert "alba_action/images/load.py" in names and not any(n.startswith("tests/") for n in names)


def _works(alba: str, tmp: Path) -> None:
    """The installed command, run outside the checkout: its version, then a push to a folder."""
    version = subprocess.run([alba, "--version"], capture_output=True, text=True, timeout=60, cwd=tmp, env=clean_env())
    assert version.returncode == 0 and version.stdout.strip() == f"alba {VERSION}", version.stdout + version.stderr
    src = tmp / "df/linux/amd64"
    src.mkdir(parents=True)
    (src / "tool").write_text("tool for amd64\n")
    pushed = subprocess.run([alba, "static", "push", "-t", "tool:1.0", str(tmp / "df"), f"file://{tmp}/out", "--json"],
                            capture_output=True, text=True, timeout=120, cwd=tmp,
                            env=clean_env(ALBA_CACHE_DIR=str(tmp / "cache")))
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    assert json.loads(pushed.stdout)["tags"] == ["1.0"]
    assert (tmp / "out/df-dist-v1/tool/1.0/linux/amd64/tool").read_text() == "tool for amd64\n"


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_pip_installs_it_into_a_clean_venv(dist, kind, tmp_path):
    files, constraints = dist
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120, env=clean_env())
    r = subprocess.run([venv / "bin/python", "-m", "pip", "install", "-q", "--constraint", str(constraints),
                        str(files[kind])], capture_output=True, text=True, timeout=600, env=clean_env())
    assert r.returncode == 0, r.stderr[-3000:]
    shown = subprocess.run([venv / "bin/python", "-m", "pip", "show", "alba-action"], capture_output=True, text=True,
                           timeout=60, env=clean_env())
    assert f"Version: {VERSION}" in shown.stdout and str(venv) in shown.stdout  # installed there, not editable
    _works(str(venv / "bin/alba"), tmp_path)


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_pipx_installs_it(dist, kind, tmp_path):
    files, constraints = dist
    pipx = need("pipx")
    env = clean_env(PIPX_HOME=str(tmp_path / "pipx"), PIPX_BIN_DIR=str(tmp_path / "bin"),
                    PIPX_DEFAULT_PYTHON=DEBIAN_PYTHON, USE_EMOJI="0")
    r = subprocess.run([pipx, "install", "--pip-args", f"--constraint {constraints}", str(files[kind])],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    listed = subprocess.run([pipx, "list", "--short"], capture_output=True, text=True, timeout=60, env=env).stdout
    assert f"alba-action {VERSION}" in listed
    _works(str(tmp_path / "bin/alba"), tmp_path)
