"""Publish a scanned SRC_DIR under its tags to one Store: files, tag documents, the name document."""

from __future__ import annotations

import mimetypes
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from alba_action.pages.publish import ReadAhead, read_ahead
from alba_action.report.progress import Reporter
from alba_action.signing.minisign_keys import MinisignSigner
from alba_action.static import catalog, checksums, plan
from alba_action.static.scan import PlatformFolder
from alba_action.targets.base import Body, Store
from alba_action.targets.stores.converge import conditional_writes

PARALLEL_FILES = 8


@dataclass
class StaticResult:
    name: str
    target: str
    tags: list[str]
    files: list[dict] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    attachments: list[dict] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # the download pages written after the push
    kept_young: int = 0  # gc: files no tag lists, kept because younger than the grace period
    grace_seconds: float | None = None
    kept: dict = field(default_factory=dict)  # gc: tag → the rules that keep it
    policy: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    validation: dict = field(default_factory=dict)  # gc: every kept tag checked whole
    dry_run: bool = False
    pages_ahead: ReadAhead | None = None  # what the push read for the pages written next (not output)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()
                if k != "pages_ahead" and (v or k in ("name", "target", "tags", "dry_run") or (k == "kept_young" and self.grace_seconds is not None))}


def content_type(path: str) -> str:
    guessed, _ = mimetypes.guess_type(path, strict=False)
    return guessed or "application/octet-stream"


def push(store: Store, name: str, tags: list[str], src_dir: Path, flavors: list[PlatformFolder],
         reporter: Reporter, dry_run: bool = False, signer: MinisignSigner | None = None,
         attest=None, pages: bool = True) -> StaticResult:
    """Publish SRC_DIR, already scanned into `flavors` (so a bad layout fails before any
    target is written), under every tag. The pipeline calls this once per target.
    `attest(tag)`: the attachments (provenance, SBOMs) to store under `TAG/_alba/`;
    `pages`: the download pages come next, so their reads start early."""
    uploads = plan.uploads(name, tags, flavors)
    result = StaticResult(name, store.url, tags, dry_run=dry_run)
    result.files = [
        {"platform": str(u.flavor.platform), "path": u.path, "key": u.key, "size": u.size, "digest": u.digest}
        for u in uploads
    ]
    result.documents = [plan.tag_key(name, t) for t in tags] + [plan.name_key(name)]
    if dry_run:
        _print_plan(reporter, src_dir, uploads, name, tags)
        return result
    # The name document as it is now, read with the tag documents: after the files, its
    # update starts from this answer instead of asking again (see catalog.update).
    name_doc = _soon(catalog.read_stored, store, name)
    unchanged = _already_there(store, name, tags, uploads)
    for u in unchanged:
        reporter.log(f"{_label(u, src_dir)} unchanged")
    result.unchanged = [u.key for u in unchanged]
    skip = set(result.unchanged)
    _upload_files(store, [u for u in uploads if u.key not in skip], src_dir, reporter)
    published = plan.publication_times(tags, datetime.now(timezone.utc))
    written = {}  # (tag, etag) → published: the name document need not read them back
    docs = {}  # tag → (bytes, etag): the pages need not read them either
    for tag in tags:
        objects, fields = checksums.extras(name, tag, flavors, signer)
        attached = attest(tag) if attest else []
        objects += [checksums.Extra(f"{plan.tag_key(name, tag)}/{a.path}", a.data, a.media_type) for a in attached]
        if attached:
            fields["attachments"] = [a.entry() for a in attached]
            result.attachments += [{"tag": tag, **a.entry()} for a in attached]
        _upload_extras(store, objects, reporter)
        result.signatures += [o.key for o in objects if o.key.endswith(".minisig")]
        doc = plan.dumps(plan.tag_document(flavors, published[tag], fields, signed=signer is not None))
        etag = store.put(plan.tag_key(name, tag), Body(data=doc), plan.JSON, plan.NO_CACHE)
        written[(tag, etag)] = plan.published_of(doc)
        docs[tag] = (doc, etag)
        reporter.log(f"tag -> {plan.tag_key(name, tag)}")
    with ThreadPoolExecutor(1) as pool:
        # The probe's answer is needed only to write the name document (read before the
        # files); the download pages' reads travel meanwhile (the pipeline writes the pages
        # next, from these reads and the tag documents written here).
        probe = pool.submit(conditional_writes, store, plan.tag_key(name, tags[-1]), doc, plan.JSON)
        result.pages_ahead = read_ahead(store, name) if pages else None
        catalog.update(store, name, conditionals=probe.result, known=written, early=name_doc, added=tags,
                       seen=docs)
        if result.pages_ahead is not None:
            result.pages_ahead.docs = docs
    reporter.log(f"manifest -> {plan.name_key(name)}")
    return result


