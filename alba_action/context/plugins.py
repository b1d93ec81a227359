"""Woodpecker and Drone plugins: CI_* / DRONE_* variables mapped onto metadata-action's events."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .model import Context, ref_parts

# Their event names → metadata-action's. A tag build is a push of refs/tags/… on GitHub.
WOODPECKER_EVENTS = {
    "push": "push",
    "pull_request": "pull_request",
    "pull_request_closed": "pull_request",
    "tag": "push",
    "release": "release",
    "deployment": "deployment",
    "cron": "schedule",
    "manual": "workflow_dispatch",
}
DRONE_EVENTS = {
    "push": "push",
    "pull_request": "pull_request",
    "tag": "push",
    "cron": "schedule",
    "custom": "workflow_dispatch",
    "promote": "deployment",
    "rollback": "deployment",
}


def _ref(ref: str, kind: str, branch: str, tag: str, pr: str) -> str:
    """A ref metadata-action understands, from whichever pieces the CI gave."""
    if kind == "pr":
        # GitLab gives refs/merge-requests/N/head; GitHub and Forgejo refs/pull/N/head.
        return ref if ref.startswith("refs/pull/") else (f"refs/pull/{pr}/head" if pr else "")
    if kind == "tag":
        return f"refs/tags/{tag}" if tag else ref
    if ref.startswith(("refs/heads/", "refs/tags/")):
        return ref
    return f"refs/heads/{branch}" if branch else ref


def _kind(raw_event: str) -> str:
    if raw_event.startswith("pull_request"):
        return "pr"
    return "tag" if raw_event in ("tag", "release") else "branch"


def _server(repo_url: str) -> str:
    parts = urlsplit(repo_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _build(provider: str, events: dict, v: dict, common: dict) -> Context:
    raw_event = v["event"].lower()
    kind = _kind(raw_event)
    ref = _ref(v["ref"], kind, v["branch"], v["tag"], v["pr"])
    parts = ref_parts(ref)
    is_pr = kind == "pr"
    return Context(
        provider=provider,
        event=events.get(raw_event, raw_event),
        ref=ref,
        sha=v["sha"],
        head_sha=v["sha"] if is_pr else "",
        branch=v["source"] if is_pr else parts.get("branch", "" if kind == "tag" else v["branch"]),
        tag=parts.get("tag", v["tag"]),
        pr_number=int(v["pr"]) if is_pr and v["pr"].isdigit() else parts.get("pr_number"),
        base_ref=v["target"] if is_pr else "",
        head_ref=v["source"] if is_pr else "",
        default_branch=v["default_branch"],
        repository=v["repo"],
        server_url=v["server"] or _server(v["repo_url"]),
        repo_url=v["repo_url"].removesuffix(".git"),
        run_url=v["run_url"],
        workflow=v.get("workflow", ""),
        run_id=v.get("run_id", ""),
        run_started=_epoch(v.get("started", "")),
        **common,
    )


def woodpecker_context(env: Mapping[str, str], **common) -> Context:
    get = env.get
    values = {
        "event": get("CI_PIPELINE_EVENT", get("CI_BUILD_EVENT", "")),
        "ref": get("CI_COMMIT_REF", ""),
        "sha": get("CI_COMMIT_SHA", ""),
        # For pull requests CI_COMMIT_BRANCH is the target branch.
        "branch": get("CI_COMMIT_BRANCH", ""),
        "source": get("CI_COMMIT_SOURCE_BRANCH", ""),
        "target": get("CI_COMMIT_TARGET_BRANCH", get("CI_COMMIT_BRANCH", "")),
        "tag": get("CI_COMMIT_TAG", ""),
        "pr": get("CI_COMMIT_PULL_REQUEST", ""),
        "repo": get("CI_REPO", ""),
        "repo_url": get("CI_REPO_URL", get("CI_REPO_LINK", "")),
        "server": get("CI_FORGE_URL", "").rstrip("/"),
        "default_branch": get("CI_REPO_DEFAULT_BRANCH", ""),
        "run_url": get("CI_PIPELINE_URL", get("CI_BUILD_LINK", "")),
        "workflow": get("CI_WORKFLOW_NAME", ""),
        "run_id": get("CI_PIPELINE_NUMBER", get("CI_BUILD_NUMBER", "")),
        "started": get("CI_PIPELINE_STARTED", get("CI_PIPELINE_CREATED", "")),
    }
    return _build("woodpecker", WOODPECKER_EVENTS, values, common)


def drone_context(env: Mapping[str, str], **common) -> Context:
    get = env.get
    values = {
        "event": get("DRONE_BUILD_EVENT", ""),
        "ref": get("DRONE_COMMIT_REF", ""),
        "sha": get("DRONE_COMMIT_SHA", get("DRONE_COMMIT", "")),
        "branch": get("DRONE_BRANCH", ""),
        "source": get("DRONE_SOURCE_BRANCH", ""),
        "target": get("DRONE_TARGET_BRANCH", get("DRONE_BRANCH", "")),
        "tag": get("DRONE_TAG", ""),
        "pr": get("DRONE_PULL_REQUEST", ""),
        "repo": get("DRONE_REPO", ""),
        "repo_url": get("DRONE_REPO_LINK", ""),
        "server": "",
        "default_branch": get("DRONE_REPO_BRANCH", ""),
        "run_url": get("DRONE_BUILD_LINK", ""),
        "workflow": get("DRONE_STAGE_NAME", ""),
        "run_id": get("DRONE_BUILD_NUMBER", ""),
        "started": get("DRONE_BUILD_STARTED", ""),
    }
    return _build("drone", DRONE_EVENTS, values, common)


def _epoch(text: str) -> str:
    """Woodpecker and Drone give start times as Unix seconds."""
    from datetime import datetime, timezone

    if not text.strip().isdigit():
        return ""
    return datetime.fromtimestamp(int(text), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
