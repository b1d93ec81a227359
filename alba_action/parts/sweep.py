"""gc of leftover parts: releases a pipeline never assembled (and the markers assemblies
leave), removed once their newest object is older than the grace period.

For the retention command to call, per name: `sweep_store` on every s3:// or file:// target
(df-dist-v1 parts and static-registry records), `sweep_registry` on a docker:// repository.
The blobs and platform manifests of a part that was never assembled are reached by no tag:
a static registry's gc already sweeps them after the grace period; a registry's own garbage
collection does once the records are deleted.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone

from alba_action.errors import TargetError
from alba_action.parts import plan
from alba_action.parts.records import PARTS_REPO


def part_roots(name: str) -> tuple[str, str]:
    return f"{plan.STATIC_ROOT}/{name}/", f"v2/{name}/_alba/parts/"


def sweep_store(store, name: str, grace_seconds: float, reporter, dry_run: bool = False,
                now: float | None = None) -> list[str]:
    cutoff = (time.time() if now is None else now) - grace_seconds
    old = []
    for root in part_roots(name):
        keys: dict[str, list[str]] = {}
        newest: dict[str, float] = {}
        for info in store.list_info(root):
            rid = info.key[len(root):].split("/", 1)[0]
            keys.setdefault(rid, []).append(info.key)
            newest[rid] = max(newest.get(rid, 0.0), info.modified or 0.0)
        old += [k for rid, ks in sorted(keys.items()) if newest[rid] <= cutoff for k in ks]
    for key in old:
        reporter.log(f"{'would delete' if dry_run else 'deleted'} {key} (a part never assembled, or an assembly's marker)")
        if not dry_run:
            store.delete(key)
    return old


def sweep_registry(repo, grace_seconds: float, reporter, options, dry_run: bool = False,
                   now: float | None = None) -> list[str]:
    """The record tags of `REPO/alba-parts` whose release's newest record is older than the
    grace period (records carry their own `written` time; one without is kept)."""
    from alba_action.targets.open import open_registry

    records = open_registry(f"docker://{repo.host}/{repo.name}/{PARTS_REPO}", options,
                            insecure=getattr(repo.client, "prefix", "https") == "http")
    cutoff = (time.time() if now is None else now) - grace_seconds
    by_release: dict[str, list[tuple[str, str, float | None]]] = {}
    try:
        record_tags = records.list_tags()
    except TargetError as err:  # no access to the records' repository: there is nothing of ours to sweep
        reporter.log(f"parts not swept on {records.url}: {err.message}")
        return []
    for tag in record_tags:
        got = records.get_manifest(tag)
        if got is None:
            continue
        layer = json.loads(got[0])["layers"][0]["digest"]
        doc = json.loads(records.get_blob(layer) or b"{}")
        written = _seconds(doc.get("written", ""))
        by_release.setdefault(str(doc.get("release")), []).append((tag, records.manifest_digest(tag), written))
    old = []
    for entries in by_release.values():
        times = [w for _, _, w in entries]
        if None not in times and max(times) <= cutoff:
            old += entries
    for tag, digest, _ in old:
        reporter.log(f"{'would delete' if dry_run else 'deleted'} {records.url}:{tag} (a part never assembled, or done)")
        if not dry_run and digest:
            records.delete_manifest(digest)
    return [f"{records.url}:{tag}" for tag, _, _ in old]


def _seconds(text: str) -> float | None:
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None
