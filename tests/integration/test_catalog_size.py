"""A publish costs the same at 3,000 tags as at none: catalogs seeded straight into moto,
every request counted at a proxy in front of it; the name document stays newest first after
push and rm and under concurrent writers that get no conditional writes; the page written
from what changed is the page a render from every tag document gives, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catalogs import CountingProxy, moto_reader, moto_writer, seed
from servers import DropConditionalsProxy, run_alba, s3_url
from workloads import race

from alba_action.pages.render import NamePage, TagView, name_page
from alba_action.static import catalog, plan

MANY = 3000
SLACK = 40  # requests a 3,000-tag name may cost beyond an empty one


def tree(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        for f in ("tool", "tool.1"):
            (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
            (root / "df/linux" / arch / f).write_text(f"{f} {arch}")
    return root / "df"


def fresh(moto, name: str) -> str:
    moto.client().create_bucket(Bucket=name)
    return name


def stored(moto, bucket: str, key: str) -> tuple[bytes, str]:
    """An object's bytes and bare ETag, read in moto itself (thousands in a blink)."""
    got = moto_reader(bucket)(key)
    return got.value, catalog.bare_etag(got.etag)


def full_page(moto, bucket: str, name: str) -> bytes:
    """The name page rendered from every tag document the name document lists, read now."""
    doc = catalog.parse(stored(moto, bucket, plan.name_key(name))[0])
    views = []
    for tag in doc.tags:
        data, etag = stored(moto, bucket, plan.tag_key(name, tag))
        views.append(TagView(tag, json.loads(data), etag))
    return name_page(NamePage(name, views))


def by_published(moto, bucket: str, name: str, tags) -> list[str]:
    when = {t: json.loads(stored(moto, bucket, plan.tag_key(name, t))[0])["published"] for t in tags}
    return sorted(tags, key=lambda t: (when[t], t), reverse=True)


def listed(moto, bucket: str, name: str = "tool") -> catalog.NameDoc:
    return catalog.parse(stored(moto, bucket, plan.name_key(name))[0])


def costs(proxy: CountingProxy, bucket: str, src: Path) -> dict[str, tuple[int, int]]:
    """(requests, tag documents read) of a push, an rm and a page rewrite."""
    out = {}
    url = s3_url(bucket, proxy.port)
    for what, args in (("push", ("push", "-t", "tool:9.9", src)), ("rm", ("rm", "-t", "tool:9.9")),
                       ("page", ("page", "-t", "tool"))):
        proxy.take()
        r = run_alba("static", *args, url)
        assert r.returncode == 0, r.stderr
        total, _, paths = proxy.take()
        out[what] = (total, proxy.tag_document_reads(paths, "tool"))
    return out


def test_push_rm_and_page_cost_the_same_at_3000_tags(moto, aws_env, tmp_path):
    big, empty = fresh(moto, "catalog-3000"), fresh(moto, "catalog-0")
    seeded = seed(moto_writer(big), "tool", MANY, files=True)
    src = tree(tmp_path)
    with CountingProxy(moto.port) as proxy:
        assert run_alba("static", "push", "-t", "tool:0.0", src, s3_url(empty, proxy.port)).returncode == 0
        flat, many = costs(proxy, empty, src), costs(proxy, big, src)
    for what in flat:
        assert many[what][0] <= flat[what][0] + SLACK, (what, many, flat)
        assert many[what][1] <= flat[what][1] + 1, (what, many, flat)  # no tag document read but its own
    assert list(listed(moto, big).tags) == seeded  # pushed (newest), then removed again


