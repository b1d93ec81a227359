"""What a CI hands the step: GitHub and Woodpecker environments, a build's workspace, the entrypoint run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from imagefixtures import make_layer_tar, write_nix_archive
from servers import CREDENTIALS, REPO, alba_env

from alba_action.images.model import Platform

SHA = "0123456789abcdef0123456789abcdef01234567"
AWS_SECRET = CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
PLATFORMS = ("amd64", "arm64")


def make_workspace(tmp_path):
    """What a build leaves: static files per platform and one image archive per platform."""
    ws = tmp_path / "ws"
    for arch in PLATFORMS:
        (ws / "df/linux" / arch).mkdir(parents=True)
        (ws / "df/linux" / arch / "tool").write_bytes(f"tool for {arch}\n".encode())
        (ws / "docker").mkdir(exist_ok=True)
        write_nix_archive(ws / f"docker/linux.{arch}.tar.gz", Platform("linux", arch),
                          [make_layer_tar({"bin/tool": arch.encode()})])
    return ws


def github_env(ws: Path, ref: str = "refs/tags/v1.2.3", **inputs: str) -> dict[str, str]:
    event = ws.parent / "event.json"
    event.write_text(json.dumps({"ref": ref, "repository": {"default_branch": "main"}}))
    env = {
        "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": ref, "GITHUB_SHA": SHA,
        "GITHUB_REPOSITORY": "acme/tool", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "7",
        "GITHUB_EVENT_PATH": str(event), "GITHUB_WORKSPACE": str(ws),
        "GITHUB_OUTPUT": str(ws.parent / "github_output"), "GITHUB_STEP_SUMMARY": str(ws.parent / "summary.md"),
    }
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})  # hyphens kept, as GitHub does
    return env


def woodpecker_env(ws: Path, **settings: str) -> dict[str, str]:
    env = {
        "CI": "woodpecker", "CI_PIPELINE_EVENT": "push", "CI_COMMIT_REF": "refs/heads/main",
        "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": SHA, "CI_REPO": "acme/tool",
        "CI_REPO_URL": "https://forge.example.org/acme/tool", "CI_REPO_DEFAULT_BRANCH": "main", "CI_WORKSPACE": str(ws),
    }
    env.update({f"PLUGIN_{k.upper().replace('-', '_')}": v for k, v in settings.items()})
    return env


def run_entrypoint(ws: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = alba_env(ALBA_NOW="2024-06-01T00:00:00Z", ALBA_SETTLE_SECONDS="0.2",
                    ALBA_CACHE_DIR=str(ws.parent / "cache"), **env)
    return subprocess.run([sys.executable, str(REPO / "entrypoint.py")], env=full, cwd=ws,
                          capture_output=True, text=True, timeout=300)


def assert_secret_nowhere(secret: str, proc: subprocess.CompletedProcess, *files: Path) -> None:
    # The runner consumes `::add-mask::` lines (that is how it learns the secret); nothing else may show it.
    shown = [line for line in proc.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert not any(secret in line for line in shown) and secret not in proc.stderr
    for f in files:
        if f.exists():
            assert secret not in f.read_text(), f
