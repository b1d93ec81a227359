"""The action's results as one JSON document, as step outputs ($GITHUB_OUTPUT) and as an output file.

Outputs carry digests, tags and public URLs only — never a credential or anything derived
from one (GitHub drops an output that contains a masked value).
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from alba_action.errors import InputError
from alba_action.targets.registries import dockerhub


def pull_host(target: str, public_url: str) -> str:
    """Where clients pull from: the registry of a docker:// target, or the public host of a static one."""
    if target.startswith("docker://"):
        host = target.removeprefix("docker://").split("/", 1)[0]
        return dockerhub.pull_host(host)
    return public_url.split("://", 1)[-1].rstrip("/") if public_url else ""


def image_refs(result: dict, public_url: str) -> list[str]:
    """`HOST/REPO:TAG` for each tag, then `HOST/REPO@DIGEST` (what to pin in a deployment)."""
    host = pull_host(result["target"], public_url)
    if not host:
        return []
    repo = f"{host}/{result['name']}"
    return [f"{repo}:{t}" for t in result["tags"]] + [f"{repo}@{result['digest']}"]


def file_urls(result: dict, public_url: str) -> list[str]:
    """Download URLs of the static files: under `public-url`, or the files themselves for a folder target."""
    target = result["target"]
    if public_url:
        base = public_url
    elif target.startswith("file://"):
        base = target.rstrip("/")
    else:
        return []  # a bucket whose public address we were not told
    return [f"{base}/{f['key']}" for f in result.get("files", [])]


def build_document(name: str, tag_result: dict, static: list[dict], containers: list[dict],
                   public_url: str, registry_public_url: str, dry_run: bool) -> dict:
    """Everything a later step may want, in one stable JSON object (the `json` output):
    each target's result with what users fetch (download URLs, image references)."""
    static = [{**result, "urls": file_urls(result, public_url)} for result in static]
    containers = [{**result, "refs": image_refs(result, registry_public_url)} for result in containers]
    first = containers[0] if containers else None
    return {
        "name": name,
        "version": tag_result["version"],
        "latest": tag_result["latest"],
        "tags": tag_result["tags"],
        "dry_run": dry_run,
        "digest": first["digest"] if first else "",
        "digests": {p["platform"]: p["digest"] for p in first["platforms"]} if first else {},
        "urls": [u for r in static for u in r["urls"]] + [u for r in containers for u in r["refs"]],
        "static": static,
        "containers": containers,
    }


def attestations(doc: dict) -> list[dict]:
    """Every attachment published: referrers of images, files under static tags."""
    out = [{"target": r["target"], **a} for r in doc.get("containers", []) for a in r.get("referrers", [])]
    out += [{"target": r["target"], **a} for r in doc.get("static", []) for a in r.get("attachments", [])]
    return out


def step_outputs(doc: dict, sep_tags: str = "\n", sep_labels: str = "\n", sep_annotations: str = "\n") -> dict[str, str]:
    """metadata-action's outputs (`version`, `tags`, `labels`, `annotations`, joined by the
    sep-* inputs) and ours: the index digest, per-platform digests, URLs, everything as JSON."""
    annotations = doc.get("annotations") or {}
    return {
        "version": doc["version"],
        "tags": sep_tags.join(doc["tags"]),
        "labels": sep_labels.join(f"{k}={v}" for k, v in sorted(annotations.items())),
        "annotations": sep_annotations.join(f"index:{k}={v}" for k, v in sorted(annotations.items())),
        "attestations": json.dumps(attestations(doc), sort_keys=True),
        "digest": doc["digest"],
        "digests": json.dumps(doc["digests"], sort_keys=True),
        "urls": "\n".join(doc["urls"]),
        "release-id": doc.get("release_id", ""),
        "json": json.dumps(doc, sort_keys=True),
    }


def format_output(name: str, value: str) -> str:
    """`name=value`, or the heredoc form with a random delimiter that the value does not contain."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4()}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def parse_outputs(text: str) -> dict[str, str]:
    """The inverse of format_output, as the runner reads the file (tests and debugging)."""
    out, lines, i = {}, text.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i)
            out[key] = "\n".join(lines[i:end])
            i = end + 1
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def append_text(path: str, text: str, what: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as err:
        raise InputError(f"{what} {path!r} cannot be written: {err.strerror or err}",
                         f"point {what} at a writable file (its folder must exist and be writable)") from None


def check_writable(path: str, what: str) -> None:
    """Fail before any upload when a result file cannot be written: a lost result is a failed step."""
    parent = Path(path).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"{what} {path!r} cannot be written: {err.strerror or err}",
                         f"point {what} at a file in a writable folder") from None
    append_text(path, "", what)


def write_github_outputs(path: str, outputs: dict[str, str]) -> None:
    append_text(path, "".join(format_output(k, v) for k, v in outputs.items()), "GITHUB_OUTPUT")


def write_output_file(path: str, doc: dict, what: str = "output-file") -> None:
    """The whole document, replaced atomically so a reader never sees half of it."""
    tmp = Path(f"{path}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{what} {path!r} cannot be written: {err.strerror or err}",
                         f"point {what} at a writable file (its folder must exist and be writable)") from None