def test_order_after_push_and_rm_and_the_page_a_full_render_gives(moto, aws_env, tmp_path):
    bucket = fresh(moto, "catalog-order")
    seeded = seed(moto_writer(bucket), "tool", MANY, files=True)
    src, url = tree(tmp_path), s3_url(bucket, moto.port)
    assert run_alba("static", "push", "-t", "tool:new", "-t", "tool:newer", src, url).returncode == 0
    assert run_alba("static", "push", "-t", f"tool:{seeded[10]}", src, url).returncode == 0  # re-published: first
    doc = listed(moto, bucket)
    assert list(doc.tags) == [seeded[10], "new", "newer"] + seeded[:10] + seeded[11:]
    assert list(doc.tags) == by_published(moto, bucket, "tool", doc.tags)
    page = stored(moto, bucket, "df-dist-v1/tool/index.html")[0]
    assert page == full_page(moto, bucket, "tool")
    oldest = seeded[-1]
    assert run_alba("static", "rm", "-t", f"tool:{oldest}", url).returncode == 0
    after = listed(moto, bucket)
    assert list(after.tags) == [t for t in doc.tags if t != oldest]
    assert after.etags == tuple(stored(moto, bucket, plan.tag_key("tool", t))[1] for t in after.tags)
    assert stored(moto, bucket, "df-dist-v1/tool/index.html")[0] == full_page(moto, bucket, "tool")
    assert f"tag-{oldest}" not in stored(moto, bucket, "df-dist-v1/tool/index.html")[0].decode()


def test_a_name_document_of_an_earlier_alba_is_read_through_once(moto, aws_env, tmp_path):
    bucket = fresh(moto, "catalog-legacy")
    seeded = seed(moto_writer(bucket), "tool", 300, legacy=True, page=False)
    src = tree(tmp_path)
    with CountingProxy(moto.port) as proxy:
        url = s3_url(bucket, proxy.port)
        reads = []
        for tag in ("a", "b"):
            proxy.take()
            assert run_alba("static", "push", "-t", f"tool:{tag}", src, url).returncode == 0
            reads.append(proxy.tag_document_reads(proxy.take()[2], "tool"))
    assert reads[0] >= 300 and reads[1] <= 1, reads  # the first push records what the second reuses
    assert list(listed(moto, bucket).tags) == ["b", "a"] + seeded
    assert stored(moto, bucket, "df-dist-v1/tool/index.html")[0] == full_page(moto, bucket, "tool")


@pytest.mark.parametrize("racers", [4])
def test_concurrent_writers_without_conditional_writes_keep_a_big_catalog_newest_first(
        moto, aws_env, garage_like, tmp_path, racers):
    bucket = fresh(moto, "catalog-race")
    seeded = seed(moto_writer(bucket), "tool", 2000)
    src = tree(tmp_path)
    names = [f"race-{i}" for i in range(racers)]
    with DropConditionalsProxy(moto.port, delay_reads=r"^/[^/]+/df-dist-v1/tool$", delay_seconds=0.3) as slow:
        results = race(s3_url(bucket, slow.port), src, names)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    doc = listed(moto, bucket)
    assert sorted(doc.tags[:racers]) == sorted(names) and list(doc.tags[racers:]) == seeded
    assert list(doc.tags) == by_published(moto, bucket, "tool", doc.tags)
    assert doc.etags == tuple(stored(moto, bucket, plan.tag_key("tool", t))[1] for t in doc.tags)
    assert stored(moto, bucket, "df-dist-v1/tool/index.html")[0] == full_page(moto, bucket, "tool")
    # and through the session's Garage-like proxy, an rm of a racer converges the same way
    assert run_alba("static", "rm", "-t", f"tool:{names[0]}", s3_url(bucket, garage_like.port)).returncode == 0
    assert list(listed(moto, bucket).tags) == [t for t in doc.tags if t != names[0]]
    assert stored(moto, bucket, "df-dist-v1/tool/index.html")[0] == full_page(moto, bucket, "tool")


def test_alba_full_render_and_the_page_written_from_changes_are_the_same_bytes(moto, aws_env, tmp_path):
    from alba_action.pages.publish import render_name
    from alba_action.targets.open import open_store

    bucket = fresh(moto, "catalog-render")
    seed(moto_writer(bucket), "tool", 200)
    src, url = tree(tmp_path), s3_url(bucket, moto.port)
    assert run_alba("static", "push", "-t", "tool:x", src, url).returncode == 0
    written = stored(moto, bucket, "df-dist-v1/tool/index.html")[0]
    assert render_name(open_store(url), "tool") == written  # every document read, no page reused
