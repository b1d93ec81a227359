"""When alba published a tag on a docker:// registry, recorded without touching any image
digest: one OCI 1.1 referrer of the index per tag written, artifact type
`application/vnd.dev.alba.published.v1+json`, annotations `dev.alba.tag` and
`dev.alba.published` (UTC, microseconds). It sits in the index's referrers fallback tag
`sha256-<hex>` beside provenance and SBOMs, and goes with the index when gc deletes it.

Static registries need no record: a tag object is written when alba publishes the tag (and
not rewritten when it already names the index), so its modification time is the record."""

from __future__ import annotations

import datetime
import json

from alba_action.attest.referrers import Attachment, attach, fallback_tag
from alba_action.grammar import compact_json

PUBLISHED_TYPE = "application/vnd.dev.alba.published.v1+json"
TAG_KEY = "dev.alba.tag"
WHEN_KEY = "dev.alba.published"


def now_text() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(repo, index: dict, tags: list[str], reporter) -> None:
    """`index`: the descriptor (mediaType, digest, size) the `tags` are about to name."""
    when = now_text()
    records = [Attachment(PUBLISHED_TYPE, PUBLISHED_TYPE, compact_json({"tag": tag, "published": when}),
                          {TAG_KEY: tag, WHEN_KEY: when}) for tag in tags]
    if records:
        attach(repo, index, records, _Quiet(reporter, tags, when))


class _Quiet:
    """One trace line for all the records instead of one per referrer."""

    def __init__(self, reporter, tags: list[str], when: str) -> None:
        self.reporter, self.tags, self.when, self.said = reporter, tags, when, False

    def log(self, _line: str) -> None:
        if not self.said:
            self.said = True
            self.reporter.log(f"[published] {', '.join(self.tags)} at {self.when} (a referrer of the index)")


def seconds(text: str) -> float | None:
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
    except (TypeError, ValueError):
        return None


def read(repo, digest_of: dict[str, str], present: set[str]) -> dict[str, float | None]:
    """tag → when alba published it, from the records of the digest it names now (None when
    there is none: a tag another tool wrote, or one written before alba recorded it).
    `present`: every tag of the repository (fallback tags are read only where they exist)."""
    out: dict[str, float | None] = {tag: None for tag in digest_of}
    for digest in sorted(set(digest_of.values())):
        if fallback_tag(digest) not in present:
            continue
        got = repo.get_manifest(fallback_tag(digest))
        try:
            entries = json.loads(got[0]).get("manifests", []) if got else []
        except ValueError:
            continue
        for entry in entries:
            notes = entry.get("annotations") or {}
            tag = notes.get(TAG_KEY)
            if entry.get("artifactType") == PUBLISHED_TYPE and digest_of.get(tag) == digest:
                when = seconds(notes.get(WHEN_KEY))
                if when is not None and (out[tag] is None or when > out[tag]):
                    out[tag] = when
    return out
