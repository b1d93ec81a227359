"""Pure planning of parts: release ids, `--platforms`, part keys and records, the assemble check.

A part is content only (files under a part prefix; blobs and platform manifests by digest)
plus one small record per platform, written last: the record is the part's commit point.
Records of one release id have one key per platform, so two jobs' parts never touch the
same key and a retried job replaces its own record (no conditional writes needed).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from alba_action.errors import InputError
from alba_action.grammar import compact_json
from alba_action.platforms import Platform, parse_platform

STATIC_ROOT = "df-dist-v1/_parts"  # `_parts` is no NAME (names start with [a-z0-9]): never listed as one
RECORD = "application/vnd.dev.alba.part.v1+json"
ASSEMBLED = "assembled.json"  # left by assemble in place of the parts, so that assembling again is a no-op
RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # a key segment and part of an OCI tag


def check_release_id(value: str, where: str) -> str:
    if not RELEASE_ID.match(value):
        raise InputError(f"{where}: {value!r} is not a release id",
                         "use up to 64 ASCII letters, digits, '.', '_' or '-' (the CI run's id is one)")
    return value


def release_id(given: str, ctx, where: str) -> str:
    """The release id given, else the CI run's id (GitHub/Forgejo, Woodpecker, Drone)."""
    value = given or (getattr(ctx, "run_id", "") if ctx is not None else "")
    if not value:
        raise InputError(f"{where} is required outside a CI run (no GITHUB_RUN_ID, CI_PIPELINE_NUMBER or "
                         "DRONE_BUILD_NUMBER here)",
                         f"give every part and the assemble step the same {where} ID, e.g. the pipeline's number")
    return check_release_id(value, where)


def parse_platforms(text: str, where: str) -> tuple[Platform, ...]:
    """`linux/amd64,linux/arm64` (commas, spaces or lines) → platforms in the one platform order."""
    words = [w for w in re.split(r"[\s,]+", text) if w]
    if not words:
        raise InputError(f"{where}: no platform given", "list the release's platforms, e.g. linux/amd64,linux/arm64")
    platforms = [parse_platform(w, where, sep="/") for w in words]
    doubled = sorted({str(p) for p in platforms if platforms.count(p) > 1})
    if doubled:
        raise InputError(f"{where}: {', '.join(doubled)} given twice", "name each platform once")
    return tuple(sorted(platforms, key=Platform.sort_key))


def dotted(platform: Platform) -> str:
    return ".".join(p for p in (platform.os, platform.architecture, platform.variant) if p)


def static_prefix(name: str, rid: str) -> str:
    return f"{STATIC_ROOT}/{name}/{rid}/"


def static_record_key(name: str, rid: str, platform: Platform) -> str:
    return f"{static_prefix(name, rid)}{dotted(platform)}.json"


@dataclass(frozen=True)
class PartFile:
    path: str  # relative to the part prefix, as in SRC_DIR: `linux/amd64/bin/app`, `linux/amd64.spdx.json`
    size: int
    digest: str

    def to_json(self) -> dict:
        return {"path": self.path, "size": self.size, "digest": self.digest}


def static_record(name: str, rid: str, platform: Platform, resources: list[dict], files: list[PartFile]) -> bytes:
    """The part record of one platform folder: its flavor entry (as the tag document will list
    it) and every file of the part (the folder's files and the build's SBOM beside it)."""
    return compact_json({"name": name, "release": rid, "platform": platform.to_json(),
                         "resources": resources, "files": [f.to_json() for f in files]})


def read_record(data: bytes, where: str) -> dict:
    try:
        doc = json.loads(data)
        doc["platform"], doc["files"]  # noqa: B018 — the fields assemble needs
        return doc
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{where}: not a part record alba wrote", "publish this part again with --part") from None


def record_platform(doc: dict) -> Platform:
    p = doc["platform"]
    return Platform(p["os"], p["architecture"], p.get("variant"))


@dataclass(frozen=True)
class Missing:
    target: str
    platform: Platform

    def __str__(self) -> str:
        return f"{self.target} has no part {self.platform}"


def missing_parts(found: dict[str, dict[Platform, object | None]], platforms: tuple[Platform, ...]) -> list[Missing]:
    """Every (target, platform) of `platforms` without a record, targets in the order given."""
    return [Missing(target, p) for target, records in found.items() for p in platforms if records.get(p) is None]


def missing_error(missing: list[Missing], rid: str, name: str) -> InputError:
    listed = "; ".join(str(m) for m in missing)
    return InputError(f"release {rid} of {name} is not complete: {listed}; nothing was assembled",
                      "run the missing platforms' jobs with --part and the same --release-id, then assemble again")
