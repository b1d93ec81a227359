"""`alba container ls|rm|gc`: one static registry, explicit arguments → manage → trace."""

from __future__ import annotations

from alba_action.containers import manage
from alba_action.containers.repository import open_repository
from alba_action.names import parse_refs
from alba_action.report.progress import Reporter
from alba_action.request import RunOptions


def run_container(action: str, refs: list[str], target: str, reporter: Reporter, options: RunOptions, *,
                  dry_run: bool = False, keep: int = 0, include_releases: bool = False,
                  quiet_json: bool = False) -> dict:
    name, tags = parse_refs(refs, need_tag=action == "rm")
    repo, tags = open_repository(target, name, tags, need_tag=action == "rm", options=options)
    if action == "ls":
        out = manage.ls(repo)
        if not quiet_json:
            for tag in out["tags"]:
                print(tag)
        return out
    if action == "rm":
        result = manage.rm(repo, tags, reporter, dry_run)
        reporter.log("✅ dry run: nothing deleted" if dry_run else "✅ rm succeeded")
        return result.to_json()
    result = manage.gc(repo, keep, include_releases, reporter, dry_run, options.gc_grace_seconds)
    reporter.log("✅ dry run: nothing deleted" if dry_run else
                 f"✅ gc succeeded ({len(result.removed_tags)} tags, {len(result.deleted_blobs)} blobs removed)")
    return result.to_json()
