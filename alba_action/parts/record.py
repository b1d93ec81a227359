"""`--part`: publish this job's platforms as parts of a release id — content and records only.

Static: every file of the job's platform folders (and the build's SBOMs beside them) under
`df-dist-v1/_parts/NAME/RELEASE/`, laid out as in SRC_DIR, then one record per platform.
Nothing a reader of `df-dist-v1/NAME…` sees changes: no tag document, no name document
entry, no page.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alba_action.parts import plan
from alba_action.parts.result import PartResult
from alba_action.report.progress import Reporter
from alba_action.static import plan as static_plan
from alba_action.static.publish import content_type
from alba_action.static.scan import PlatformFolder
from alba_action.targets.base import Body, Store

PARALLEL_FILES = 8


def static_part(store: Store, name: str, rid: str, src_dir: Path, folders: list[PlatformFolder], sboms: list,
                reporter: Reporter, dry_run: bool = False) -> PartResult:
    """Files first (largest first), then each platform's record: the record is the commit point."""
    prefix = plan.static_prefix(name, rid)
    result = PartResult("static", name, store.url, rid, [str(f.platform) for f in folders], dry_run=dry_run)
    work = []  # (platform folder, [(key, local path, PartFile)])
    for folder in folders:
        files = [(Path(r.source), plan.PartFile(f"{folder.platform}/{r.path}", r.size, r.digest))
                 for r in folder.resources]
        files += [(s.path, _part_file(src_dir, Path(s.path))) for s in sboms if s.platform == folder.platform]
        work.append((folder, files))
    result.files = [prefix + f.path for _, files in work for _, f in files]
    result.records = [plan.static_record_key(name, rid, f.platform) for f in folders]
    if dry_run:
        for key in result.files + result.records:
            reporter.log(f"would write part -> {key}")
        return result
    uploads = sorted(((src, f) for _, files in work for src, f in files), key=lambda item: -item[1].size)

    def one(item) -> None:
        src, f = item
        with reporter.transfer(f"{f.path} -> {prefix}{f.path}", f.size) as progress:
            store.put(prefix + f.path, Body(path=src), content_type(f.path), static_plan.FILE_CACHE, progress=progress)

    with ThreadPoolExecutor(PARALLEL_FILES) as pool:
        for future in [pool.submit(one, item) for item in uploads]:
            future.result()  # a failed file: no record, so the part does not exist
    for folder, files in work:
        entry = static_plan.tag_document([folder])["flavors"][0]["resources"]
        key = plan.static_record_key(name, rid, folder.platform)
        store.put(key, Body(data=plan.static_record(name, rid, folder.platform, entry, [f for _, f in files])),
                  plan.RECORD, static_plan.NO_CACHE)
        reporter.log(f"part {folder.platform} of release {rid} -> {key}")
    return result


def _part_file(src_dir: Path, path: Path) -> plan.PartFile:
    from alba_action.digest import sha256_file

    return plan.PartFile(path.relative_to(src_dir).as_posix(), path.stat().st_size, sha256_file(path))
