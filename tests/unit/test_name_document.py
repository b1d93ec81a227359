"""alba_action.static.catalog, the pure half: reading name documents old and new, and applying
a run's own change to one (what a conditional write sends) — one table each."""

from __future__ import annotations

import pytest

from alba_action.static.catalog import NameDoc, bare_etag, merged, parse

T1, T2, T3 = "2026-01-01T00:00:01.000000Z", "2026-01-01T00:00:02.000000Z", "2026-01-01T00:00:03.000000Z"


@pytest.mark.parametrize("data, expected", [
    (b'{"name":"a","tags":["2","1"]}', NameDoc(("2", "1"))),  # an earlier alba's
    (b'{"name":"a","tags":["2","1"],"published":["%s","%s"],"etags":["e2","e1"]}' % (T2.encode(), T1.encode()),
     NameDoc(("2", "1"), (T2, T1), ("e2", "e1"))),
    (b'{"name":"a","tags":["2","1"],"published":["%s"],"etags":["e2"]}' % T2.encode(), NameDoc(("2", "1"))),  # short
    (b'{"name":"a","tags":["2",7,"1"],"published":[null,"x","bad"],"etags":["e2","e",""]}',
     NameDoc(("2", "1"), (None, None), ("e2", None))),  # each entry checked on its own
    (b'{"name":"a","tags":[]}', NameDoc(())),
])
def test_parse(data, expected):
    assert parse(data) == expected


def test_parse_refuses_what_is_no_name_document():
    with pytest.raises(ValueError):
        parse(b'{"tags":"1"}')


def test_to_json_keeps_the_original_fields_first():
    doc = NameDoc(("2", "1"), (T2, None), ("e2", "e1")).to_json("a")
    assert list(doc) == ["name", "tags", "published", "etags"] and doc["published"] == [T2, None]
    assert NameDoc(("1",)).to_json("a") == {"name": "a", "tags": ["1"]}


CURRENT = NameDoc(("2", "1", "old"), (T2, T1, None), ("e2", "e1", "eo"))


@pytest.mark.parametrize("current, added, removed, known, expected", [
    (CURRENT, ["3"], set(), {("3", '"e3"'): T3}, NameDoc(("3", "2", "1", "old"), (T3, T2, T1, None), ("e3", "e2", "e1", "eo"))),
    (CURRENT, ["1"], set(), {("1", '"e1b"'): T3}, NameDoc(("1", "2", "old"), (T3, T2, None), ("e1b", "e2", "eo"))),
    (CURRENT, [], {"2"}, {}, NameDoc(("1", "old"), (T1, None), ("e1", "eo"))),
    (CURRENT, ["3"], set(), {("3", None): T3}, None),  # the store answered no ETag: list instead
    (CURRENT, ["3"], set(), {}, None),
    (NameDoc(("2", "1")), [], {"2"}, {}, None),  # an earlier alba's document: list instead
    (NameDoc(("2", "1"), (T2, T1), ("e2", None)), [], set(), {}, None),
    (None, ["3"], set(), {("3", "e3"): T3}, None),  # no document: other tag documents may exist
])
def test_merged(current, added, removed, known, expected):
    assert merged(current, added, removed, known) == expected


@pytest.mark.parametrize("etag, bare", [('"abc"', "abc"), ("abc", "abc"), ('"', '"'), ("", None), (None, None)])
def test_bare_etag(etag, bare):
    assert bare_etag(etag) == bare
