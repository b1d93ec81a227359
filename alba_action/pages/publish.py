"""Write the download pages from the stored documents, converging like the name document:
each page is a deterministic function of the documents present, rewritten until what is
stored matches them, so the last writer of a race always leaves the right page.

The name page is not rendered from every tag document: each tag's section carries the ETag
of the document it shows, and the name document records each tag's current ETag, so the
sections of the page as stored are reused while they match; only the documents of tags
whose section is missing or out of date are read (or taken from what this run wrote). The
bytes are those a render from every document gives (tests/integration/test_catalog_size.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import MappingProxyType

from alba_action.images.attachments import is_attachment
from alba_action.pages.render import NamePage, TagView, index_page, name_page, section_cache, tag_section
from alba_action.report.progress import Reporter
from alba_action.static import catalog, plan
from alba_action.targets.base import Store
from alba_action.targets.stores.converge import Stored, converge, known_conditionals

HTML = "text/html; charset=utf-8"
PAGE = "index.html"  # a reserved name: no tag and no name may be called so


def name_page_key(name: str) -> str:
    return f"{plan.ROOT}/{name}/{PAGE}"


def index_page_key() -> str:
    return f"{plan.ROOT}/{PAGE}"


@dataclass
class ReadAhead:
    """What a push learns for the pages before write_pages runs: both pages, read while it
    writes the name document, and the tag documents it wrote (tag → bytes, etag)."""

    name: str
    pages: dict[str, Future] = field(default_factory=dict)
    docs: dict[str, tuple[bytes, str | None]] = field(default_factory=dict)


def read_ahead(store: Store, name: str) -> ReadAhead:
    """Start reading both pages now (a push calls this as it writes the name document);
    write_pages then starts from these answers instead of asking again. A page must be read before
    its inputs for writers to converge, and this reads it earlier still: it only widens
    the window in which another writer's page makes our conditional write retry."""
    pool = ThreadPoolExecutor(2)
    ahead = ReadAhead(name, {key: pool.submit(store.get, key) for key in (name_page_key(name), index_page_key())})
    pool.shutdown(wait=False)
    return ahead


def render_name(store: Store, name: str, image_ref: str = "",
                known: Mapping[str, tuple[bytes, str | None]] = MappingProxyType({}),
                cached: bytes | None = None) -> bytes:
    """The name page for the tags of the name document. A tag's section comes from `cached`
    (the page as stored) when rendered from the ETag the name document records for it, else
    from `known` (tag → bytes, etag of documents this run wrote) at that ETag, else from its
    document, read now. Without `cached` and `known`, every document is read (a full render)."""
    reuse = section_cache(cached)
    with ThreadPoolExecutor(16) as pool:
        listed = pool.submit(_image_tags, store, name)  # independent of the documents: read meanwhile
        doc, _ = catalog.read_doc(store, name)
        tags, etags = (list(doc.tags), doc.etag_of()) if doc else ([], {})
        sections: dict[str, Future | str | None] = {}
        for tag in tags:
            etag, wrote = etags.get(tag), known.get(tag)
            if etag and (tag, etag) in reuse:
                sections[tag] = reuse[(tag, etag)]
            elif etag and wrote and catalog.bare_etag(wrote[1]) == etag:
                sections[tag] = _section(tag, wrote)
            else:
                sections[tag] = pool.submit(lambda t: _section(t, store.get(plan.tag_key(name, t))), tag)
        # Never a tag whose document is gone.
        done = [s for t in tags if (s := _result(sections[t])) is not None]
        images = listed.result()
    return name_page(NamePage(name, [], sorted(images, key=lambda t: (t != "latest", t)), image_ref), done)


def _section(tag: str, got: tuple[bytes, str | None] | None) -> str | None:
    try:
        return tag_section(TagView(tag, json.loads(got[0]), catalog.bare_etag(got[1]))) if got else None
    except ValueError:
        return None


def _result(section: Future | str | None) -> str | None:
    return section.result() if isinstance(section, Future) else section


def _image_tags(store: Store, name: str) -> list[str]:
    """The image tags of a static registry under the same name, without attachments."""
    got = store.get(f"v2/{name}/tags/list")
    try:
        return [t for t in (json.loads(got[0]).get("tags") or []) if not is_attachment(t)] if got else []
    except ValueError:
        return []


def render_index(store: Store, likely: Sequence[str] = ()) -> bytes:
    """`likely`: names surely listed (the one just pushed); read with the listing."""
    with ThreadPoolExecutor(8) as pool:  # one name document each, read together
        early = {n: pool.submit(catalog.read_tags, store, n) for n in likely}
        names = sorted({n for key in store.list(f"{plan.ROOT}/", shallow=True)
                        if "/" not in (n := key[len(plan.ROOT) + 1:]) and n != PAGE and not n.endswith(".json")})
        late = {n: pool.submit(catalog.read_tags, store, n) for n in names if n not in early}
        docs = [(early.get(n) or late[n]).result() for n in names]
    return index_page([(name, tags[0] if tags else None, len(tags))
                       for name, (tags, _, exists) in zip(names, docs) if exists])


def _converge_page(store: Store, key: str, render, early: Future | None = None) -> None:
    def read() -> Stored[bytes]:
        nonlocal early
        got = early.result() if early is not None else store.get(key)  # read ahead: the first round only
        early = None
        return Stored(got[0] if got else None, got[1] if got else None)

    # Where this run probed that the store honours conditional writes, pages use them too
    # (no settle time); otherwise they converge by re-reading, as the name document does.
    # `render` is given the page as stored: the sections it can reuse.
    converge(store, key, read=read, wanted=lambda current: render(current.value), encode=lambda data: data,
             content_type=HTML, conditionals=known_conditionals(store))


def write_pages(store: Store, name: str, reporter: Reporter, image_ref: str = "",
                ahead: ReadAhead | None = None) -> list[str]:
    """The name's page, then the index of every name; returns the keys written. `ahead`:
    what the static push of `name` to this store already read for them."""
    if ahead is None or ahead.name != name:
        ahead = ReadAhead(name)
    with ThreadPoolExecutor(2) as pool:  # independent documents: on a far store, half the wait
        name_page = pool.submit(_converge_page, store, name_page_key(name),
                                lambda stored: render_name(store, name, image_ref, ahead.docs, stored),
                                ahead.pages.get(name_page_key(name)))
        index = pool.submit(_converge_page, store, index_page_key(), lambda _: render_index(store, [name]),
                            ahead.pages.get(index_page_key()))
        name_page.result()
        reporter.log(f"page -> {name_page_key(name)}")
        index.result()
        reporter.log(f"page -> {index_page_key()}")
    return [name_page_key(name), index_page_key()]


def has_pages(store: Store, name: str) -> bool:
    return store.exists(name_page_key(name))
