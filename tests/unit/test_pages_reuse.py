"""A name page assembled from the sections of the page as stored is the page rendered from
every tag document, byte for byte — whichever tag is newest, and never from another
renderer's sections (alba_action.pages.render.section_cache)."""

from __future__ import annotations

import pytest

from alba_action.pages import render
from alba_action.pages.render import NamePage, TagView, name_page, section_cache, tag_section


def doc(i: int) -> dict:
    return {"flavors": [{"resources": [{"path": f"tool-{i}", "size": i, "digest": f"sha256:{i:064x}"}],
                         "platform": {"architecture": "amd64", "os": "linux"}}],
            "published": f"2026-01-01T00:00:{i:02d}.000000Z"}


VIEWS = [TagView(f"1.{i}", doc(i), f"etag-{i}") for i in range(5, 0, -1)]


def reassembled(page: bytes, views: list[TagView]) -> bytes:
    cache = section_cache(page)
    return name_page(NamePage("tool", [], ["latest"]),
                     [cache.get((v.tag, v.etag)) or tag_section(v) for v in views])


@pytest.mark.parametrize("views", [
    VIEWS,                                   # a page rewrite with nothing new
    [TagView("2.0", doc(9), "e9")] + VIEWS,  # a push: the newest mark moves to the new tag
    VIEWS[1:],                               # the newest removed: the next one gets the mark
    VIEWS[:2] + VIEWS[3:],                   # an old one removed
    [TagView("1.3", doc(7), "e7")] + VIEWS[:2] + VIEWS[3:],  # re-published: a new document
])
def test_a_page_from_stored_sections_is_the_full_render(views):
    stored = name_page(NamePage("tool", VIEWS, ["latest"]))
    assert reassembled(stored, views) == name_page(NamePage("tool", views, ["latest"]))


def test_only_sections_of_this_renderer_with_an_etag_are_reused(monkeypatch):
    page = name_page(NamePage("tool", VIEWS + [TagView("0.1", doc(1))]))
    assert set(section_cache(page)) == {(v.tag, v.etag) for v in VIEWS}
    monkeypatch.setattr(render, "RENDERER", "another")
    assert section_cache(page) == {}


def test_hostile_text_cannot_end_a_section_early():
    evil = TagView("x", {"flavors": [{"resources": [{"path": "</section><section>", "size": 1}],
                                      "platform": {"os": "linux", "architecture": "amd64"}}]}, 'e"1')
    page = name_page(NamePage("tool", [evil, *VIEWS]))
    assert section_cache(page)[("x", 'e"1')] == tag_section(evil)
