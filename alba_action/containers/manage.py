"""ls, rm and gc for static registries. gc is mark-and-sweep from the tags that remain."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from alba_action.errors import InputError
from alba_action.report.progress import Reporter
from alba_action.containers.attachments import is_attachment, subject_of
from alba_action.releases import gc_victims, newest_first as by_publication
from alba_action.targets.base import ManagedRegistry


@dataclass
class GcResult:
    name: str
    target: str
    removed_tags: list[str] = field(default_factory=list)
    kept_tags: list[str] = field(default_factory=list)
    deleted_manifests: list[str] = field(default_factory=list)
    deleted_blobs: list[str] = field(default_factory=list)
    removed_attachments: list[str] = field(default_factory=list)  # signatures, referrers of removed images
    # Unreferenced, but younger than the grace period: perhaps a push under way.
    kept_young: dict[str, int] = field(default_factory=dict)
    grace_seconds: float | None = None
    dry_run: bool = False

    def to_json(self) -> dict:
        return dict(self.__dict__)


def _static(repo) -> ManagedRegistry:
    if not isinstance(repo, ManagedRegistry):  # an OciRegistry: the registry manages itself
        raise InputError(f"{repo.url}: ls, rm and gc work on static registries (s3://, file://)",
                         "use the registry's own tools (e.g. its API or UI) for docker:// targets")
    repo.check()
    return repo


def newest_first(repo: ManagedRegistry) -> list[str]:
    """Release tags (not signatures or referrers), newest first: a tag is published when its
    object is written (the commit point), and that time orders them."""
    return by_publication({t: when for t, when in repo.tag_times().items() if not is_attachment(t)})


def ls(repo) -> dict:
    repo = _static(repo)
    return {"name": repo.name, "target": repo.url, "tags": newest_first(repo)}


def rm(repo, tags: list[str], reporter: Reporter, dry_run: bool) -> GcResult:
    repo = _static(repo)
    present = set(repo.list_tags())
    for tag in tags:
        if tag not in present:
            raise InputError(f"-t {repo.name}:{tag}: no such tag on {repo.url}",
                             f"`alba container ls -t {repo.name} TARGET` lists the tags")
    result = GcResult(repo.name, repo.url, removed_tags=list(tags), dry_run=dry_run)
    for tag in tags:
        reporter.log(f"{'would delete' if dry_run else 'deleted'} tag {tag}")
        if not dry_run:
            repo.delete_manifest(tag)
    if not dry_run:
        repo.write_tag_list()
    return result


def gc(repo, keep: int, include_releases: bool, reporter: Reporter, dry_run: bool,
       grace_seconds: float = 3600.0) -> GcResult:
    """`grace_seconds`: unreferenced objects younger than this may belong to a push under way."""
    repo = _static(repo)
    tags = newest_first(repo)
    victims = gc_victims(tags, keep, include_releases)
    result = rm(repo, victims, reporter, dry_run) if victims else GcResult(repo.name, repo.url, dry_run=dry_run)
    result.kept_tags = [t for t in tags if t not in victims]
    manifests, blobs = mark(repo, result.kept_tags)
    result.removed_attachments = _attachments(repo, manifests, blobs, reporter, dry_run)
    sweep = _Sweep(repo, reporter, dry_run, grace_seconds)
    result.deleted_manifests = sweep("manifests", manifests, repo.delete_manifest)
    result.deleted_blobs = sweep("blobs", blobs, repo.delete_blob)
    result.kept_young, result.grace_seconds = sweep.young, grace_seconds
    if any(sweep.young.values()):
        reporter.log(f"kept {sweep.young['manifests']} manifests and {sweep.young['blobs']} blobs that no tag "
                     f"reaches but are younger than the grace period ({grace_seconds:g} s; --grace 0 sweeps them)")
    return result


def _attachments(repo: ManagedRegistry, manifests: set[str], blobs: set[str], reporter: Reporter,
                 dry_run: bool) -> list[str]:
    """Attachment tags live and die with their subject: kept (and marked) while a kept tag
    reaches it, removed with it otherwise."""
    removed = []
    for tag in sorted(t for t in repo.list_tags() if is_attachment(t)):
        if subject_of(tag) in manifests:
            more_manifests, more_blobs = mark(repo, [tag])
            manifests |= more_manifests
            blobs |= more_blobs
            continue
        reporter.log(f"{'would delete' if dry_run else 'deleted'} {tag} (its image is gone)")
        if not dry_run:
            repo.delete_manifest(tag)
        removed.append(tag)
    if removed and not dry_run:
        repo.write_tag_list()
    return removed


class _Sweep:
    """Delete what no kept tag reaches and is older than the grace period; say each one."""

    def __init__(self, repo: ManagedRegistry, reporter: Reporter, dry_run: bool, grace_seconds: float) -> None:
        self.repo, self.reporter, self.dry_run = repo, reporter, dry_run
        self.cutoff = time.time() - grace_seconds
        self.young = {"manifests": 0, "blobs": 0}

    def __call__(self, kind: str, marked: set[str], delete) -> list[str]:
        times = self.repo.modified_times(kind)  # one listing, not a request per object
        unreferenced = [d for d in sorted(times) if d.startswith("sha256:") and d not in marked]
        swept = [d for d in unreferenced if times[d] <= self.cutoff]
        self.young[kind] = len(unreferenced) - len(swept)
        for digest in swept:
            self.reporter.log(f"{'would delete' if self.dry_run else 'deleted'} {kind[:-1]} {digest}")
            if not self.dry_run:
                delete(digest)
        return swept


def mark(repo: ManagedRegistry, tags: list[str]) -> tuple[set[str], set[str]]:
    """Manifests and blobs reachable from `tags`: everything another tag or platform still uses."""
    manifests: set[str] = set()
    blobs: set[str] = set()
    pending = list(tags)
    while pending:
        ref = pending.pop()
        got = repo.get_manifest(ref)
        if got is None:
            continue
        doc = json.loads(got[0])
        if ref.startswith("sha256:"):
            manifests.add(ref)
        for child in doc.get("manifests", []):
            if child["digest"] not in manifests:
                pending.append(child["digest"])
        if "config" in doc:
            blobs.add(doc["config"]["digest"])
        blobs.update(layer["digest"] for layer in doc.get("layers", []))
    # A tag's own bytes are also stored under their digest.
    for tag in tags:
        digest = repo.manifest_digest(tag)
        if digest:
            manifests.add(digest)
    return manifests, blobs
