"""Assemble a static release from its parts: check every target, fetch the parts once,
publish them as a one-job push would, then leave a marker in place of the parts.

The files are fetched from a target that holds them (checked against their records' size
and sha256) into a folder laid out as SRC_DIR, which the ordinary static push publishes:
the tag documents, SHA256SUMS, signatures, SBOMs and pages are therefore those of a
one-job push of the same folders, byte for byte but for `published`.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from alba_action.errors import InputError, TargetError
from alba_action.grammar import compact_json
from alba_action.parts import plan
from alba_action.platforms import Platform
from alba_action.report.progress import Reporter
from alba_action.static import plan as static_plan
from alba_action.targets.base import Body, Store


@dataclass
class Found:
    """What one target holds of a release: its records by platform, and the marker of a done assembly."""

    records: dict[Platform, dict]
    assembled: dict | None


def read_parts(store: Store, name: str, rid: str) -> Found:
    prefix = plan.static_prefix(name, rid)
    keys = [k for k in store.list(prefix, shallow=True) if k.endswith(".json") and "/" not in k[len(prefix):]]
    with ThreadPoolExecutor(8) as pool:
        got = dict(zip(keys, pool.map(store.get, keys)))
    records, assembled = {}, None
    for key, answer in got.items():
        if answer is None:
            continue  # deleted since the listing
        if key.endswith("/" + plan.ASSEMBLED):
            assembled = json.loads(answer[0])
            continue
        doc = plan.read_record(answer[0], f"{store.url} {key}")
        platform = plan.record_platform(doc)
        if doc.get("release") != rid or doc.get("name") != name or key != plan.static_record_key(name, rid, platform):
            raise InputError(f"{store.url} {key}: the record of {doc.get('name')}:{doc.get('release')} "
                             f"{platform} under another key", "publish this part again with --part")
        records[platform] = doc
    return Found(records, assembled)


def check(found: dict[str, Found], name: str, rid: str, platforms: tuple[Platform, ...], tags) -> bool:
    """True when every target already assembled this release under these tags (nothing to do).
    Otherwise every target that has not must hold every platform, and nothing more."""
    if found and all(f.assembled is not None for f in found.values()):
        for url, f in found.items():
            done = set(f.assembled.get("tags", []))
            if not set(tags) <= done:
                raise InputError(f"{url}: release {rid} of {name} was assembled as {', '.join(sorted(done))}; "
                                 "its parts are gone", "publish more tags with `alba static copy --as TAG`")
        return True
    pending = {url: f.records for url, f in found.items() if f.assembled is None}
    missing = plan.missing_parts(pending, platforms)
    if missing:
        raise plan.missing_error(missing, rid, name)
    for url, records in pending.items():
        extra = sorted(str(p) for p in records if p not in platforms)
        if extra:
            raise InputError(f"{url}: release {rid} of {name} also has parts {', '.join(extra)}, not in --platforms",
                             "add them to --platforms, or publish that job under another release id")
    return False


def fetch(store: Store, name: str, rid: str, records: dict[Platform, dict], into: Path, reporter: Reporter) -> None:
    """Every file of the records into `into`, laid out as SRC_DIR, each checked against its record."""
    prefix = plan.static_prefix(name, rid)
    files = [f for doc in records.values() for f in doc["files"]]

    def one(f: dict) -> None:
        path = into / f["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        if _copy_to(store, prefix + f["path"], path) != (f["size"], f["digest"]):
            raise TargetError(f"{store.url} {prefix}{f['path']}: missing or not the file its part record lists",
                              "publish this platform's part again with --part, then assemble")

    with ThreadPoolExecutor(8) as pool:
        for future in [pool.submit(one, f) for f in files]:
            future.result()
    reporter.log(f"fetched {len(files)} part files of release {rid} from {store.url}")


def _copy_to(store: Store, key: str, path: Path) -> tuple[int, str] | None:
    """The object streamed into `path` (release files may be large): its size and sha256, None when missing."""
    h, size = hashlib.sha256(), 0
    with store.open_read(key) as stream:
        if stream is None:
            return None
        with open(path, "wb") as out:
            for piece in stream.chunks:
                h.update(piece)
                size += len(piece)
                out.write(piece)
    return size, "sha256:" + h.hexdigest()


def finish(store: Store, name: str, rid: str, tags, platforms, reporter: Reporter) -> list[str]:
    """The marker first (so that assembling again is a no-op), then every part object."""
    prefix = plan.static_prefix(name, rid)
    marker = compact_json({"name": name, "release": rid, "tags": list(tags), "platforms": [str(p) for p in platforms]})
    store.put(prefix + plan.ASSEMBLED, Body(data=marker), static_plan.JSON, static_plan.NO_CACHE)
    removed = [k for k in store.list(prefix) if k != prefix + plan.ASSEMBLED]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(store.delete, removed))
    reporter.log(f"removed {len(removed)} part objects of release {rid} from {store.url}")
    return removed