def _soon(fn, *args) -> Future:
    """`fn(*args)` on a thread of its own, started now."""
    pool = ThreadPoolExecutor(1)
    future = pool.submit(fn, *args)
    pool.shutdown(wait=False)
    return future


def _parallel(store: Store) -> int:
    """As many files in flight as the store allows (--jobs; fewer while it throttles)."""
    budget = getattr(store, "budget", None)
    return budget.throttle.ceiling if budget is not None else PARALLEL_FILES


def _upload_extras(store: Store, objects: list[checksums.Extra], reporter: Reporter) -> None:
    def one(o: checksums.Extra) -> None:
        store.put(o.key, Body(data=o.data), o.content_type, plan.FILE_CACHE)
        reporter.log(f"{o.key.rsplit('/', 1)[-1]} -> {o.key}")

    with ThreadPoolExecutor(PARALLEL_FILES) as pool:
        for future in [pool.submit(one, o) for o in objects]:
            future.result()


def _already_there(store, name: str, tags: list[str], uploads: list[plan.Upload]) -> list[plan.Upload]:
    """Files a re-run need not send: listed with the same size and digest in the tag's current
    document, and still present at that size. Documents and files are asked about together."""
    with ThreadPoolExecutor(_parallel(store)) as pool:
        docs = list(pool.map(lambda tag: store.get(plan.tag_key(name, tag)), tags))
        listed = {tag: plan.published_files(got[0]) if got else {} for tag, got in zip(tags, docs)}
        candidates = [u for u in uploads if listed[u.tag].get((str(u.flavor.platform), u.path)) == (u.size, u.digest)]
        infos = list(pool.map(lambda u: store.head(u.key), candidates))
    return [u for u, info in zip(candidates, infos) if info is not None and info.size == u.size]


def _label(u: plan.Upload, src_dir: Path) -> str:
    shown = Path(src_dir.name) / u.flavor.folder.relative_to(src_dir) / u.path
    return f"{shown.as_posix()} -> {u.key}"


def _print_plan(reporter: Reporter, src_dir: Path, uploads, name: str, tags: list[str]) -> None:
    for u in uploads:
        reporter.log(f"would upload {_label(u, src_dir)} ({u.size} bytes)")
    for tag in tags:
        reporter.log(f"would write tag -> {plan.tag_key(name, tag)}")
    reporter.log(f"would write manifest -> {plan.name_key(name)} (adding {', '.join(tags)})")


def _upload_files(store, uploads, src_dir: Path, reporter: Reporter) -> None:
    def one(u: plan.Upload) -> None:
        with reporter.transfer(_label(u, src_dir), u.size) as progress:
            store.put(u.key, Body(path=Path(u.source)), content_type(u.path), plan.FILE_CACHE, progress=progress)

    with ThreadPoolExecutor(_parallel(store)) as pool:
        # Largest first: the long transfers overlap the many small ones instead of trailing them.
        for future in [pool.submit(one, u) for u in sorted(uploads, key=lambda u: -u.size)]:
            future.result()  # the first failure stops the push before any document is written
