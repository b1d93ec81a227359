"""One publish, for the command line and the CI step: request → gather → plan → execute → result.

1. gather: open every target (parse URLs; no I/O), scan the static folder (hashes every
   file and fails on a bad layout), check that every target answers, load every platform
   image once (compressed into the cache, checked against its file name; the load starts
   first and runs beside the checks, which stop it when one fails);
2. plan: the tag document and file keys, the index built from the images and the
   annotations asked for (never the tag names) — data, which `--dry-run` prints;
3. execute: the plan against each target in turn, in SPEC order (files, documents, the
   name document; blobs, manifests, the index, tags last);
4. result: one PublishResult that the edges render as the trace, `--json`, step outputs
   and the job summary.
Nothing here reads the environment or argparse: the request carries everything.
"""

from __future__ import annotations

import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import ContextManager, Protocol

from alba_action.images import publish as image_publish
from alba_action.images.publish import ContainerResult
from alba_action.targets.open import open_repository
from alba_action.errors import InputError
from alba_action.version_order import is_floating
from alba_action.attest import plan as attest_plan, sbom
from alba_action.images.model import Manifest, PlatformImage
from alba_action.images.inputs import find_archives
from alba_action.pages.publish import write_pages
from alba_action.report.progress import Reporter
from alba_action.request import PublishRequest
from alba_action.static import publish as static_publish
from alba_action.static.publish import StaticResult
from alba_action.static.checksums import check_signable
from alba_action.static.scan import PlatformFolder, scan
from alba_action.targets.base import ImageRepository, Store
from alba_action.targets.open import open_store
from alba_action.targets.registries.mounts import MountSources


class Trace(Protocol):
    """Where a run reports: the reporter for lines and transfers, and sections (a CI log
    group, or a heading line on a terminal)."""

    reporter: Reporter

    def section(self, title: str) -> ContextManager[None]: ...


@dataclass
class PlainTrace:
    """The command line's trace: sections are silent, lines go to the reporter."""

    reporter: Reporter

    def section(self, title: str) -> ContextManager[None]:
        return nullcontext()


@dataclass
class PublishResult:
    """What one publish did, typed; the edges render it (trace, --json, outputs, summary)."""

    name: str
    version: str
    tags: list[str]
    static: list[StaticResult] = field(default_factory=list)
    containers: list[ContainerResult] = field(default_factory=list)
    dry_run: bool = False
    done: list[str] = field(default_factory=list)  # what was published, for a failure's summary
    latest_dropped: str | None = None  # why the latest guard dropped `latest`
    parts: list = field(default_factory=list)  # PartResult per target: parts written, or leftovers removed

    def to_json(self) -> dict:
        return {"name": self.name, "version": self.version, "tags": list(self.tags),
                "static": [r.to_json() for r in self.static], "containers": [r.to_json() for r in self.containers],
                "dry_run": self.dry_run, "latest_dropped": self.latest_dropped,
                **({"parts": [r.to_json() for r in self.parts]} if self.parts else {})}

    def targets_json(self) -> list[dict]:
        """One result per target, static ones first, as `--json` prints them."""
        return [r.to_json() for r in [*self.static, *self.containers]] or [r.to_json() for r in self.parts]


@dataclass
class Targets:
    """Every target of a request, opened (URLs parsed, credentials found) but not yet contacted."""

    stores: list[Store]
    repositories: list[tuple[ImageRepository, list[str]]]

    def all(self) -> list:
        return [*self.stores, *(repo for repo, _ in self.repositories)]


def open_targets(req: PublishRequest, mounts: MountSources) -> Targets:
    stores = [open_store(url, req.options) for url in req.static_targets] if req.static_dir else []
    repositories = [open_repository(url, req.name, req.tags, need_tag=True, options=req.options, image=req.image,
                                    mounts=mounts)
                    for url in req.container_targets] if req.container_dir else []
    return Targets(stores, repositories)


