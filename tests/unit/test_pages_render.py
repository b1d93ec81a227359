"""alba_action.pages.render: download pages as bytes from tag documents — escaping of hostile
names and paths, relative links, sizes, ordering, what the verify block shows."""

from __future__ import annotations

import re

import pytest

from alba_action.pages.render import NamePage, TagView, index_page, name_page

HEX = "a" * 64
DOC = {
    "flavors": [
        {"resources": [{"path": "albatros", "size": 1234567, "digest": "sha256:" + HEX}],
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"resources": [{"path": "albatros", "size": 12, "digest": "sha256:" + "b" * 64}],
         "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}},
    ],
    "published": "2026-12-03T02:13:28.123456Z",
}


def page(*views: TagView, **kw) -> str:
    return name_page(NamePage(kw.pop("name", "albatros"), list(views), **kw)).decode()


def rows(html: str) -> list[str]:
    return re.findall(r"<tr data-os.*?</tr>", html)


def one_file(resource: dict, platform: dict | None = None, tag: str = "1") -> str:
    platform = platform or {"os": "linux", "architecture": "amd64"}
    (row,) = rows(page(TagView(tag, {"flavors": [{"resources": [resource], "platform": platform}]})))
    return row


# -- the page as a whole ----------------------------------------------------------------------


def test_page_is_self_contained_html() -> None:
    html = page(TagView("0.9", DOC))
    assert html.startswith('<!doctype html><html lang="en"><head><meta charset="utf-8">')
    assert html.endswith("</script></body></html>\n")
    assert "<title>albatros downloads</title>" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing fetched from elsewhere
    assert '<a href="../">All downloads</a>' in html


def test_tags_in_the_given_order_newest_marked() -> None:
    html = page(TagView("0.10", {}), TagView("0.9", {}), TagView("1.0", {}))
    assert re.findall(r'<h2 id="tag-([^"]+)">', html) == ["0.10", "0.9", "1.0"]
    assert '<h2 id="tag-0.10">0.10 <span class="muted">(latest)</span></h2>' in html
    assert html.count("(latest)") == 1
    assert '<p class="muted">3 releases, newest first.</p>' in html


def test_file_rows_platforms_links_sizes_digests() -> None:
    assert rows(page(TagView("0.9", DOC))) == [
        '<tr data-os="linux" data-arch="amd64"><td>linux/amd64</td><td><a href="0.9/linux/amd64/albatros" download>'
        f'albatros</a></td><td>1.2 MB</td><td class="digest"><code>{HEX}</code></td></tr>',
        '<tr data-os="linux" data-arch="arm"><td>linux/arm/v7</td><td><a href="0.9/linux/arm/v7/albatros" download>'
        f'albatros</a></td><td>12 B</td><td class="digest"><code>{"b" * 64}</code></td></tr>',
    ]


def test_published_time_shown_in_utc() -> None:
    assert ('<p class="muted">Published <time datetime="2026-12-03T02:13:28.123456Z">2026-12-03 02:13:28 UTC</time></p>'
            in page(TagView("0.9", DOC)))


def test_no_published_no_time() -> None:
    assert "<time" not in page(TagView("0.9", {"flavors": DOC["flavors"]}))


@pytest.mark.parametrize(
    "size, shown",
    [
        pytest.param(0, "0 B", id="zero"),
        pytest.param(999, "999 B", id="999"),
        pytest.param(1000, "1.0 kB", id="1000-is-kB"),
        pytest.param(1234567, "1.2 MB", id="MB"),
        pytest.param(3 * 10**9, "3.0 GB", id="GB"),
        pytest.param(5 * 10**12, "5000.0 GB", id="TB-shown-as-GB"),
        pytest.param(None, None, id="missing-size-is-0"),
    ],
)
def test_sizes(size, shown) -> None:
    resource = {"path": "a"} if size is None else {"path": "a", "size": size}
    assert f"<td>{shown or '0 B'}</td>" in one_file(resource)


def test_original_layout_without_size_or_digest() -> None:
    row = one_file({"path": "a"})
    assert row.endswith('<td>0 B</td><td class="digest"><code></code></td></tr>')


def test_digest_prefix_stripped_only_when_sha256() -> None:
    assert "<code>md5:x</code>" in one_file({"path": "a", "digest": "md5:x"})


# -- escaping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, href, text",
    [
        pytest.param('bin/<b>x&y".sh', "1/linux/amd64/bin/%3Cb%3Ex%26y%22.sh", "bin/&lt;b&gt;x&amp;y&quot;.sh",
                     id="html-chars"),
        pytest.param("a b#c?d", "1/linux/amd64/a%20b%23c%3Fd", "a b#c?d", id="url-chars"),
        pytest.param("javascript:alert(1)", "1/linux/amd64/javascript%3Aalert%281%29", "javascript:alert(1)",
                     id="scheme-like"),
        pytest.param("ünï/çødé", "1/linux/amd64/%C3%BCn%C3%AF/%C3%A7%C3%B8d%C3%A9", "ünï/çødé", id="non-ascii"),
        pytest.param("'single'", "1/linux/amd64/%27single%27", "&#x27;single&#x27;", id="single-quotes"),
        pytest.param("../../x", "1/linux/amd64/../../x", "../../x", id="dot-dot-segments-kept"),
    ],
)
def test_hostile_paths_are_escaped(path: str, href: str, text: str) -> None:
    row = one_file({"path": path})
    assert f'<a href="{href}" download>{text}</a>' in row


