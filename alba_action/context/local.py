"""Outside CI: what the local git repository says about HEAD (GitPython)."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ..version_order import semver_key
from .model import Context, iso_utc

if TYPE_CHECKING:
    import git  # GitPython takes a tenth of a second to import: only runs that read a repository do

_SCP_URL = re.compile(r"^(?:[^@/]+@)?([^:/]+):(?!//)(.+)$")  # git@host:owner/name.git


def open_repo(cwd: Path) -> git.Repo | None:
    import git

    # Without a git binary (the plugin image has none; GIT_PYTHON_REFRESH=quiet lets GitPython
    # import) its pure-Python object database reads the objects; with one, its default does.
    odbt = git.GitCmdObjectDB if shutil.which(git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git") else git.GitDB
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # GitPython deprecates GitDB; see docs/woodpecker.md
            repo = git.Repo(cwd, search_parent_directories=True, odbt=odbt)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return None
    # A repository without commits has no HEAD to describe.
    return repo if repo.head.is_valid() else None


def https_url(remote: str) -> str:
    """A remote URL as a browsable https URL, without credentials or `.git`."""
    remote = remote.strip()
    scp = _SCP_URL.match(remote)
    if scp and "://" not in remote:
        host, path = scp.groups()
    else:
        parts = urlsplit(remote)
        if parts.scheme not in ("http", "https", "ssh", "git", "git+ssh") or not parts.hostname:
            return ""
        # Drop user:token@ and ssh ports: the source annotation is public.
        host, path = parts.hostname, parts.path
        if parts.scheme in ("http", "https") and parts.port:
            host = f"{host}:{parts.port}"
    path = path.strip("/").removesuffix(".git")
    return f"https://{host}/{path}" if path else ""


def best_tag(names: list[str]) -> str:
    """The highest semver among tags on HEAD; else the last by name (deterministic)."""
    if not names:
        return ""
    versions = [(key, name) for name in names if (key := semver_key(name)) is not None]
    if versions:
        return max(versions)[1]
    return max(names)


def _head_tags(repo: git.Repo, sha: str) -> list[str]:
    names = []
    for tag in repo.tags:
        try:
            if tag.commit.hexsha == sha:
                names.append(tag.name)
        except ValueError:  # a tag pointing at a tree or blob
            continue
    return names


def _default_branch(repo: git.Repo) -> str:
    try:
        target = repo.refs["origin/HEAD"].reference.name  # origin/main
    except (IndexError, TypeError, ValueError, KeyError):
        return ""
    return target.split("/", 1)[1] if "/" in target else ""


def _origin_url(repo: git.Repo) -> str:
    import git

    try:
        return https_url(repo.remotes.origin.url)
    except (AttributeError, IndexError, ValueError, git.GitCommandError):
        return ""


def commit_date(cwd: Path, sha: str) -> str:
    """Commit date of `sha` when the checkout at cwd has it at HEAD, else ""."""
    repo = open_repo(cwd)
    if repo is None or (sha and repo.head.commit.hexsha != sha):
        return ""
    return iso_utc(repo.head.commit.committed_datetime)


def local_context(cwd: Path, **common) -> Context:
    repo = open_repo(cwd)
    if repo is None:
        return Context(provider="local", **common)
    head = repo.head.commit
    branch = "" if repo.head.is_detached else repo.active_branch.name
    tag = best_tag(_head_tags(repo, head.hexsha))
    # A tagged HEAD is a release even when a branch is checked out.
    ref = f"refs/tags/{tag}" if tag else (f"refs/heads/{branch}" if branch else "")
    repo_url = _origin_url(repo)
    parts = urlsplit(repo_url)
    return Context(
        provider="local",
        event="push",
        ref=ref,
        sha=head.hexsha,
        branch=branch,
        tag=tag,
        default_branch=_default_branch(repo),
        repository=parts.path.strip("/"),
        server_url=f"{parts.scheme}://{parts.netloc}" if repo_url else "",
        repo_url=repo_url,
        commit_date=iso_utc(head.committed_datetime),
        **common,
    )
