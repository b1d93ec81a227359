"""Pure df-dist-v1 planning: object keys, the tag and name documents, rm and gc plans."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from alba_action.errors import TargetError
from alba_action.grammar import compact_json, is_tag
from alba_action.static.scan import PlatformFolder

ROOT = "df-dist-v1"
JSON = "application/json"
NO_CACHE = "no-cache"
# Files under a tag never change once the tag is published; caches may keep them a while.
FILE_CACHE = "public, max-age=300"


def name_key(name: str) -> str:
    return f"{ROOT}/{name}"


def tag_key(name: str, tag: str) -> str:
    return f"{ROOT}/{name}/{tag}"


def file_key(name: str, tag: str, flavor: PlatformFolder, path: str) -> str:
    return f"{tag_key(name, tag)}/{flavor.platform}/{path}"


def dumps(doc: dict) -> bytes:
    """Compact JSON as the original tool wrote it."""
    return compact_json(doc)


def tag_document(flavors: list[PlatformFolder], published: str | None = None, extra: dict | None = None,
                 signed: bool = False) -> dict:
    """The original fields in their order, then alba's optional ones: `published`, and
    `checksums` / per-resource `signature` (docs/formats.md)."""
    def resource(r) -> dict:
        out = {"path": r.path, "size": r.size, "digest": r.digest}
        if signed:
            out["signature"] = r.path + ".minisig"
        return out

    doc: dict = {
        "flavors": [
            {"resources": [resource(r) for r in f.resources], "platform": f.platform.to_json()}
            for f in flavors
        ]
    }
    if published:
        doc["published"] = published
    doc.update(extra or {})
    return doc


def publication_times(tags: list[str], now: datetime) -> dict[str, str]:
    """When each tag of one push is published: `now` for the first -t tag, one microsecond
    earlier for each next one, so that the name document keeps the order they were given in."""
    base = now.astimezone(timezone.utc)
    return {tag: iso_micro(base - timedelta(microseconds=i)) for i, tag in enumerate(tags)}


def iso_micro(moment: datetime) -> str:
    """UTC with microseconds and a Z: fixed width, so the strings sort as the times do."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def published_of(tag_doc: bytes) -> str | None:
    """The tag document's `published` time, None when absent (older documents) or unreadable."""
    try:
        value = json.loads(tag_doc).get("published")
    except (ValueError, AttributeError):
        return None
    return value if is_published(value) else None


def is_published(value) -> bool:
    """A `published` time as alba writes it (iso_micro)."""
    return isinstance(value, str) and len(value) == 27 and value.endswith("Z")


def checked_tags(tags: list[str], name: str, store_url: str) -> list[str]:
    """The tags of a name document, each a valid tag: one that is not (`../x`, `/etc`) would
    become a key outside the name's folder, so it is reported and nothing is done."""
    bad = [t for t in tags if not is_tag(t)]
    if bad:
        raise TargetError(f"{name_key(name)} on {store_url} lists {bad[0][:100]!r}, which is not a tag: "
                          "the name document is corrupt; nothing was changed",
                          f"delete {name_key(name)} (alba rebuilds it from the tag documents on the next push "
                          "or rm), or remove that entry")
    return tags


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


def tag_of(key: str, name: str) -> str | None:
    """The tag whose document `key` is (`df-dist-v1/NAME/TAG`), else None."""
    prefix = f"{ROOT}/{name}/"
    if key.startswith(prefix) and "/" not in key[len(prefix):] and key[len(prefix):] != "index.html":
        return key[len(prefix):]  # index.html is the download page, not a tag
    return None
