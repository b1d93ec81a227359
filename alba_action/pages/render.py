"""Download pages as bytes (pure): one page per name and one index of all names.

Self-contained: inline CSS and script, no external font, script or stylesheet — the bucket
is the only server. Without JavaScript the page is complete (tables of tags, platforms,
files, sizes, digests, checksums, signatures, how to verify, image pull lines); with it,
the row for the visitor's OS and architecture is highlighted and commands get copy buttons.
Every text from a document is escaped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape, unescape
from urllib.parse import quote

from alba_action.report.progress import human_size

STYLE = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--hi:#fff8c5;--link:#0550ae}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#30363d;--hi:#3b2e00;--link:#4493f8}}
*{box-sizing:border-box}body{margin:0 auto;max-width:60rem;padding:1rem;font:16px/1.5 system-ui,sans-serif;
background:var(--bg);color:var(--fg)}a{color:var(--link)}a:focus,button:focus{outline:3px solid var(--link);outline-offset:2px}
h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid var(--line)}
.muted{color:var(--muted)}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
td.digest,code{font-family:ui-monospace,monospace;font-size:.85em;word-break:break-all}
tr.yours{background:var(--hi)}tr.yours td:first-child::after{content:" \\2190 yours"}
.wrap{overflow-x:auto}pre{white-space:pre-wrap;word-break:break-all;padding:.5rem;border:1px solid var(--line)}
button.copy{margin-left:.5rem;font-size:.8rem}
@media (max-width:40rem){td.digest{display:none}th.digest{display:none}}
"""

SCRIPT = """
(function(){
  var ua = navigator.userAgent || "";
  var os = /Windows/i.test(ua) ? "windows" : /Android/i.test(ua) ? "android" :
           /Mac OS X|Macintosh/i.test(ua) ? "darwin" : /Linux|X11|CrOS/i.test(ua) ? "linux" :
           /FreeBSD/i.test(ua) ? "freebsd" : "";
  var arch = /aarch64|arm64/i.test(ua) ? "arm64" : /armv7|armv6|\\barm\\b/i.test(ua) ? "arm" :
             /x86_64|x64|amd64|Win64|WOW64|Intel Mac/i.test(ua) ? "amd64" : /i[3-6]86/i.test(ua) ? "386" : "";
  document.documentElement.setAttribute("data-os", os);
  document.documentElement.setAttribute("data-arch", arch);
  var rows = document.querySelectorAll("tr[data-os]");
  for (var i = 0; i < rows.length; i++) {
    if (rows[i].getAttribute("data-os") === os && rows[i].getAttribute("data-arch") === arch) {
      rows[i].className += " yours";
    }
  }
  var codes = document.querySelectorAll("pre.cmd");
  for (var j = 0; j < codes.length; j++) {
    (function(pre){
      var b = document.createElement("button");
      b.type = "button"; b.className = "copy"; b.textContent = "Copy";
      b.setAttribute("aria-label", "Copy: " + pre.textContent);
      b.addEventListener("click", function(){
        if (navigator.clipboard) { navigator.clipboard.writeText(pre.textContent).then(function(){ b.textContent = "Copied"; }, function(){}); }
      });
      pre.parentNode.insertBefore(b, pre.nextSibling);
    })(codes[j]);
  }
})();
"""


@dataclass
class TagView:
    tag: str
    doc: dict
    etag: str | None = None  # of the tag document: marks its section for reuse (section_cache)


@dataclass
class NamePage:
    name: str
    tags: list[TagView]
    image_tags: list[str] = field(default_factory=list)
    image_ref: str = ""  # HOST/NAME for pull lines, when the registry's public host is known


def _href(*parts: str) -> str:
    """A relative link, each path segment escaped (file names may hold any character)."""
    return "/".join(quote(p, safe="") for part in parts for p in part.split("/"))


def _platform(p: dict) -> tuple[str, str]:
    folder = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
    return folder, f' data-os="{escape(p.get("os", ""))}" data-arch="{escape(p.get("architecture", ""))}"'


def _document(title: str, body: list[str]) -> bytes:
    head = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>")
    return (head + "\n".join(body) + f"<script>{SCRIPT}</script></body></html>\n").encode()


def name_page(page: NamePage, sections: Sequence[str] | None = None) -> bytes:
    """df-dist-v1/NAME/index.html, served at …/NAME/: links are relative to that folder.
    `sections`: the tag_section of every tag, newest first, in place of `page.tags` when
    already at hand (section_cache); the page is the same bytes either way."""
    name = escape(page.name)
    sections = [tag_section(view) for view in page.tags] if sections is None else list(sections)
    body = [f"<header><p class=\"muted\"><a href=\"../\">All downloads</a></p><h1>{name}</h1>",
            f"<p class=\"muted\">{len(sections)} releases, newest first.</p></header><main>"]
    body += [_mark_newest(s) if i == 0 else s for i, s in enumerate(sections)]
    if page.image_tags:
        body += _images_section(page)
    return _document(f"{page.name} downloads", body + ["</main>"])


NEWEST = ' <span class="muted">(latest)</span>'
_OPEN = '<section aria-labelledby="tag-'
_HEAD = re.compile(r'<section aria-labelledby="tag-[^"]*" data-doc="([^"]*)"><h2 id="tag-([^"]*)">')


def tag_section(view: TagView) -> str:
    """One tag's part of the name page (without the newest mark): a function of its document
    alone, so a later page reuses it while the document's ETag stays the same."""
    return "\n".join(_tag_section(view))


