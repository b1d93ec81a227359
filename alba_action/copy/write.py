"""Write a checked image graph to one target in the order a push writes it: blobs, platform
manifests, indexes, signatures, referrers, then the tags (the commit point) and, on a
static registry, tags/list."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from alba_action.attest.referrers import merged_index
from alba_action.copy.graph import Node, fallback_tag
from alba_action.copy.images import PARALLEL_BLOBS, SourceReader, mountable
from alba_action.digest import sha256_bytes
from alba_action.images import signatures as sigs
from alba_action.images.attachments import subject_of
from alba_action.oci import OCI_INDEX
from alba_action.report.progress import Reporter, human_size


@dataclass
class TargetCopy:
    """What one target was given."""

    target: str
    tags: dict[str, str] = field(default_factory=dict)  # tag → digest
    pushed_blobs: list[str] = field(default_factory=list)
    mounted_blobs: list[str] = field(default_factory=list)
    existing_blobs: list[str] = field(default_factory=list)
    pushed_manifests: list[str] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)  # signature and referrers tags written
    unchanged_tags: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def write_target(index: int, target, reader: SourceReader, tags: dict[str, list[str]], reporter: Reporter,
                 referrers: bool = True) -> TargetCopy:
    graph = reader.graph
    done = TargetCopy(target.url)
    reporter.log(f"-- copy to {target.url} --")
    _blobs(target, reader, reader.missing.get(index, set()), reporter, done)
    attached = {d["digest"] for found in graph.referrers.values() for d in found}
    _manifests(target, [n for d, n in graph.manifests.items() if d not in attached], reporter, done)
    if referrers:  # as a push: signatures, then the referrers, before any tag
        for tag, node in graph.attachment_tags.items():
            if _attachment_tag(target, tag, node, reporter):
                done.attachments.append(tag)
        _manifests(target, [n for d, n in graph.manifests.items() if d in attached], reporter, done)
        for subject, found in graph.referrers.items():
            if _referrers(target, subject, found, reporter):
                done.attachments.append(fallback_tag(subject))
    for source_tag, new_tags in tags.items():  # the commit point, on this target
        digest = graph.releases[source_tag]
        node = graph.manifests[digest]
        for tag in new_tags:
            done.tags[tag] = digest
            if target.manifest_digest(tag) == digest:
                done.unchanged_tags.append(tag)
                reporter.log(f"[tag] {tag} unchanged ({digest})")
            else:
                target.put_manifest(tag, node.data, node.media_type)
                reporter.log(f"[tag] {tag} -> {digest}")
    target.finish(list(done.tags))
    return done


def _manifests(target, nodes: list[Node], reporter: Reporter, done: TargetCopy) -> None:
    for node in nodes:
        if target.manifest_digest(node.digest) == node.digest:
            continue
        target.put_manifest(node.digest, node.data, node.media_type)
        done.pushed_manifests.append(node.digest)
        reporter.log(f"[manifest] pushed manifest {node.digest}")


def _blobs(target, reader: SourceReader, missing: set[str], reporter: Reporter, done: TargetCopy) -> None:
    def one(digest: str) -> None:
        blob = reader.graph.blobs[digest]
        if digest not in missing:
            done.existing_blobs.append(digest)
            reporter.log(f"[blob] existing blob {digest}")
            return
        if mountable(reader.source, target) and target.mount_blob(digest, reader.source.name):
            done.mounted_blobs.append(digest)
            reporter.log(f"[blob] mounted blob {digest} from {reader.source.name}")
            return
        path = reader.stage(blob)  # already read unless a mount was expected
        with reporter.transfer(f"[blob] pushed blob {digest}", blob.size) as progress:
            target.put_blob(digest, blob.size, blob.media_type, path, None, progress)
        done.pushed_blobs.append(digest)

    with ThreadPoolExecutor(PARALLEL_BLOBS) as pool:
        for future in [pool.submit(one, d) for d in reader.graph.blobs]:
            future.result()  # a failed blob stops before any manifest is written


def _attachment_tag(target, tag: str, node: Node, reporter: Reporter) -> bool:
    """A cosign tag: copied as it is, or, where the target has other signatures under it,
    merged with them (as a push keeps signatures by other keys)."""
    current = target.get_manifest(tag)
    if current and current[0] == node.data:
        reporter.log(f"[signature] {tag} unchanged")
        return False
    data = node.data
    if current and tag.endswith(".sig"):
        data = _merged_signatures(target, subject_of(tag), current[0], node.data)
        if data == current[0]:
            reporter.log(f"[signature] {tag} unchanged")
            return False
    target.put_manifest(tag, data, node.media_type)
    reporter.log(f"[signature] {tag} -> {sha256_bytes(data)}")
    return True


def _merged_signatures(target, subject: str, current: bytes, ours: bytes) -> bytes:
    """The target's signature layers, then ours that it lacks; the new config blob sent
    (our payload blobs are on the target already: they were copied with the graph)."""
    have = sigs.existing_layers(current, target.get_blob)
    extra = [layer for layer in sigs.existing_layers(ours, target.get_blob) if layer not in have]
    if not extra:
        return current
    image = sigs.signature_image([*have, *extra], subject)
    config = sha256_bytes(image.config)
    if not target.blob_exists(config):
        target.put_blob(config, len(image.config), sigs.OCI_CONFIG, None, image.config)
    return image.manifest


def _referrers(target, subject: str, found: list[dict], reporter: Reporter) -> bool:
    """The subject's referrers merged into the target's fallback index (and a static
    registry's referrers file); a registry with the OCI 1.1 API indexes them by `subject` itself."""
    tag = fallback_tag(subject)
    current = target.get_manifest(tag)
    index = merged_index(current[0] if current else None, found)
    changed = not current or current[0] != index
    if changed:
        target.put_manifest(tag, index, OCI_INDEX)
        reporter.log(f"[referrer] {tag} -> {len(json.loads(index)['manifests'])} referrers of {subject}")
    if hasattr(target, "put_referrers"):
        target.put_referrers(subject, index)
    return changed


def plan_lines(reader: SourceReader, index: int, target, tags: dict[str, list[str]], referrers: bool) -> list[str]:
    """What a dry run prints for one target: every object it would write, in order."""
    graph, missing = reader.graph, reader.missing.get(index, set())
    how = "mount" if mountable(reader.source, target) else "push"
    lines = [f"would {how} blob {d} ({human_size(b.size)})" if d in missing else f"existing blob {d}"
             for d, b in graph.blobs.items()]
    lines += [f"would push manifest {n.digest} ({n.media_type})" for n in graph.manifests.values()]
    if referrers:
        lines += [f"would write {tag} -> {n.digest}" for tag, n in graph.attachment_tags.items()]
        lines += [f"would merge {len(r)} referrers of {s} into {fallback_tag(s)}" for s, r in graph.referrers.items()]
    for source_tag, new_tags in tags.items():
        lines += [f"would tag {t} -> {graph.releases[source_tag]}" for t in new_tags]
    return lines
