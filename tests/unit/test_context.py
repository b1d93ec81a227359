"""Where we run: CI variables and local git → Context → tags."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import git
import pytest

from alba_action.context import context_from_env, detect_provider
from alba_action.context.local import best_tag, https_url
from alba_action.errors import InputError
from alba_action.tags import compute_tags

FIXTURES = Path(__file__).parents[1] / "fixtures" / "tags"
CI = json.loads((FIXTURES / "ci_envs.json").read_text())


def ci_env(case: dict, tmp_path: Path) -> dict:
    env = {"ALBA_NOW": CI["now"], **case["env"]}
    if "payload" in case:
        event = tmp_path / "event.json"
        event.write_text(json.dumps(case["payload"]))
        env["GITHUB_EVENT_PATH"] = str(event)
    return env


@pytest.mark.parametrize("case", CI["cases"], ids=lambda c: c["name"])
def test_ci_environment(case: dict, tmp_path: Path) -> None:
    # cwd is an empty directory: nothing may leak in from the repository running the tests.
    ctx = context_from_env(ci_env(case, tmp_path), tmp_path)

    assert {key: getattr(ctx, key) for key in case["context"]} == case["context"]
    assert compute_tags(ctx, case.get("tags", CI["default_tags"]), "").tags == case["expected"]


@pytest.mark.parametrize(
    "env, provider",
    [
        ({"FORGEJO_ACTIONS": "true", "GITHUB_ACTIONS": "true"}, "forgejo"),
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"CI": "woodpecker", "DRONE": "true"}, "woodpecker"),
        ({"DRONE": "true"}, "drone"),
        ({"CI": "true"}, "local"),
        ({}, "local"),
    ],
)
def test_detect_provider(env: dict, provider: str) -> None:
    assert detect_provider(env) == provider


def test_alba_now_fixes_the_clock(tmp_path: Path) -> None:
    ctx = context_from_env({"ALBA_NOW": "2021-02-03T04:05:06+01:00"}, tmp_path)
    assert ctx.now == datetime(2021, 2, 3, 3, 5, 6, tzinfo=timezone.utc)
    assert ctx.now.tzinfo is not None


def test_without_alba_now_the_clock_is_utc_now(tmp_path: Path) -> None:
    before = datetime.now(timezone.utc)
    ctx = context_from_env({}, tmp_path)
    assert before <= ctx.now <= datetime.now(timezone.utc)


@pytest.mark.parametrize(
    "env, named",
    [
        ({"ALBA_NOW": "yesterday"}, "ALBA_NOW"),
        ({"DOCKER_METADATA_SHORT_SHA_LENGTH": "seven"}, "DOCKER_METADATA_SHORT_SHA_LENGTH"),
    ],
)
def test_bad_settings_name_the_variable(env: dict, named: str, tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        context_from_env(env, tmp_path)
    assert err.value.message.startswith(named)


def test_short_sha_length_is_honoured(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/heads/x", "GITHUB_SHA": "0123456789abcdef",
           "DOCKER_METADATA_SHORT_SHA_LENGTH": "12"}
    assert compute_tags(context_from_env(env, tmp_path), "type=sha", "").tags == ["sha-0123456789ab"]


def test_unreadable_event_payload_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="GITHUB_EVENT_PATH"):
        context_from_env({"GITHUB_ACTIONS": "true", "GITHUB_EVENT_PATH": str(bad)}, tmp_path)


# -- outside CI: the local git repository -------------------------------------------------------

AUTHOR = git.Actor("Test", "test@example.org")


def make_repo(path: Path, remote: str | None = "git@github.com:acme/widget.git") -> git.Repo:
    repo = git.Repo.init(path, initial_branch="main")
    (path / "README").write_text("hello\n")
    repo.index.add(["README"])
    # Raw git date form: GitPython misreads the offset of ISO strings.
    when = "1709283600 +0100"  # 2024-03-01T10:00:00+01:00
    repo.index.commit("first", author=AUTHOR, committer=AUTHOR, author_date=when, commit_date=when)
    if remote:
        repo.create_remote("origin", remote)
    return repo


def local(path: Path):
    return context_from_env({"ALBA_NOW": "2024-06-01T00:00:00Z"}, path)


def test_local_branch(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.git.checkout("-b", "feature/x")
    ctx = local(tmp_path)

    assert (ctx.provider, ctx.ref, ctx.branch, ctx.tag) == ("local", "refs/heads/feature/x", "feature/x", "")
    assert ctx.sha == repo.head.commit.hexsha
    assert ctx.commit_date == "2024-03-01T09:00:00Z"
    assert (ctx.repo_url, ctx.repository, ctx.server_url) == (
        "https://github.com/acme/widget", "acme/widget", "https://github.com")
    assert compute_tags(ctx, ["type=ref,event=branch", "type=sha"], "").tags == [
        "feature-x", f"sha-{ctx.sha[:7]}"]


def test_local_tagged_head_prefers_highest_semver(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    for name in ("v1.2.0", "v1.10.0-rc.1", "v1.10.0", "nightly"):
        repo.create_tag(name)
    ctx = local(tmp_path)

    assert (ctx.ref, ctx.tag, ctx.branch) == ("refs/tags/v1.10.0", "v1.10.0", "main")
    assert compute_tags(ctx, ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}"], "").tags == [
        "1.10.0", "1.10", "latest"]


def test_local_detached_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, remote=None)
    repo.git.checkout("--detach")
    ctx = local(tmp_path)

    assert (ctx.ref, ctx.branch, ctx.tag, ctx.repo_url) == ("", "", "", "")
    assert compute_tags(ctx, [], "").tags == []  # the default rules all need a ref
    assert compute_tags(ctx, "type=sha", "").tags == [f"sha-{ctx.sha[:7]}"]


def test_local_detached_at_tag(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.create_tag("v3.0.0")
    repo.git.checkout("v3.0.0")
    ctx = local(tmp_path)
    assert (ctx.ref, ctx.branch) == ("refs/tags/v3.0.0", "")
    assert compute_tags(ctx, "type=ref,event=tag", "").tags == ["v3.0.0", "latest"]


def test_local_default_branch_from_origin_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path)
    repo.git.update_ref("refs/remotes/origin/main", repo.head.commit.hexsha)
    repo.git.symbolic_ref("refs/remotes/origin/HEAD", "refs/remotes/origin/main")
    ctx = local(tmp_path)
    assert ctx.default_branch == "main"
    assert compute_tags(ctx, ["type=edge", "type=raw,value=stable,enable={{is_default_branch}}"], "").tags == [
        "edge", "stable"]


@pytest.mark.parametrize("setup", ["no-repo", "no-commits"])
def test_local_without_history_still_allows_raw(setup: str, tmp_path: Path) -> None:
    if setup == "no-commits":
        git.Repo.init(tmp_path)
    ctx = local(tmp_path)
    assert (ctx.sha, ctx.ref) == ("", "")
    assert compute_tags(ctx, ["type=sha", "type=ref,event=branch", "type=raw,value=dev"], "").tags == ["dev"]


@pytest.mark.parametrize(
    "remote, url",
    [
        ("git@github.com:acme/widget.git", "https://github.com/acme/widget"),
        ("ssh://git@codeberg.org:2222/acme/widget.git", "https://codeberg.org/acme/widget"),
        ("https://user:s3cret@gitlab.com/group/sub/project.git", "https://gitlab.com/group/sub/project"),
        ("https://git.example.org:8443/a/b/", "https://git.example.org:8443/a/b"),
        ("/srv/git/widget.git", ""),
        ("file:///srv/git/widget.git", ""),
    ],
)
def test_remote_url_to_https(remote: str, url: str) -> None:
    assert https_url(remote) == url
    assert "s3cret" not in https_url(remote)


@pytest.mark.parametrize(
    "tags, best",
    [
        (["v1.2.0", "v1.10.0"], "v1.10.0"),
        (["v2.0.0-rc.1", "v2.0.0"], "v2.0.0"),
        (["v2.0.0-rc.2", "v2.0.0-rc.10"], "v2.0.0-rc.10"),
        (["latest-build", "v0.1.0"], "v0.1.0"),
        (["alpha", "beta"], "beta"),
        ([], ""),
    ],
)
def test_best_tag(tags: list, best: str) -> None:
    assert best_tag(tags) == best
