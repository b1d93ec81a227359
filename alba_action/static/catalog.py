"""The name document `df-dist-v1/NAME`: the tags, newest first, as a function of the tag
documents that exist, so that every concurrent pipeline computes the same list.

Order: by each tag document's `published` time, newest first, ties broken by tag name
(version_order.newest_first); tag documents without the field (written before alba recorded
it) keep the order the name document had. Writing goes through targets.stores.converge.

The tag documents present come from one listing of `df-dist-v1/NAME/` (a few pages for
thousands of tags), with each document's ETag. Their `published` times are not read again
from every document: the name document records, beside each tag, the `published` and ETag
of the document it was computed from (docs/formats.md, *Catalogs of any size*). An ETag
names one version of a document, so such a pair stays true forever: only documents whose
ETag in the listing is not recorded yet are read. The result is still a function of what is
stored (the listing and the documents' bytes), which is what convergence needs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import MappingProxyType

from alba_action.errors import TargetError
from alba_action.version_order import newest_first
from alba_action.static import plan
from alba_action.targets.base import ObjectInfo, Store
from alba_action.targets.stores.converge import Stored, converge

PARALLEL_READS = 16


def bare_etag(etag: str | None) -> str | None:
    """An ETag without its quotes, as the name document records it (None when unknown)."""
    return etag[1:-1] if etag and len(etag) >= 2 and etag[0] == etag[-1] == '"' else etag or None


@dataclass(frozen=True)
class NameDoc:
    """What a name document holds: the tags, newest first, and for each the `published` and
    ETag of its document when recorded (None for both in documents of an earlier alba)."""

    tags: tuple[str, ...]
    published: tuple[str | None, ...] | None = None
    etags: tuple[str | None, ...] | None = None

    def to_json(self, name: str) -> dict:
        doc = plan.name_document(name, list(self.tags))
        if self.published is not None and self.etags is not None:
            doc.update(published=list(self.published), etags=list(self.etags))
        return doc

    def etag_of(self) -> dict[str, str]:
        """tag → the ETag of the document this list was computed from, where recorded."""
        return {t: e for t, e in zip(self.tags, self.etags or ()) if e}

    def hints(self) -> dict[tuple[str, str], str | None]:
        """(tag, ETag) → `published` of that document version."""
        return {(t, e): w for t, w, e in zip(self.tags, self.published or (), self.etags or ()) if e}


def parse(data: bytes) -> NameDoc:
    """A name document's bytes; the optional fields are used only when they line up with `tags`."""
    doc = json.loads(data)
    raw = doc.get("tags", [])
    if not isinstance(raw, list):
        raise ValueError("tags is not a list")
    keep = [i for i, t in enumerate(raw) if isinstance(t, str)]
    tags = tuple(raw[i] for i in keep)
    published, etags = doc.get("published"), doc.get("etags")
    if not (isinstance(published, list) and isinstance(etags, list) and len(published) == len(etags) == len(raw)):
        return NameDoc(tags)
    return NameDoc(tags, tuple(published[i] if plan.is_published(published[i]) else None for i in keep),
                   tuple(etags[i] if isinstance(etags[i], str) and etags[i] else None for i in keep))


def read_doc(store: Store, name: str) -> tuple[NameDoc | None, str | None]:
    """(the name document, its etag); (None, None) when missing."""
    got = store.get(plan.name_key(name))
    if got is None:
        return None, None
    try:
        return parse(got[0]), got[1]
    except (ValueError, AttributeError):
        raise TargetError(
            f"{plan.name_key(name)} on {store.url} is not a name document",
            "inspect it; delete it to let alba rebuild it from the tag documents",
        ) from None


def read_tags(store: Store, name: str) -> tuple[list[str], str | None, bool]:
    """(tags, etag, exists) of the name document."""
    doc, etag = read_doc(store, name)
    return (list(doc.tags), etag, True) if doc is not None else ([], None, False)


def read_stored(store: Store, name: str) -> Stored[NameDoc]:
    """The name document as converge reads it (value None when missing) and its etag."""
    doc, etag = read_doc(store, name)
    return Stored(doc, etag)


def tag_documents(store: Store, name: str) -> set[str]:
    return {t for key in store.list(f"{plan.ROOT}/{name}/", shallow=True) if (t := plan.tag_of(key, name))}


