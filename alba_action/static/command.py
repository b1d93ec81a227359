"""`alba static push|ls|rm|gc`: arguments → store → publish → trace."""

from __future__ import annotations

from alba_action.report.progress import Reporter
from alba_action.static import publish
from alba_action.targets.open import open_store


def run_static(args, reporter: Reporter) -> dict:
    store = open_store(args.target)
    if args.action == "push":
        result = publish.push(store, args.refs, args.src_dir, reporter, args.dry_run)
        reporter.log("✅ dry run: nothing written" if args.dry_run else "✅ push succeeded")
    elif args.action == "ls":
        result = publish.ls(store, args.refs)
        if not args.json:
            for tag in result.tags:
                print(tag)
    elif args.action == "rm":
        result = publish.rm(store, args.refs, reporter, args.dry_run)
        reporter.log("✅ dry run: nothing deleted" if args.dry_run else "✅ rm succeeded")
    else:
        result = publish.gc(store, args.refs, args.keep, args.include_releases, reporter, args.dry_run)
        reporter.log("✅ dry run: nothing deleted" if args.dry_run else f"✅ gc succeeded ({len(result.tags)} tags removed)")
    return result.to_json()
