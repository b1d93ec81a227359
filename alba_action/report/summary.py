"""The job summary: GitHub-flavoured Markdown saying what was published where, or why nothing was."""

from __future__ import annotations

from alba_action.report.progress import human_size

MAX_ROWS = 200  # a summary is capped at 1 MiB a step; hundreds of files say enough


def _code(text: str) -> str:
    return f"`{text.replace('`', '')}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _tags_line(doc: dict) -> str:
    tags = ", ".join(_code(t) for t in doc["tags"]) or "none"
    line = f"**{doc['name']}** version {_code(doc['version'])} — tags {tags}"
    if doc.get("latest_dropped"):
        line += f"\n\n> {doc['latest_dropped']} (the latest guard is on)."
    return line + ("\n\n> **Dry run**: nothing was written; below is what would be." if doc["dry_run"] else "")


def static_section(result: dict) -> list[str]:
    version = result["tags"][0]
    files = [f for f in result.get("files", []) if f"/{version}/" in f["key"]]
    urls = dict(zip([f["key"] for f in result.get("files", [])], result.get("urls", [])))
    out = [f"### Static files → {_code(result['target'])}", "",
           "| platform | file | size | digest |", "|---|---|---|---|"]
    for f in files[:MAX_ROWS]:
        url = urls.get(f["key"])
        name = f"[{_cell(f['path'])}]({url})" if url else _code(f["key"])
        out.append(f"| {f['platform']} | {name} | {human_size(f['size'])} | {_code(f['digest'])} |")
    if len(files) > MAX_ROWS:
        out.append(f"| … | {len(files) - MAX_ROWS} more files | | |")
    others = ", ".join(_code(t) for t in result["tags"][1:])
    if others:
        out += ["", f"The same files under tag{'s' if len(result['tags']) > 2 else ''} {others}."]
    out += ["", "Documents: " + ", ".join(_code(d) for d in result.get("documents", [])), ""]
    return out


def container_section(result: dict) -> list[str]:
    out = [f"### Container image → {_code(result['target'])}", "",
           f"Index digest: {_code(result['digest'])} ({_code(result['media_type'])})", "",
           "| platform | manifest digest | size |", "|---|---|---|"]
    for p in result["platforms"]:
        out.append(f"| {p['platform']} | {_code(p['digest'])} | {human_size(p['size'])} |")
    blobs = f"{len(result.get('pushed_blobs', []))} blobs pushed, {len(result.get('existing_blobs', []))} already there"
    unchanged = result.get("unchanged_tags") or []
    out += ["", blobs + (f"; unchanged tags: {', '.join(map(_code, unchanged))}" if unchanged else "") + ".", ""]
    refs = result.get("refs") or []
    if refs:
        out += ["```sh", f"docker pull {refs[0]}", f"docker pull {refs[-1]}", "```", ""]
    return out


def copy_section(result: dict) -> list[str]:
    """A copy (input copy-from): from where, which tags became which, what each target got."""
    tags = "; ".join(f"{_code(src)} → {', '.join(map(_code, new))}" for src, new in result["tags"].items())
    out = [f"### Copied {result['kind']} {_code(result['name'])} from {_code(result['source'])}", "", tags, "",
           "| target | sent | already there |", "|---|---|---|"]
    for t in result["targets"]:
        sent = len(t.get("pushed_blobs", t.get("files", []))) + len(t.get("mounted_blobs", []))
        there = len(t.get("existing_blobs", t.get("unchanged", [])))
        out.append(f"| {_code(t['target'])} | {sent} | {there} |")
    return out + [""]


def success_markdown(doc: dict) -> str:
    lines = ["## ✅ alba published" if not doc["dry_run"] else "## alba dry run", "", _tags_line(doc), ""]
    for result in doc["static"]:
        lines += static_section(result)
    for result in doc["containers"]:
        lines += container_section(result)
    for result in doc.get("copy") or []:
        lines += copy_section(result)
    lines += parts_section(doc)
    attached = [a for r in doc["containers"] for a in r.get("referrers", [])]
    attached += [a for r in doc["static"] for a in r.get("attachments", [])]
    if attached:
        lines += ["### Provenance and SBOMs", "", "| kind | digest | attached to |", "|---|---|---|"]
        for a in attached:
            kind = a.get("artifactType") or a.get("mediaType", "")
            lines.append(f"| {_code(kind)} | {_code(a['digest'])} | {_code(a.get('subject') or a.get('path', ''))} |")
        lines.append("")
    lines += retention_section(doc.get("retention") or [])
    for report in doc.get("verify") or []:
        c = report["checked"]
        lines.append(f"Verified {_code(report['source'])}: {c['files']} files, {c['manifests']} manifests, "
                     f"{c['blobs']} blobs, {c['signatures']} signatures — all good")
    return "\n".join(lines) + "\n"


def parts_section(doc: dict) -> list[str]:
    """Matrix builds: the parts this step wrote, or the leftovers an assembly removed."""
    parts = doc.get("parts") or []
    if not parts:
        return []
    lines = [f"### Parts of release {_code(doc.get('release_id', ''))}", "",
             "| target | platforms | written | removed |", "|---|---|---|---|"]
    for r in parts:
        lines.append(f"| {_code(r['target'])} | {', '.join(r['platforms'])} | {len(r['files']) + len(r['records'])} "
                     f"| {len(r['removed'])} |")
    return lines + [""]


def retention_section(results: list[dict]) -> list[str]:
    """What gc kept (and by which rule) and deleted on each target."""
    if not results:
        return []
    out = ["### Retention", "", "| target | kept | removed | objects deleted | kept tags whole |", "|---|---|---|---|---|"]
    for r in results:
        removed = r.get("removed_tags") if r["kind"] == "container" else r.get("tags")
        kept = ", ".join(f"{_code(t)} ({_cell('; '.join(why))})" for t, why in list(r.get("kept", {}).items())[:50])
        whole = "yes" if (r.get("validation") or {}).get("whole") else "not checked"
        out.append(f"| {_code(r['target'])} | {kept or 'none'} | {', '.join(map(_code, removed or [])) or 'none'} "
                   f"| {len(r.get('deleted') or [])} | {whole} |")
    warnings = [w for r in results for w in r.get("warnings", [])]
    return out + [""] + [f"> {w}" for w in dict.fromkeys(warnings)] + ([""] if warnings else [])


def failure_markdown(kind: str, message: str, fix: str, done: list[str]) -> str:
    lines = ["## ❌ alba failed", "", f"**{kind}**: {message}", ""]
    if fix:
        lines += [f"**Fix**: {fix}", ""]
    if done:
        lines += ["Finished before the failure:", ""] + [f"- {d}" for d in done] + [""]
    else:
        lines += ["Nothing was published.", ""]
    return "\n".join(lines)
