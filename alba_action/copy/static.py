"""Copy df-dist-v1 releases: read every object a tag document lists (files, `.minisig`
files, SHA256SUMS, SBOM and provenance attachments) and check it against the document; then
write each target as `static push` does: the files and extras, the tag document, the name
document (newest first, through catalog.update), the download pages.

The tag document is copied byte for byte, so its `published` time and the signatures stay
the source's: a mirror lists its tags in the source's order. Under a new tag (`--as`) only
`published` changes — a promotion is a publication, and the new tag becomes the newest.
The signatures still verify (minisign signs the bytes; their trusted comments keep naming
the tag that was signed)."""

from __future__ import annotations

import json
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from alba_action.copy.images import damaged, read_key
from alba_action.digest import sha256_bytes
from alba_action.errors import InputError
from alba_action.report.progress import Reporter, human_size
from alba_action.static import catalog, plan
from alba_action.static.checksums import TEXT
from alba_action.static.publish import content_type
from alba_action.targets.base import Body
from alba_action.targets.stores.converge import conditional_writes

PARALLEL = 8


@dataclass(frozen=True)
class Object:
    """One object under a tag folder: its path there, the checked temporary file holding it."""

    path: str
    file: Path
    size: int
    sha256: str  # of the bytes read
    content_type: str
    listed: bool = False  # the tag document gives its digest (files, checksums, attachments)


class Source:
    """Where releases are read: a website over HTTP(S) (by key), or a bucket or folder
    (streamed into temporary files)."""

    def __init__(self, url: str, options) -> None:
        from alba_action.targets.open import open_store
        from alba_action.verify.sources import open_source

        self.store = None if url.startswith(("http://", "https://")) else open_store(url, options)
        self.web = open_source(url, options) if self.store is None else None
        self.url = self.store.url if self.store is not None else self.web.url

    def get(self, key: str) -> bytes | None:
        if self.store is None:
            return self.web.get(key)
        got = self.store.get(key)
        return got[0] if got else None

    def fetch(self, key: str, path: Path) -> tuple[str, int] | None:
        if self.store is not None:
            return read_key(self.store, key, path)
        data = self.web.get(key)
        if data is None:
            return None
        path.write_bytes(data)
        return sha256_bytes(data), len(data)


@dataclass
class Release:
    tag: str
    doc: bytes
    objects: list[Object] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(o.size for o in self.objects)


@dataclass
class StaticCopy:
    target: str
    tags: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # keys written
    unchanged: list[str] = field(default_factory=list)  # keys already there, byte for byte
    documents: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return dict(self.__dict__)


def source_tags(source, name: str, tags: list[str]) -> list[str]:
    """The tags asked for, or every tag of the name document (a mirror)."""
    if tags:
        return tags
    raw = source.get(plan.name_key(name))
    try:
        listed = [t for t in json.loads(raw).get("tags", []) if isinstance(t, str)] if raw else []
    except (ValueError, AttributeError):
        raise damaged(f"{plan.name_key(name)} is not a name document", source.url) from None
    if not listed:
        raise InputError(f"no release of {name} at {source.url} ({plan.name_key(name)} lists no tag)",
                         "check the source URL and name")
    return listed


def read_release(source: Source, name: str, tag: str, staging: Path) -> Release:
    """Every object of NAME:TAG in `staging`, each checked against the tag document."""
    base = plan.tag_key(name, tag)
    raw = source.get(base)
    if raw is None:
        raise InputError(f"tag {name}:{tag} is not at {source.url} ({base} is missing)",
                         f"check the tag: alba static ls -t {name} SOURCE lists them; nothing was copied")
    try:
        doc = json.loads(raw)
        wanted = _listed(doc)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise damaged(f"{base} is not a tag document", source.url) from None
    release = Release(tag, raw)
    folder = Path(tempfile.mkdtemp(dir=staging))
    files = [folder / str(i) for i in range(len(wanted))]
    with ThreadPoolExecutor(PARALLEL) as pool:
        got = list(pool.map(lambda w, f: source.fetch(f"{base}/{w[0]}", f), wanted, files))
    for (path, kind, digest, size), file, read in zip(wanted, files, got):
        if read is None:
            raise damaged(f"{base}/{path} is missing", source.url)
        if (digest and read[0] != digest) or (size is not None and read[1] != size):
            raise damaged(f"{base}/{path} does not hash to the digest its tag document gives", source.url)
        release.objects.append(Object(path, file, read[1], read[0], kind, bool(digest)))
    return release


