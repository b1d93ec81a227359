"""GitHub Actions and Forgejo Actions: GITHUB_* variables plus the event payload."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import InputError
from .model import HEADS, Context, iso_or_empty, ref_parts


def load_payload(env: Mapping[str, str]) -> dict:
    """The webhook payload the runner saved at GITHUB_EVENT_PATH ({} when absent)."""
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path or not Path(path).is_file():
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            f"GITHUB_EVENT_PATH: cannot read the event payload {path}: {exc}",
            "run inside a GitHub/Forgejo job or unset GITHUB_EVENT_PATH",
        ) from exc
    return data if isinstance(data, dict) else {}


def _dig(data: dict, *keys: str):
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _ref(env: Mapping[str, str], event: str, payload: dict) -> str:
    # pull_request_target runs on the base branch; metadata-action rewrites the
    # ref to the PR's so that `type=ref,event=pr` still applies.
    number = payload.get("number")
    if "pull_request_target" in event and number:
        return f"refs/pull/{number}/merge"
    return env.get("GITHUB_REF", "")


def _base_ref(env: Mapping[str, str], ref: str, payload: dict) -> str:
    if ref.startswith("refs/tags/"):
        return str(payload.get("base_ref") or "").removeprefix(HEADS)
    if ref.startswith("refs/pull/"):
        return str(_dig(payload, "pull_request", "base", "ref") or env.get("GITHUB_BASE_REF", ""))
    return ""


def _commit_timestamp(payload: dict, sha: str) -> str:
    """Commit date from the payload, as metadata-action reads it (before its API fallback)."""
    for commit in payload.get("commits") or []:
        if isinstance(commit, dict) and commit.get("id") == sha and commit.get("timestamp"):
            return iso_or_empty(commit["timestamp"])
    head = payload.get("head_commit")
    if isinstance(head, dict) and head.get("id") == sha:
        return iso_or_empty(head.get("timestamp"))
    return ""


def _run_url(env: Mapping[str, str], provider: str, repo_url: str) -> str:
    # Forgejo's web UI addresses runs by number, GitHub's by id.
    run = env.get("GITHUB_RUN_NUMBER" if provider == "forgejo" else "GITHUB_RUN_ID", "")
    return f"{repo_url}/actions/runs/{run}" if repo_url and run else ""


def github_context(env: Mapping[str, str], provider: str, **common) -> Context:
    payload = load_payload(env)
    event = env.get("GITHUB_EVENT_NAME", "")
    ref = _ref(env, event, payload)
    sha = env.get("GITHUB_SHA", "")
    head_sha = str(_dig(payload, "pull_request", "head", "sha") or "")
    # Same opt-in as metadata-action: tag PR images with the head commit, not the merge commit.
    if env.get("DOCKER_METADATA_PR_HEAD_SHA", "").lower() == "true" and "pull_request" in event and head_sha:
        sha = head_sha
    server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    repository = env.get("GITHUB_REPOSITORY", "")
    repo_url = f"{server}/{repository}" if repository else ""
    head_ref = env.get("GITHUB_HEAD_REF", "") or str(_dig(payload, "pull_request", "head", "ref") or "")
    parts = ref_parts(ref)
    return Context(
        provider=provider,
        event=event,
        ref=ref,
        sha=sha,
        head_sha=head_sha,
        branch=parts.get("branch", head_ref if "pr_number" in parts else ""),
        tag=parts.get("tag", ""),
        pr_number=parts.get("pr_number"),
        base_ref=_base_ref(env, ref, payload),
        head_ref=head_ref,
        default_branch=str(_dig(payload, "repository", "default_branch") or ""),
        repository=repository,
        server_url=server,
        repo_url=repo_url,
        commit_date=_commit_timestamp(payload, sha),
        run_url=_run_url(env, provider, repo_url),
        workflow=env.get("GITHUB_WORKFLOW", ""),
        run_id=env.get("GITHUB_RUN_NUMBER" if provider == "forgejo" else "GITHUB_RUN_ID", ""),
        run_attempt=env.get("GITHUB_RUN_ATTEMPT", ""),
        **common,
    )