def publish(req: PublishRequest, trace: Trace, result: PublishResult | None = None) -> PublishResult:
    """Publish the request everywhere it names. `result`, when given, is filled as targets
    complete, so a caller can say what was published before a failure."""
    result = result or PublishResult(req.name, req.version, list(req.tags), dry_run=req.dry_run)
    if req.part or req.assemble:  # matrix builds: content only, or the release from its parts
        from alba_action.parts.run import run_parts

        return run_parts(req, trace, result)
    mounts = MountSources()  # what this run learns about blobs stays with this run
    with ExitStack() as stack:
        loading = None
        if req.container_dir:  # blobs outside the cache live in workdir until the images are published
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alba-")))
            loading = stack.enter_context(BackgroundLoad(req, workdir))
        checked = _check(req, result, trace, mounts)
        _execute(req, result, trace, checked, loading, stack)
    return result


def _check(req: PublishRequest, result: PublishResult, trace: Trace, mounts: MountSources) -> _Checked:
    """Open every target, check the inputs, and check that every target answers."""
    with trace.section("check inputs and targets"):
        targets = open_targets(req, mounts)
        folders = scan(req.static_dir, platform_check=req.platform_check) if req.static_dir else None
        if folders and req.minisign:
            check_signable(folders)
        static_sboms = sbom.static_sboms(req.static_dir, [f.platform for f in folders]) if folders else []
        image_sboms = (sbom.image_sboms(req.container_dir, [p for p, _ in find_archives(req.container_dir)])
                       if req.container_dir else [])
        if not req.dry_run:
            for target in targets.all():
                trace.reporter.log(f"target {target.url}")
                target.check()  # a wrong URL or password fails before minutes of compression
        if req.latest_guard and any(is_floating(t) for t in req.tags):
            guard_latest(req, targets, result, trace.reporter)
    return _Checked(targets, folders, static_sboms, image_sboms)


@dataclass
class _Checked:
    """What the checks found: the opened targets, the scanned folders and the SBOMs to attach."""

    targets: Targets
    folders: list[PlatformFolder] | None
    static_sboms: list
    image_sboms: list


def _execute(req: PublishRequest, result: PublishResult, trace: Trace, checked: _Checked,
             loading: BackgroundLoad | None, stack: ExitStack) -> None:
    """The plan against each target in turn; `stack` keeps the loaded blobs until the end."""
    targets, folders = checked.targets, checked.folders
    images, index, early = None, None, None
    if loading is not None:
        with trace.section(f"load images from {req.container_dir}"):
            loading.lines.attach(trace.reporter.log)
            if not req.dry_run and targets.repositories:  # closed (waited for) before workdir goes
                early = stack.enter_context(image_publish.EarlyBlobs([repo for repo, _ in targets.repositories]))
                loading.blobs.attach(early.start)
            images = loading.result()
            index = plan_index(req, images, trace.reporter)
    aheads = []  # per store: what its static push read for the pages
    for store in targets.stores:
        with trace.section(f"static files → {store.url}"):
            done = static_publish.push(store, req.name, list(result.tags), req.static_dir, folders,
                                       trace.reporter, req.dry_run, req.minisign,
                                       attest_plan.static_attachments(
                                           req, folders, checked.static_sboms, req.sbom, req.sbom_format,
                                           req.created, req.licenses, req.description),
                                       pages=req.pages)
        aheads.append(done.pages_ahead)
        result.static.append(done)
        result.done.append(f"static files of {req.name}:{req.tags[0]} → {store.url}")
    for repo, tags in targets.repositories:
        with trace.section(f"container image → {repo.url}"):
            done = image_publish.push(repo, tags, images, index, trace.reporter, req.dry_run, req.image_signer,
                                      repo.reference_for(req.image.public_host),
                                      attest_plan.image_referrers(req, images, index, tags, checked.image_sboms,
                                                                  req.sbom, req.sbom_format, req.created),
                                      early)
        result.containers.append(done)
        result.done.append(f"container image {done.digest} → {done.target}")
    if req.pages and not req.dry_run:
        for store, done, ahead in zip(targets.stores, result.static, aheads):
            with trace.section(f"download pages → {store.url}"):
                done.pages = write_pages(store, req.name, trace.reporter, _image_ref(req), ahead)


