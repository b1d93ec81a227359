"""Pure df-dist-v1 planning: object keys, the tag and name documents, rm and gc plans."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from alba_action.grammar import compact_json
from alba_action.static.scan import PlatformFolder

ROOT = "df-dist-v1"
JSON = "application/json"
NO_CACHE = "no-cache"
# Files under a tag never change once the tag is published; caches may keep them a while.
FILE_CACHE = "public, max-age=300"
RELEASE_RE = re.compile(r"v?[0-9]+\.[0-9]+\.[0-9]+")


def name_key(name: str) -> str:
    return f"{ROOT}/{name}"


def tag_key(name: str, tag: str) -> str:
    return f"{ROOT}/{name}/{tag}"


def file_key(name: str, tag: str, flavor: PlatformFolder, path: str) -> str:
    return f"{tag_key(name, tag)}/{flavor.platform}/{path}"


def dumps(doc: dict) -> bytes:
    """Compact JSON as the original tool wrote it."""
    return compact_json(doc)


def tag_document(flavors: list[PlatformFolder]) -> dict:
    return {
        "flavors": [
            {
                "resources": [{"path": r.path, "size": r.size, "digest": r.digest} for r in f.resources],
                "platform": f.platform.to_json(),
            }
            for f in flavors
        ]
    }


def name_document(name: str, tags: list[str]) -> dict:
    return {"name": name, "tags": tags}


@dataclass(frozen=True)
class Upload:
    tag: str
    source: str
    key: str
    size: int
    digest: str
    flavor: PlatformFolder
    path: str


def uploads(name: str, tags: list[str], flavors: list[PlatformFolder]) -> list[Upload]:
    return [
        Upload(tag, str(r.source), file_key(name, tag, f, r.path), r.size, r.digest, f, r.path)
        for tag in tags
        for f in flavors
        for r in f.resources
    ]


def published_files(tag_doc: bytes) -> dict[tuple[str, str], tuple[int, str]]:
    """(platform, path) → (size, digest) from an existing tag document; {} when unreadable."""
    try:
        flavors = json.loads(tag_doc).get("flavors", [])
        return {
            ("/".join(p for p in (f["platform"]["os"], f["platform"]["architecture"], f["platform"].get("variant")) if p),
             r["path"]): (r.get("size"), r.get("digest"))
            for f in flavors for r in f["resources"]
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        return {}


def merged_tags(current: list[str], front: list[str], known: set[str], removed: set[str]) -> list[str]:
    """The name document's list: `front` first (newest), then what was there, then tags whose
    documents exist but were lost by a concurrent writer; never the ones being removed."""
    out: list[str] = []
    for tag in [*front, *current, *sorted(known)]:
        if tag not in out and tag not in removed:
            out.append(tag)
    return out


def is_release(tag: str) -> bool:
    return bool(RELEASE_RE.fullmatch(tag))


def gc_victims(tags: list[str], keep: int, include_releases: bool) -> list[str]:
    """Tags beyond the `keep` newest; releases are neither counted nor removed unless included."""
    candidates = tags if include_releases else [t for t in tags if not is_release(t)]
    return candidates[keep:]


def tag_of(key: str, name: str) -> str | None:
    """The tag whose document `key` is (`df-dist-v1/NAME/TAG`), else None."""
    prefix = f"{ROOT}/{name}/"
    if key.startswith(prefix) and "/" not in key[len(prefix):]:
        return key[len(prefix):]
    return None
