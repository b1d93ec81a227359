"""Download pages as bytes (pure): one page per name and one index of all names.

Self-contained: inline CSS and script, no external font, script or stylesheet — the bucket
is the only server. Without JavaScript the page is complete (tables of tags, platforms,
files, sizes, digests, checksums, signatures, how to verify, image pull lines); with it,
the row for the visitor's OS and architecture is highlighted and commands get copy buttons.
Every text from a document is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
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


def name_page(page: NamePage) -> bytes:
    """df-dist-v1/NAME/index.html, served at …/NAME/: links are relative to that folder."""
    name = escape(page.name)
    body = [f"<header><p class=\"muted\"><a href=\"../\">All downloads</a></p><h1>{name}</h1>",
            f"<p class=\"muted\">{len(page.tags)} releases, newest first.</p></header><main>"]
    for i, view in enumerate(page.tags):
        body += _tag_section(view, newest=i == 0)
    if page.image_tags:
        body += _images_section(page)
    return _document(f"{page.name} downloads", body + ["</main>"])


def _tag_section(view: TagView, newest: bool) -> list[str]:
    tag, doc = view.tag, view.doc
    anchor = escape(f"tag-{tag}")
    when = doc.get("published", "")
    out = [f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{escape(tag)}'
           + (' <span class="muted">(latest)</span>' if newest else "") + "</h2>"]
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