def guard_latest(req: PublishRequest, targets: Targets, result: PublishResult, reporter: Reporter) -> None:
    """Read what every target already publishes; drop each floating tag (`latest`, `N`, `N.M`)
    everywhere when this run's version is older than a release of its line there
    (metadata-action cannot know; alba reads it)."""
    from alba_action.version_order import floating_refusals, run_version
    from alba_action.static.catalog import read_tags

    published = [t for store in targets.stores for t in read_tags(store, req.name)[0]]
    published += [t for repo, _ in targets.repositories for t in repo.list_tags()]
    version = run_version(req.version, [t for t in req.tags if t != "latest"])
    refused = floating_refusals(version, req.tags, published)
    if not refused:
        return
    result.latest_dropped = "; ".join(f"{tag} not moved: {reason}" for tag, reason in refused.items())
    reporter.log(result.latest_dropped)
    result.tags = [t for t in result.tags if t not in refused]
    targets.repositories[:] = [(repo, [t for t in tags if t not in refused]) for repo, tags in targets.repositories]
    if not result.tags:
        raise InputError(f"the latest guard dropped {', '.join(refused)}, every tag of this run",
                         "add a version tag, or publish without the latest guard")


def _image_ref(req: PublishRequest) -> str:
    return f"{req.image.public_host}/{req.name}" if req.image.public_host else ""


class Relay:
    """Calls held until `attach(to)`, then replayed in order and passed on as they come."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: list = []
        self._to = None

    def __call__(self, item) -> None:
        with self._lock:  # held while passing on, so that nothing overtakes the replay
            if self._to is None:
                self._held.append(item)
            else:
                self._to(item)

    def attach(self, to) -> None:
        with self._lock:
            self._to = to
            for item in self._held:
                to(item)
            self._held.clear()


class BackgroundLoad:
    """Every platform loads from the start of the run, while the targets are opened and
    checked (imports and round trips that leave a core idle). Its log lines wait for the
    load section and its layer files for the early uploads (Relay). A failed check stops
    it at once: no minutes of compression for a wrong password, and nothing is published."""

    def __init__(self, req: PublishRequest, workdir: Path) -> None:
        from alba_action.images.load import load_images

        opts = req.image
        kwargs = {"max_uncompressed": opts.max_uncompressed} if opts.max_uncompressed else {}
        self.lines, self.blobs, self._stop = Relay(), Relay(), threading.Event()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="alba-loading")
        self._future = self._pool.submit(
            load_images, req.container_dir, compression=opts.compression, fmt=opts.fmt, workdir=workdir,
            cache_dir=req.options.cache_dir, log=self.lines, cache_max_bytes=req.options.cache_max_bytes,
            on_blob=self.blobs, stop=self._stop, **kwargs)

    def result(self) -> list[PlatformImage]:
        return self._future.result()

    def __enter__(self) -> "BackgroundLoad":
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()  # a no-op once loaded; otherwise the run failed elsewhere
        self._pool.shutdown(wait=True)


def plan_index(req: PublishRequest, images: list[PlatformImage], reporter: Reporter) -> Manifest:
    """The index for these images and annotations: the same for every tag and every target."""
    from alba_action.images.manifests import annotate_manifests, build_index

    if req.image.manifest_annotations:
        images[:] = annotate_manifests(images, dict(req.image.manifest_annotations), req.image.fmt)
    reporter.log("-- merge system images --")
    index = build_index(images, dict(req.image.annotations), req.image.fmt)
    reporter.log(f"index {index.digest} ({len(images)} platforms: {', '.join(str(i.platform) for i in images)})")
    return index