def test_hostile_platform_and_signature() -> None:
    row = one_file({"path": "a", "signature": "a<.minisig"}, {"os": 'li"nux', "architecture": "<x>"})
    assert row.startswith('<tr data-os="li&quot;nux" data-arch="&lt;x&gt;"><td>li&quot;nux/&lt;x&gt;</td>')
    assert '(<a href="1/li%22nux/%3Cx%3E/a%3C.minisig">signature</a>)' in row


def test_hostile_name_tag_published_and_image_tags() -> None:
    html = page(TagView("<t>", {"published": '"><script>x'}), name="a<script>", image_tags=["<i>"],
                image_ref='h/"r')
    assert "<script>x" not in html and "<t>" not in html and "<i>" not in html and "a<script>" not in html
    assert "<title>a&lt;script&gt; downloads</title>" in html
    assert "<h1>a&lt;script&gt;</h1>" in html
    assert '<h2 id="tag-&lt;t&gt;">&lt;t&gt;' in html
    assert '<time datetime="&quot;&gt;&lt;script&gt;x">&quot;&gt;&lt;script&gt;x UTC</time>' in html
    assert '<pre class="cmd">docker pull h/&quot;r:&lt;i&gt;</pre>' in html


# -- verify block -----------------------------------------------------------------------------


def _verify(doc: dict) -> str:
    html = page(TagView("1.0", doc))
    found = re.findall(r"<h3>Check your download</h3>.*?</section>", html, re.S)
    return found[0] if found else ""


def test_no_checksums_no_attachments_no_verify_block() -> None:
    assert _verify({"flavors": DOC["flavors"]}) == ""


def test_signed_checksums_block() -> None:
    block = _verify({"checksums": {"path": "SHA256SUMS", "signature": "SHA256SUMS.minisig"}})
    assert block == (
        '<h3>Check your download</h3><ul>\n<li><a href="1.0/SHA256SUMS">SHA256SUMS</a> (checksums), '
        '<a href="1.0/SHA256SUMS.minisig">SHA256SUMS.minisig</a> (signature)</li>\n</ul>\n'
        '<pre class="cmd">sha256sum -c --ignore-missing SHA256SUMS</pre>\n'
        '<pre class="cmd">minisign -Vm SHA256SUMS -p PUBLIC_KEY.pub</pre>\n</section>'
    )


def test_unsigned_checksums_have_no_minisign_line() -> None:
    block = _verify({"checksums": {"path": "SHA256SUMS"}})
    assert "sha256sum -c --ignore-missing SHA256SUMS" in block
    assert "minisign" not in block and "(signature)" not in block


@pytest.mark.parametrize(
    "attachments, items",
    [
        pytest.param([{"path": "_alba/provenance.intoto.json", "mediaType": "application/vnd.in-toto+json"}],
                     ['<li><a href="1.0/_alba/provenance.intoto.json">_alba/provenance.intoto.json</a> '
                      "(application/vnd.in-toto+json)</li>"], id="with-media-type"),
        pytest.param([{"path": "_alba/x.spdx.json"}],
                     ['<li><a href="1.0/_alba/x.spdx.json">_alba/x.spdx.json</a> (attachment)</li>'], id="no-media-type"),
        pytest.param(["junk", {"nopath": 1}, {"path": ""}, {"path": "k"}],
                     ['<li><a href="1.0/k">k</a> (attachment)</li>'], id="malformed-skipped"),
    ],
)
def test_attachments_listed(attachments, items) -> None:
    block = _verify({"attachments": attachments})
    assert re.findall(r"<li>.*?</li>", block) == items
    assert "sha256sum" not in block


# -- images section ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image_ref, image_tags, pull",
    [
        pytest.param("", ["1.0", "x"], "albatros:1.0", id="name-when-no-host"),
        pytest.param("reg.example/albatros", ["2", "1"], "reg.example/albatros:2", id="public-host"),
    ],
)
def test_images_section_pulls_the_first_tag(image_ref: str, image_tags, pull: str) -> None:
    html = page(image_tags=image_tags, image_ref=image_ref)
    assert f'<pre class="cmd">docker pull {pull}</pre>' in html
    assert f'<pre class="cmd">podman pull {pull}</pre>' in html
    assert "<p>Tags: " + ", ".join(f"<code>{t}</code>" for t in image_tags) + "</p>" in html


def test_no_image_tags_no_images_section() -> None:
    assert 'id="images"' not in page(TagView("1", {}))


# -- index page -------------------------------------------------------------------------------


def test_index_page_rows() -> None:
    html = index_page([("albatros", "0.9", 2), ("b<x>", None, 0), ("c", "v 1", 1)]).decode()
    assert "<title>Downloads</title>" in html and "<h1>Downloads</h1>" in html
    assert re.findall(r"<tr><td>.*?</tr>", html) == [
        '<tr><td><a href="albatros/">albatros</a></td><td><a href="albatros/#tag-0.9">0.9</a></td><td>2</td></tr>',
        '<tr><td><a href="b%3Cx%3E/">b&lt;x&gt;</a></td><td>—</td><td>0</td></tr>',
        '<tr><td><a href="c/">c</a></td><td><a href="c/#tag-v%201">v 1</a></td><td>1</td></tr>',
    ]


def test_index_page_empty_and_deterministic() -> None:
    assert index_page([]) == index_page([])
    assert "</tr></thead><tbody>\n</tbody></table>" in index_page([]).decode()
    assert "<tr><td>" not in index_page([]).decode()


def test_name_page_deterministic() -> None:
    assert name_page(NamePage("a", [TagView("1", DOC)])) == name_page(NamePage("a", [TagView("1", DOC)]))
