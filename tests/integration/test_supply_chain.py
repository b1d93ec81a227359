"""One locked dependency set, and workflows and action metadata that pass an audit."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
WORKFLOWS = sorted((REPO / ".forgejo/workflows").glob("*.yml"))


def locked() -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes) of requirements.lock."""
    text = (REPO / "requirements.lock").read_text()
    out = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9_.-]+)==([^ \\\n]+)", block)
        if match:
            out[canonicalize_name(match.group(1))] = (match.group(2), block.count("--hash=sha256:"))
    return out


def test_the_lock_satisfies_pyproject_and_pins_everything_with_hashes():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = locked()
    assert lock, "requirements.lock is empty"
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is in pyproject.toml but not in requirements.lock: run .ci/lock"
        assert req.specifier.contains(lock[name][0], prereleases=True), \
            f"{req.name}=={lock[name][0]} in the lock does not satisfy {spec!r}: run .ci/lock"
    assert all(hashes for _, hashes in lock.values()), "every locked package needs its hashes"
    assert "index-url" not in (REPO / "requirements.lock").read_text()  # nothing of this machine leaks in


def test_the_environment_runs_the_locked_versions():
    from importlib.metadata import PackageNotFoundError, version

    for name, (pinned, _) in locked().items():
        try:
            assert version(name) == pinned, f"{name}: {version(name)} installed, {pinned} locked: re-run .ci/setup"
        except PackageNotFoundError:
            pytest.fail(f"{name} is locked but not installed: re-run .ci/setup")


def test_every_installer_uses_the_lock():
    assert "--require-hashes" in (REPO / "action.yml").read_text()
    assert "requirements.lock" in (REPO / "Dockerfile").read_text()
    assert "--require-hashes" in (REPO / ".ci/setup").read_text()


def test_zizmor_finds_nothing_of_medium_severity_or_above():
    r = subprocess.run([BIN / "zizmor", "--offline", "--min-severity", "medium", "--format", "plain",
                        REPO / "action.yml", *WORKFLOWS], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "No findings" in r.stdout + r.stderr


@pytest.mark.parametrize("schema, files", [("vendor.github-actions", [REPO / "action.yml"]),
                                           ("vendor.github-workflows", WORKFLOWS)])
def test_metadata_validates_against_the_published_schemas(schema, files):
    r = subprocess.run([BIN / "check-jsonschema", "--builtin-schema", schema, *files],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "ok -- validation done" in r.stdout, r.stdout + r.stderr


def test_actions_are_pinned_by_commit():
    for path in [REPO / "action.yml", *WORKFLOWS]:
        for ref in re.findall(r"uses:\s*([^\s#]+)", path.read_text()):
            if ref.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned by commit"
