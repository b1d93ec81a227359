"""ls and rm for static registries; gc (images/gc.py) for static registries and registries."""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.report.progress import Reporter
from alba_action.images.attachments import is_attachment
from alba_action.version_order import newest_first as by_publication
from alba_action.images.gc import GcResult
from alba_action.request import RunOptions
from alba_action.retention import Policy
from alba_action.targets.base import ManagedRegistry


def _static(repo) -> ManagedRegistry:
    if not isinstance(repo, ManagedRegistry):  # an OciRegistry: the registry manages itself
        raise InputError(f"{repo.url}: ls, rm and gc work on static registries (s3://, file://)",
                         "use the registry's own tools (e.g. its API or UI) for docker:// targets")
    repo.check()
    return repo


def newest_first(repo: ManagedRegistry) -> list[str]:
    """Release tags (not signatures or referrers), newest first: a tag is published when its
    object is written (the commit point), and that time orders them."""
    return by_publication({t: when for t, when in repo.tag_times().items() if not is_attachment(t)})


def ls(repo) -> dict:
    repo = _static(repo)
    return {"name": repo.name, "target": repo.url, "tags": newest_first(repo)}


def rm(repo, tags: list[str], reporter: Reporter, dry_run: bool) -> GcResult:
    repo = _static(repo)
    present = set(repo.list_tags())
    for tag in tags:
        if tag not in present:
            raise InputError(f"-t {repo.name}:{tag}: no such tag on {repo.url}",
                             f"`alba container ls -t {repo.name} TARGET` lists the tags")
    result = GcResult(repo.name, repo.url, removed_tags=list(tags), dry_run=dry_run)
    for tag in tags:
        reporter.log(f"{'would delete' if dry_run else 'deleted'} tag {tag}")
        if not dry_run:
            repo.delete_manifest(tag)
    if not dry_run:
        repo.write_tag_list()
    return result


def gc(repo, policy: Policy, reporter: Reporter, dry_run: bool, grace_seconds: float = 3600.0,
       options: RunOptions = RunOptions()) -> GcResult:
    """By the retention policy, graph-aware, on a static registry or a docker:// registry
    (images/gc.py); `grace_seconds`: unreferenced objects younger than this may belong to a
    push under way (static registries; a registry's own garbage collection frees blobs).
    Then the parts of releases never assembled, once older than the grace period."""
    from alba_action.images.gc import gc_registry, gc_static
    from alba_action.parts.sweep import sweep_registry, sweep_store

    if isinstance(repo, ManagedRegistry):
        result = gc_static(repo, policy, reporter, dry_run, grace_seconds)
        result.deleted += sweep_store(repo.store, repo.name, grace_seconds, reporter, dry_run)
        return result
    result = gc_registry(repo, policy, reporter, dry_run)
    result.deleted += sweep_registry(repo, grace_seconds, reporter, options, dry_run)
    return result