def _listed(doc: dict) -> list[tuple[str, str, str | None, int | None]]:
    """(path under the tag folder, Content-Type, digest, size) of every object the document lists."""
    out = []
    for flavor in doc["flavors"]:
        p = flavor["platform"]
        platform = "/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x)
        for r in flavor["resources"]:
            out.append((f"{platform}/{r['path']}", content_type(r["path"]), r.get("digest"), r.get("size")))
            if r.get("signature"):
                out.append((f"{platform}/{r['signature']}", TEXT, None, None))
    if checks := doc.get("checksums"):
        out.append((checks["path"], TEXT, checks.get("digest"), checks.get("size")))
        if checks.get("signature"):
            out.append((checks["signature"], TEXT, None, None))
    out += [(a["path"], a.get("mediaType") or "application/octet-stream", a.get("digest"), a.get("size"))
            for a in doc.get("attachments", [])]
    return out


def promoted(doc: bytes, published: str) -> bytes:
    """The tag document under a new tag: published now, everything else as it was."""
    fields = json.loads(doc)
    fields["published"] = published
    return plan.dumps(fields)


def _same_release(current: bytes | None, doc: bytes) -> bool:
    """The target's tag document lists the same release (its `published` aside)."""
    if current is None:
        return False
    try:
        a, b = json.loads(current), json.loads(doc)
    except ValueError:
        return False
    a.pop("published", None)
    b.pop("published", None)
    return a == b


def write_release(store, name: str, release: Release, tag: str, published: str, reporter: Reporter,
                  done: StaticCopy) -> bytes:
    """The release's objects under `tag`, then its tag document (`published` then, when the
    tag is new: a promotion); returns the document written."""
    base = plan.tag_key(name, tag)
    current = store.get(base)
    same = _same_release(current[0] if current else None, release.doc)

    def one(o: Object) -> None:
        key = f"{base}/{o.path}"
        there = store.head(key) if same and o.listed else None
        if there is not None and there.size == o.size:  # listed with this digest, still whole
            done.unchanged.append(key)
            return
        if not o.listed and (got := store.get(key)) and sha256_bytes(got[0]) == o.sha256:  # a small .minisig
            done.unchanged.append(key)
            return
        with reporter.transfer(f"{o.path} -> {key}", o.size) as progress:
            store.put(key, Body(path=o.file), o.content_type, plan.FILE_CACHE, progress=progress)
        done.files.append(key)

    with ThreadPoolExecutor(PARALLEL) as pool:
        for future in [pool.submit(one, o) for o in release.objects]:
            future.result()  # every object before the tag document that points to them
    if same and current is not None:
        reporter.log(f"tag {tag} unchanged ({base})")
        done.unchanged.append(base)
        return current[0]
    doc = release.doc if tag == release.tag else promoted(release.doc, published)
    store.put(base, Body(data=doc), plan.JSON, plan.NO_CACHE)
    done.documents.append(base)
    reporter.log(f"tag -> {base}")
    return doc


def write_target(store, name: str, releases: list[Release], tags: dict[str, list[str]], reporter: Reporter,
                 pages: bool = True) -> StaticCopy:
    done = StaticCopy(store.url)
    reporter.log(f"-- copy to {store.url} --")
    last = None
    for release in releases:
        # As a push dates its tags: the first --as tag is the newest.
        published = plan.publication_times(tags[release.tag], datetime.now(timezone.utc))
        for tag in tags[release.tag]:
            last = (tag, write_release(store, name, release, tag, published[tag], reporter, done))
            done.tags.append(tag)
    probe = conditional_writes(store, plan.tag_key(name, last[0]), last[1], plan.JSON)
    catalog.update(store, name, conditionals=probe)
    done.documents.append(plan.name_key(name))
    reporter.log(f"manifest -> {plan.name_key(name)}")
    if pages:
        from alba_action.pages.publish import write_pages

        done.pages = write_pages(store, name, reporter)
    return done


def plan_lines(name: str, releases: list[Release], tags: dict[str, list[str]]) -> list[str]:
    lines = []
    for release in releases:
        for tag in tags[release.tag]:
            base = plan.tag_key(name, tag)
            lines += [f"would copy {base}/{o.path} ({human_size(o.size)})" for o in release.objects]
            lines.append(f"would write tag -> {base}")
    lines.append(f"would write manifest -> {plan.name_key(name)}")
    return lines