def section_cache(page: bytes | None) -> dict[tuple[str, str], str]:
    """(tag, ETag) → its tag_section, from a name page this renderer wrote. Sections of
    another renderer (RENDERER differs) or without an ETag are not reused."""
    found = {}
    # Text from documents is escaped, so `<section` and `</section>` are only alba's own.
    for chunk in (page.decode("utf-8", "replace").split("</section>") if page else ()):
        start = chunk.rfind(_OPEN)
        m = _HEAD.match(chunk, start) if start >= 0 else None
        renderer, _, etag = unescape(m[1]).partition(" ") if m else ("", "", "")
        if renderer == RENDERER:
            found[(unescape(m[2]), etag)] = chunk[start:].replace(NEWEST + "</h2>", "</h2>", 1) + "</section>"
    return found


def _mark_newest(section: str) -> str:
    return section.replace("</h2>", NEWEST + "</h2>", 1)  # the first </h2> closes the tag's heading


def _tag_section(view: TagView) -> list[str]:
    tag, doc = view.tag, view.doc
    anchor = escape(f"tag-{tag}")
    when = doc.get("published", "")
    mark = f' data-doc="{escape(f"{RENDERER} {view.etag}")}"' if view.etag else ""
    out = [f'<section aria-labelledby="{anchor}"{mark}><h2 id="{anchor}">{escape(tag)}</h2>']
    if when:
        out.append(f'<p class="muted">Published <time datetime="{escape(when)}">{escape(when[:19].replace("T", " "))} UTC</time></p>')
    out.append(f'<div class="wrap"><table><caption class="muted">Files of {escape(tag)}</caption><thead><tr>'
               '<th scope="col">Platform</th><th scope="col">File</th><th scope="col">Size</th>'
               '<th scope="col" class="digest">SHA-256</th></tr></thead><tbody>')
    for flavor in doc.get("flavors", []):
        folder, attrs = _platform(flavor.get("platform", {}))
        for r in flavor.get("resources", []):
            href = _href(tag, folder, *r["path"].split("/"))
            sig = (f' (<a href="{_href(tag, folder, *r["signature"].split("/"))}">signature</a>)'
                   if r.get("signature") else "")
            out.append(f"<tr{attrs}><td>{escape(folder)}</td><td><a href=\"{href}\" download>{escape(r['path'])}</a>{sig}</td>"
                       f"<td>{escape(human_size(r.get('size', 0)))}</td>"
                       f"<td class=\"digest\"><code>{escape(str(r.get('digest', '')).removeprefix('sha256:'))}</code></td></tr>")
    out.append("</tbody></table></div>")
    out += _verify_block(tag, doc)
    return out + ["</section>"]


def _verify_block(tag: str, doc: dict) -> list[str]:
    checksums = doc.get("checksums")
    extras = [a for a in doc.get("attachments", []) if isinstance(a, dict) and a.get("path")]
    if not checksums and not extras:
        return []
    out = ["<h3>Check your download</h3><ul>"]
    if checksums:
        out.append(f'<li><a href="{_href(tag, checksums["path"])}">{escape(checksums["path"])}</a> (checksums)'
                   + (f', <a href="{_href(tag, checksums["signature"])}">{escape(checksums["signature"])}</a> (signature)'
                      if checksums.get("signature") else "") + "</li>")
    for a in extras:
        out.append(f'<li><a href="{_href(tag, *a["path"].split("/"))}">{escape(a["path"])}</a> '
                   f'({escape(a.get("mediaType", "attachment"))})</li>')
    out.append("</ul>")
    if checksums:
        out.append(f'<pre class="cmd">sha256sum -c --ignore-missing {escape(checksums["path"])}</pre>')
        if checksums.get("signature"):
            out.append(f'<pre class="cmd">minisign -Vm {escape(checksums["path"])} -p PUBLIC_KEY.pub</pre>')
    return out


def _images_section(page: NamePage) -> list[str]:
    ref = escape(page.image_ref or page.name)
    out = ['<section aria-labelledby="images"><h2 id="images">Container images</h2>',
           f"<p>Tags: {', '.join(f'<code>{escape(t)}</code>' for t in page.image_tags)}</p>"]
    newest = escape(page.image_tags[0])
    out.append(f'<pre class="cmd">docker pull {ref}:{newest}</pre>')
    out.append(f'<pre class="cmd">podman pull {ref}:{newest}</pre>')
    return out + ["</section>"]


def index_page(names: list[tuple[str, str | None, int]]) -> bytes:
    """df-dist-v1/index.html: every name, with its newest tag and how many releases."""
    body = ["<header><h1>Downloads</h1></header><main><div class=\"wrap\"><table><thead><tr>"
            '<th scope="col">Name</th><th scope="col">Newest release</th><th scope="col">Releases</th>'
            "</tr></thead><tbody>"]
    for name, newest, count in names:
        newest_cell = (f'<a href="{_href(name)}/#{escape(quote("tag-" + newest, safe=""))}">{escape(newest)}</a>'
                       if newest else "—")
        body.append(f'<tr><td><a href="{_href(name)}/">{escape(name)}</a></td><td>{newest_cell}</td><td>{count}</td></tr>')
    body.append("</tbody></table></div></main>")
    return _document("Downloads", body)


def _renderer() -> str:
    """A fingerprint of how tag sections are rendered (a rich sample through every branch):
    a page written by an alba that renders them differently is never reused piecemeal."""
    sample = {"flavors": [{"resources": [{"path": "a/b", "size": 1, "digest": "sha256:0", "signature": "a/b.minisig"}],
                           "platform": {"architecture": "arm", "os": "linux", "variant": "v7"}}],
              "published": "2000-01-01T00:00:00.000000Z",
              "checksums": {"path": "SHA256SUMS", "signature": "SHA256SUMS.minisig"},
              "attachments": [{"path": "_alba/x.json", "mediaType": "application/json"}]}
    return hashlib.sha256("\n".join(_tag_section(TagView("t", sample))).encode()).hexdigest()[:12]


RENDERER = _renderer()
