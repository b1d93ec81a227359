"""OCI 1.1 referrers: one artifact manifest per attachment, whose `subject` is the manifest it
describes — never an entry in the image index. Registries without the referrers API
(distribution 2.8) are given the referrers tag schema: an index under `sha256-<hex>` listing
every referrer of `sha256:<hex>`, read, merged and written back, so attachments from another
run or another tool are kept. Static registries also get `v2/NAME/referrers/sha256:<hex>`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from alba_action.digest import sha256_bytes
from alba_action.grammar import compact_json
from alba_action.oci import OCI_INDEX, OCI_MANIFEST

EMPTY = b"{}"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"


@dataclass(frozen=True)
class Attachment:
    artifact_type: str  # application/vnd.in-toto+json, application/spdx+json, …
    media_type: str  # of the blob: a DSSE envelope, the SBOM itself
    data: bytes
    annotations: dict


def artifact_manifest(attachment: Attachment, subject: dict) -> bytes:
    """`subject`: the descriptor (mediaType, digest, size) of the manifest it describes."""
    return compact_json({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": attachment.artifact_type,
        "config": {"mediaType": EMPTY_TYPE, "digest": sha256_bytes(EMPTY), "size": len(EMPTY)},
        "layers": [{"mediaType": attachment.media_type, "digest": sha256_bytes(attachment.data),
                    "size": len(attachment.data)}],
        "subject": subject,
        "annotations": dict(sorted(attachment.annotations.items())),
    })


def fallback_tag(subject_digest: str) -> str:
    return subject_digest.replace(":", "-")


def merged_index(current: bytes | None, added: list[dict]) -> bytes:
    """The referrers index with `added` descriptors, keeping every other referrer (by digest)."""
    entries: dict[str, dict] = {}
    if current:
        try:
            for d in json.loads(current).get("manifests", []):
                entries[d["digest"]] = d
        except (ValueError, KeyError, AttributeError):
            pass  # not an index: replaced by ours
    for d in added:
        entries[d["digest"]] = d
    return compact_json({"schemaVersion": 2, "mediaType": OCI_INDEX,
                         "manifests": [entries[k] for k in sorted(entries)]})


def descriptor(manifest: bytes, attachment: Attachment) -> dict:
    return {"mediaType": OCI_MANIFEST, "digest": sha256_bytes(manifest), "size": len(manifest),
            "artifactType": attachment.artifact_type, "annotations": dict(sorted(attachment.annotations.items()))}


def attach(repo, subject: dict, attachments: list[Attachment], reporter) -> list[dict]:
    """Push each attachment's blobs and manifest, then merge them into the subject's referrers."""
    added = []
    for attachment in attachments:
        for data, media_type in ((EMPTY, EMPTY_TYPE), (attachment.data, attachment.media_type)):
            digest = sha256_bytes(data)
            if not repo.blob_exists(digest):
                repo.put_blob(digest, len(data), media_type, None, data)
        manifest = artifact_manifest(attachment, subject)
        digest = sha256_bytes(manifest)
        if repo.manifest_digest(digest) != digest:
            repo.put_manifest(digest, manifest, OCI_MANIFEST)
        added.append(descriptor(manifest, attachment))
        reporter.log(f"[referrer] {attachment.artifact_type} {digest} -> {subject['digest']}")
    tag = fallback_tag(subject["digest"])
    current = repo.get_manifest(tag)
    index = merged_index(current[0] if current else None, added)
    if not current or current[0] != index:
        repo.put_manifest(tag, index, OCI_INDEX)
    if hasattr(repo, "put_referrers"):  # a static registry: the referrers API as a file too
        repo.put_referrers(subject["digest"], index)
    return [{"subject": subject["digest"], "artifactType": d["artifactType"], "digest": d["digest"]} for d in added]
