"""`alba static ls|rm|gc`: one target, explicit arguments → store → catalog → trace."""

from __future__ import annotations

from alba_action.report.progress import Reporter
from alba_action.request import RunOptions
from alba_action.retention import Policy
from alba_action.static import manage
from alba_action.targets.open import open_store


def run_static(action: str, refs: list[str], target: str, reporter: Reporter, options: RunOptions, *,
               dry_run: bool = False, policy: Policy | None = None,
               quiet_json: bool = False) -> dict:
    store = open_store(target, options)
    if action == "ls":
        result = manage.ls(store, refs)
        if not quiet_json:
            for tag in result.tags:
                print(tag)
    elif action == "page":
        result = manage.page(store, refs, reporter)
        reporter.log("✅ pages written")
    elif action == "rm":
        result = manage.rm(store, refs, reporter, dry_run)
        reporter.log("✅ dry run: nothing deleted" if dry_run else "✅ rm succeeded")
    else:
        result = manage.gc(store, refs, policy, reporter, dry_run, options.gc_grace_seconds)
        reporter.log("✅ dry run: nothing deleted" if dry_run else f"✅ gc succeeded ({len(result.tags)} tags removed)")
    return result.to_json()
