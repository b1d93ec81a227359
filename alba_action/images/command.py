"""`alba container ls|rm|gc`: one static registry, explicit arguments → manage → trace."""

from __future__ import annotations

from alba_action.images import manage
from alba_action.targets.open import open_repository
from alba_action.names import parse_refs
from alba_action.report.progress import Reporter
from alba_action.request import RunOptions
from alba_action.retention import Policy


def run_container(action: str, refs: list[str], target: str, reporter: Reporter, options: RunOptions, *,
                  dry_run: bool = False, policy: Policy | None = None,
                  quiet_json: bool = False) -> dict:
    # A docker:// URL names its repository: `gc` and `ls` need no -t there.
    name, tags = parse_refs(refs, need_tag=action == "rm") if refs or not target.startswith("docker://") else ("", [])
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
    result = manage.gc(repo, policy, reporter, dry_run, options.gc_grace_seconds, options)
    reporter.log("✅ dry run: nothing deleted" if dry_run else
                 f"✅ gc succeeded ({len(result.removed_tags)} tags, {len(result.deleted_manifests)} manifests, "
                 f"{len(result.deleted_blobs)} blobs removed)")
    return result.to_json()