class PublicationTimes:
    """tag → `published` of its document, read once per document version (keyed by ETag):
    from what this run wrote, from the name document's record, and only then from the store."""

    def __init__(self, store: Store, name: str,
                 known: Mapping[tuple[str, str], str | None] = MappingProxyType({})) -> None:
        """`known`: (tag, etag) → `published` of documents this run wrote, not read again."""
        self.store, self.name = store, name
        self.known: dict[tuple[str, str], str | None] = {(t, bare_etag(e)): w for (t, e), w in known.items() if e}
        self.learned = False
        self.seen: dict[str, tuple[bytes, str | None]] = {}  # tag → (bytes, etag) of the documents read

    def learn(self, doc: NameDoc | None) -> None:
        """Take what a name document records (true of every version it names)."""
        self.learned = True
        for key, when in (doc.hints() if doc else {}).items():
            self.known.setdefault(key, when)

    def present(self, removed: set[str]) -> dict[str, str | None]:
        return {t: w for t, (w, _) in self.listed(removed).items()}

    def listing(self) -> list[ObjectInfo]:
        return list(self.store.list_info(f"{plan.ROOT}/{self.name}/", shallow=True))

    def listed(self, removed: set[str], infos: list[ObjectInfo] | None = None) -> dict[str, tuple[str | None, str | None]]:
        """tag → (published, etag) of every tag document present but `removed` (in `infos`,
        a listing already made, else listed now)."""
        if not self.learned:
            self.learn(read_doc(self.store, self.name)[0])
        listed = {t: bare_etag(info.etag) for info in (self.listing() if infos is None else infos)
                  if (t := plan.tag_of(info.key, self.name)) and t not in removed}
        missing = [t for t, etag in listed.items() if etag is None or (t, etag) not in self.known]
        with ThreadPoolExecutor(PARALLEL_READS) as pool:
            for tag, got in zip(missing, pool.map(self._read, missing)):
                if got is None:
                    del listed[tag]  # deleted since the listing (an rm under way): not listed again
                    continue
                when, etag = got
                listed[tag] = etag
                self.known[(tag, etag or "")] = when  # keyed by the read's own ETag: the pair is true
        return {t: (self.known[(t, etag or "")], etag) for t, etag in listed.items()}

    def _read(self, tag: str) -> tuple[str | None, str | None] | None:
        got = self.store.get(plan.tag_key(self.name, tag))
        if got is None:
            return None
        self.seen[tag] = got
        return plan.published_of(got[0]), bare_etag(got[1])


def wanted(times: PublicationTimes, removed: set[str], current: NameDoc | None,
           infos: list[ObjectInfo] | None = None) -> NameDoc:
    """The name document the stored tag documents call for (one listing of them: `infos`)."""
    times.learn(current)
    listed = times.listed(removed, infos)
    order = newest_first({t: w for t, (w, _) in listed.items()}, current.tags if current else ())
    return NameDoc(tuple(order), tuple(listed[t][0] for t in order), tuple(listed[t][1] for t in order))


def merged(current: NameDoc | None, added: Sequence[str], removed: set[str],
           known: Mapping[tuple[str, str | None], str | None]) -> NameDoc | None:
    """`current` with this run's own change (the tags `added`, whose documents are `known`
    with their ETags, and the tags `removed`), without listing: what a conditional write may
    apply. None when that cannot be told (no document, a tag without its recorded ETag, an
    added document whose ETag the store did not answer): then only a listing can."""
    if current is None or current.etags is None or not all(current.etags):
        return None
    own = {t: (w, bare_etag(e)) for (t, e), w in known.items() if e}
    if any(t not in own for t in added):
        return None
    own = {t: own[t] for t in added}
    entries = {t: (w, e) for t, w, e in zip(current.tags, current.published, current.etags) if t not in removed}
    entries.update({t: v for t, v in own.items() if t not in removed})
    order = newest_first({t: w for t, (w, _) in entries.items()}, current.tags)
    return NameDoc(tuple(order), tuple(entries[t][0] for t in order), tuple(entries[t][1] for t in order))


def update(store: Store, name: str, remove: set[str] = frozenset(),
           conditionals: str | Callable[[], str] = "ignored",
           known: Mapping[tuple[str, str | None], str | None] = MappingProxyType({}),
           early: Future[Stored[NameDoc]] | None = None, added: Sequence[str] | None = None,
           seen: dict[str, tuple[bytes, str | None]] | None = None) -> list[str]:
    """Rewrite the name document for the tag documents present (minus `remove`); return the
    list as finally read back. `conditionals` as probed (or a function that waits for the
    probe): when "honoured", nothing waits. `known` as for PublicationTimes. `early`: the
    name document read before (read_stored), used for the first round. `added`: the tags
    this run wrote (their documents in `known`), when that and `remove` are its whole change.
    `seen`: receives tag → (bytes, etag) of the tag documents read (the pages need them too).

    Where `added` is given and the store honours conditional writes, each round applies this run's change to the
    document read (merged) and writes it If-Match: a write that succeeds lost no one's
    change, and no listing is needed. Otherwise the first write is that too, and then every
    check — after the settle time, reading the document back — compares it with what one
    listing of the tag documents calls for (wanted): the last writer's check sees every
    tag document, so the document converges. Without a usable document (missing, or written
    by an earlier alba without ETags) every round lists."""
    times = PublicationTimes(store, name, known)
    first = True

    def read() -> Stored[NameDoc]:
        nonlocal early
        if early is not None:
            current, early = early.result(), None
            return current
        return read_stored(store, name)

    def want(current: Stored[NameDoc]) -> NameDoc:
        nonlocal first, conditionals
        if not isinstance(conditionals, str):
            conditionals = conditionals()
        quick = first or conditionals == "honoured"
        first = False
        fast = merged(current.value, added, set(remove), known) if quick and added is not None else None
        return fast if fast is not None else wanted(times, set(remove), current.value)

    def check() -> Callable[[Stored[NameDoc]], NameDoc]:
        pool = ThreadPoolExecutor(1)
        listing = pool.submit(times.listing)  # during the settle time
        pool.shutdown(wait=False)
        return lambda current: wanted(times, set(remove), current.value, listing.result())

    final = converge(store, plan.name_key(name), read=read, wanted=want, check=check,
                     encode=lambda doc: plan.dumps(doc.to_json(name)), conditionals=lambda: conditionals)
    if seen is not None:
        seen.update(times.seen)
    return list(final.tags)
