"""The graph a copy walks, as data: what each manifest reaches, which tags are attachments of
which digest, and the order a push writes them in. Pure: no store, no registry.

A copy walks from each tag: the index, its platform manifests, their configs and layers;
then, for every manifest reached, its attachments: cosign's `sha256-<hex>.sig` (`.att`,
`.sbom`) tags and its OCI 1.1 referrers (the referrers API, the `sha256-<hex>` fallback
index, a static registry's `referrers/` file), each walked the same way in turn."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from alba_action.errors import InputError
from alba_action.oci import DOCKER_LIST, OCI_INDEX

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
COSIGN_SUFFIXES = (".sig", ".att", ".sbom")


@dataclass(frozen=True)
class Descriptor:
    digest: str
    size: int
    media_type: str = ""

    @classmethod
    def of(cls, d: dict, where: str) -> "Descriptor":
        try:
            return cls(str(d["digest"]), int(d["size"]), str(d.get("mediaType", "")))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{where}: a descriptor without digest or size", "the source is damaged; "
                             "publish it again") from None


@dataclass(frozen=True)
class Node:
    """One manifest: its exact bytes (copied verbatim: the digest covers them)."""

    digest: str
    data: bytes
    media_type: str


def parse(data: bytes, where: str) -> dict:
    try:
        doc = json.loads(data)
    except ValueError:
        raise InputError(f"{where}: not a JSON manifest", "the source is damaged; publish it again") from None
    if not isinstance(doc, dict):
        raise InputError(f"{where}: not a manifest", "the source is damaged; publish it again")
    return doc


def media_type_of(data: bytes, given: str, where: str) -> str:
    """The manifest's own mediaType, else what the source answered it as."""
    return str(parse(data, where).get("mediaType") or given)


def children(data: bytes, where: str) -> tuple[list[Descriptor], list[Descriptor]]:
    """(manifests, blobs) a manifest points to: an index's manifests; a manifest's config and layers.
    `subject` is not followed: an attachment points back to what it describes."""
    doc = parse(data, where)
    manifests = [Descriptor.of(d, where) for d in doc.get("manifests") or []]
    blobs = [Descriptor.of(d, where) for d in [doc.get("config"), *(doc.get("layers") or [])] if d]
    return manifests, blobs


def cosign_tags(digest: str) -> list[str]:
    """The tags cosign and alba attach to `digest`: signatures, attestations, SBOMs."""
    return [digest.replace(":", "-") + suffix for suffix in COSIGN_SUFFIXES]


def fallback_tag(digest: str) -> str:
    """The OCI 1.1 referrers tag schema: the index of `digest`'s referrers."""
    return digest.replace(":", "-")


def referrer_descriptors(index: bytes | None, where: str) -> list[dict]:
    """The referrers an index lists (the referrers API's answer, or a fallback tag)."""
    if not index:
        return []
    try:
        return [d for d in parse(index, where).get("manifests") or [] if isinstance(d, dict) and d.get("digest")]
    except InputError:
        return []


@dataclass
class Graph:
    """Everything one copy writes, in the order a push writes it."""

    blobs: dict[str, Descriptor] = field(default_factory=dict)
    manifests: dict[str, Node] = field(default_factory=dict)  # children before parents
    attachment_tags: dict[str, Node] = field(default_factory=dict)  # tag → manifest (signatures)
    referrers: dict[str, list[dict]] = field(default_factory=dict)  # subject → referrer descriptors
    releases: dict[str, str] = field(default_factory=dict)  # source tag → its digest

    def add_manifest(self, node: Node) -> None:
        self.manifests.setdefault(node.digest, node)

    def add_blob(self, blob: Descriptor) -> None:
        self.blobs.setdefault(blob.digest, blob)

    def add_referrers(self, subject: str, found: list[dict]) -> None:
        known = {d["digest"]: d for d in self.referrers.get(subject, [])}
        known.update({d["digest"]: d for d in found})
        if known:
            self.referrers[subject] = [known[k] for k in sorted(known)]

    @property
    def size(self) -> int:
        return sum(b.size for b in self.blobs.values()) + sum(len(n.data) for n in self.manifests.values())


def tag_map(source_tags: list[str], as_tags: list[str]) -> dict[str, list[str]]:
    """source tag → the tags it is written under: itself, or the `--as` tags (one source tag only)."""
    if not as_tags:
        return {t: [t] for t in source_tags}
    if len(source_tags) != 1:
        raise InputError(f"--as {' '.join(as_tags)} with {len(source_tags)} source tags "
                         f"({', '.join(source_tags) or 'every tag'})",
                         "promote one tag at a time: give exactly one -t NAME:TAG with --as")
    return {source_tags[0]: list(dict.fromkeys(as_tags))}
