"""gc of an image repository — a static registry or a docker:// registry — by a retention
policy: plan (pure data, what `--dry-run` prints), then execute exactly that plan, then
prove that every kept tag is still whole.

The graph: a tag names an index (or a manifest); an index names platform manifests; a
manifest names its config and layers. Attachment tags (`sha256-<hex>.sig`, the referrers
fallback `sha256-<hex>`) live while their subject is reachable from a kept tag, and the
referrers they list with them. Nothing reachable from a kept tag is ever deleted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from alba_action.digest import sha256_bytes
from alba_action.errors import TargetError
from alba_action.images.attachments import is_attachment, subject_of
from alba_action.report.progress import Reporter
from alba_action.retention import Decision, Policy, decide
from alba_action.version_order import newest_first, semver_key


@dataclass
class Graph:
    """What a set of refs reaches, and what of it is missing."""

    manifests: set[str] = field(default_factory=set)
    blobs: set[str] = field(default_factory=set)
    missing: list[str] = field(default_factory=list)


def walk(repo, refs, graph: Graph | None = None) -> Graph:
    """Manifests (by digest) and blobs reachable from `refs` (tags or digests)."""
    graph = graph or Graph()
    pending = list(refs)
    seen: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in seen:
            continue
        seen.add(ref)
        got = repo.get_manifest(ref)
        if got is None:
            graph.missing.append(f"manifest {ref}")
            continue
        graph.manifests.add(sha256_bytes(got[0]))
        try:
            doc = json.loads(got[0])
        except ValueError:
            continue
        pending += [c["digest"] for c in doc.get("manifests", []) if c.get("digest") not in graph.manifests]
        if "config" in doc:
            graph.blobs.add(doc["config"]["digest"])
        graph.blobs.update(layer["digest"] for layer in doc.get("layers", []))
    return graph


def mark(repo, kept: list[str], attachment_tags: list[str]) -> tuple[Graph, list[str]]:
    """The graph of the kept tags and of the attachments of anything in it (to a fixed point:
    a signature of a referrer counts too); returns it and the attachment tags it keeps."""
    graph = walk(repo, kept)
    keeping: list[str] = []
    grew = True
    while grew:
        grew = False
        for tag in attachment_tags:
            if tag not in keeping and subject_of(tag) in graph.manifests:
                keeping.append(tag)
                walk(repo, [tag], graph)
                grew = True
    return graph, sorted(keeping)


@dataclass
class GcResult:
    name: str
    target: str
    removed_tags: list[str] = field(default_factory=list)
    kept_tags: list[str] = field(default_factory=list)
    deleted_manifests: list[str] = field(default_factory=list)
    deleted_blobs: list[str] = field(default_factory=list)
    removed_attachments: list[str] = field(default_factory=list)  # signatures, referrers of removed images
    deleted_referrers: list[str] = field(default_factory=list)  # static v2/NAME/referrers/<digest>
    # Tags the policy would remove but whose digest a kept tag also names (registries delete by digest).
    left_tags: dict[str, str] = field(default_factory=dict)
    kept: dict[str, list[str]] = field(default_factory=dict)  # tag → the rules that keep it
    policy: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # the plan, in the order it is carried out
    validation: dict = field(default_factory=dict)
    # Unreferenced, but younger than the grace period: perhaps a push under way.
    kept_young: dict[str, int] = field(default_factory=dict)
    grace_seconds: float | None = None
    dry_run: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _say(reporter: Reporter, dry_run: bool, what: str) -> None:
    reporter.log(f"{'would delete' if dry_run else 'deleted'} {what}")


def _decide(result: GcResult, tags: list[str], published: dict, policy: Policy, reporter: Reporter) -> Decision:
    decision = decide(tags, published, time.time(), policy)
    result.kept, result.warnings, result.policy = decision.kept, decision.warnings, policy.to_json()
    for warning in decision.warnings:
        reporter.log(f"⚠ {warning}")
    reporter.log(f"keeping {len(decision.kept)} of {len(tags)} tags: " + kept_line(decision.kept))
    return decision


def kept_line(kept: dict[str, list[str]], shown: int = 20) -> str:
    """`a (keep 3), b (release), … and 40 more`: what the trace says of the kept tags."""
    line = ", ".join(f"{t} ({'; '.join(why)})" for t, why in list(kept.items())[:shown]) or "none"
    return line + (f" and {len(kept) - shown} more (--json lists them)" if len(kept) > shown else "")


# --- static registries ------------------------------------------------------------------


def gc_static(repo, policy: Policy, reporter: Reporter, dry_run: bool, grace_seconds: float) -> GcResult:
    repo.check()
    times = repo.tag_times()
    tags = newest_first({t: w for t, w in times.items() if not is_attachment(t)})
    result = GcResult(repo.name, repo.url, dry_run=dry_run, grace_seconds=grace_seconds)
    decision = _decide(result, tags, times, policy, reporter)
    result.removed_tags, result.kept_tags = decision.victims, list(decision.kept)
    attachments = [t for t in times if is_attachment(t)]
    graph, keeping = mark(repo, result.kept_tags, attachments)
    if graph.missing:
        raise TargetError(f"{repo.url}: kept tags are already broken before gc ({', '.join(graph.missing[:5])})",
                          "nothing was deleted; publish the broken tags again, then run gc")
    result.removed_attachments = [t for t in sorted(attachments) if t not in keeping]
    cutoff = time.time() - grace_seconds
    plan: dict[str, list[str]] = {}
    stored_manifests = repo.modified_times("manifests")
    for kind, marked in (("manifests", graph.manifests), ("blobs", graph.blobs)):
        stored = stored_manifests if kind == "manifests" else repo.modified_times(kind)
        unreferenced = [d for d in sorted(stored) if d.startswith("sha256:") and d not in marked]
        plan[kind] = [d for d in unreferenced if stored[d] <= cutoff]
        result.kept_young[kind] = len(unreferenced) - len(plan[kind])
    present = set(stored_manifests)
    gone = set(plan["manifests"])
    result.deleted_referrers = [d for d in sorted(repo.modified_times("referrers"))
                                if d in gone or (d not in present and d not in graph.manifests)]
    result.deleted_manifests, result.deleted_blobs = plan["manifests"], plan["blobs"]
    base = f"v2/{repo.name}"
    result.deleted = ([f"{base}/manifests/{t}" for t in result.removed_tags + result.removed_attachments]
                      + [f"{base}/referrers/{d}" for d in result.deleted_referrers]
                      + [f"{base}/manifests/{d}" for d in result.deleted_manifests]
                      + [f"{base}/blobs/{d}" for d in result.deleted_blobs])
    _execute_static(repo, result, reporter, dry_run)
    if any(result.kept_young.values()):
        reporter.log(f"kept {result.kept_young['manifests']} manifests and {result.kept_young['blobs']} blobs that "
                     f"no tag reaches but are younger than the grace period ({grace_seconds:g} s; --grace 0 "
                     "sweeps them)")
    result.validation = validate(repo, result.kept_tags, keeping, set(result.deleted_manifests),
                                 set(result.deleted_blobs), reporter, blobs=set(repo.modified_times("blobs")))
    return result


def _execute_static(repo, result: GcResult, reporter: Reporter, dry_run: bool) -> None:
    """Tags first (readers stop seeing them), then what only they reached."""
    for tag in result.removed_tags:
        _say(reporter, dry_run, f"tag {tag}")
        if not dry_run:
            repo.delete_manifest(tag)
    for tag in result.removed_attachments:
        _say(reporter, dry_run, f"{tag} (its image is gone)")
        if not dry_run:
            repo.delete_manifest(tag)
    if not dry_run and (result.removed_tags or result.removed_attachments):
        repo.write_tag_list()
    for digest in result.deleted_referrers:
        _say(reporter, dry_run, f"referrers/{digest}")
        if not dry_run:
            repo.store.delete(f"v2/{repo.name}/referrers/{digest}")
    for digest in result.deleted_manifests:
        _say(reporter, dry_run, f"manifest {digest}")
        if not dry_run:
            repo.delete_manifest(digest)
    for digest in result.deleted_blobs:
        _say(reporter, dry_run, f"blob {digest}")
        if not dry_run:
            repo.delete_blob(digest)


def validate(repo, tags: list[str], attachments: list[str], deleting_manifests: set[str],
             deleting_blobs: set[str], reporter: Reporter, blobs: set[str] | None = None) -> dict:
    """Every manifest, child and blob of every kept tag and attachment is present (and not
    planned for deletion, in a dry run); `blobs`: the blobs present, when one listing says it."""
    graph = walk(repo, tags + attachments)
    missing = list(graph.missing) + [f"manifest {d}" for d in sorted(graph.manifests & deleting_manifests)]
    for digest in sorted(graph.blobs):
        there = digest in blobs if blobs is not None else repo.blob_exists(digest)
        if not there or digest in deleting_blobs:
            missing.append(f"blob {digest}")
    out = {"tags": len(tags), "attachments": len(attachments), "manifests": len(graph.manifests),
           "blobs": len(graph.blobs), "whole": not missing}
    if missing:
        out["missing"] = missing
        raise TargetError(f"{repo.url}: after gc, kept tags are not whole: {', '.join(missing[:5])}",
                          "publish those tags again; and report this: gc must never break a kept tag")
    reporter.log(f"validated: {len(tags)} kept tags whole, with {len(attachments)} signature and referrer tags "
                 f"({len(graph.manifests)} manifests, {len(graph.blobs)} blobs present)")
    return out


# --- docker:// registries -------------------------------------------------------------


def gc_registry(repo, policy: Policy, reporter: Reporter, dry_run: bool) -> GcResult:
    """Deletes go through the registry API, by digest. Blobs are left to the registry's own
    garbage collection (`registry garbage-collect`), which frees what no manifest names."""
    from alba_action.images import published

    repo.check()
    present = repo.list_tags()
    digest_of = {t: d for t in present if not is_attachment(t) and (d := repo.manifest_digest(t))}
    releases = list(digest_of)  # a tag deleted meanwhile is no longer there to judge
    times = published.read(repo, digest_of, set(present))
    by_version = sorted(releases, key=lambda t: (semver_key(t) is not None, semver_key(t) or (), t), reverse=True)
    tags = newest_first({t: times.get(t) for t in releases}, by_version)
    result = GcResult(repo.name, repo.url, dry_run=dry_run)
    decision = _decide(result, tags, times, policy, reporter)
    attachments = [t for t in present if is_attachment(t)]
    graph, keeping = mark(repo, list(decision.kept), attachments)
    # A registry deletes by digest, with every tag naming it: a digest a kept tag reaches stays.
    by_digest = {digest_of[t]: t for t in reversed(list(decision.kept))}
    result.left_tags = {t: by_digest.get(digest_of[t], "another kept tag's index") for t in decision.victims
                        if digest_of[t] in graph.manifests}
    for tag, other in result.left_tags.items():
        reporter.log(f"left tag {tag}: it names the same image as kept tag {other}, and a registry deletes "
                     "manifests by digest (every tag naming it would go)")
    result.removed_tags = [t for t in decision.victims if t not in result.left_tags]
    result.kept_tags = list(decision.kept) + list(result.left_tags)
    if graph.missing:
        raise TargetError(f"{repo.url}: kept tags are already broken before gc ({', '.join(graph.missing[:5])})",
                          "nothing was deleted; publish the broken tags again, then run gc")
    result.removed_attachments = sorted(t for t in attachments if t not in keeping)
    doomed = walk(repo, [digest_of[t] for t in result.removed_tags] + result.removed_attachments)
    order = [digest_of[t] for t in result.removed_tags]  # indexes first: their tags go with them
    order += [d for d in sorted(doomed.manifests) if d not in order]
    result.deleted_manifests = [d for d in dict.fromkeys(order) if d not in graph.manifests]
    result.deleted = [f"{repo.name}@{d}" for d in result.deleted_manifests]
    if result.deleted_manifests:
        # A registry that refuses deletes: the error before anything is lost (in a dry run
        # too; the question deletes nothing).
        repo.check_deletes()
    for digest in result.deleted_manifests:
        _say(reporter, dry_run, f"manifest {digest}")
        if not dry_run:
            repo.delete_manifest(digest)
    result.validation = validate(repo, result.kept_tags, keeping, set(result.deleted_manifests), set(), reporter)
    return result
