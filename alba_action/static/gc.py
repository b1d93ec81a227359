"""gc of a df-dist-v1 name by a retention policy: the tags to remove (each with its tag
document, files, checksums, signatures and `_alba/` attachments, all under its folder),
files no tag document lists once older than the grace, then a check that every kept tag
is whole. Age is the tag document's `published`."""

from __future__ import annotations

import json
import time

from alba_action.errors import TargetError
from alba_action.images.gc import kept_line
from alba_action.images.published import seconds
from alba_action.report.progress import Reporter
from alba_action.retention import Policy, decide
from alba_action.static import catalog, plan


def decide_tags(store, name: str, policy: Policy, reporter: Reporter):
    tags = plan.checked_tags(catalog.read_tags(store, name)[0], name, store.url)
    published = {t: seconds(w) for t, w in catalog.PublicationTimes(store, name).present(set()).items()}
    decision = decide(tags, published, time.time(), policy)
    for warning in decision.warnings:
        reporter.log(f"⚠ {warning}")
    reporter.log(f"keeping {len(decision.kept)} of {len(tags)} tags: " + kept_line(decision.kept))
    return tags, decision


def needed_files(doc: dict) -> list[str]:
    """Every path a tag document names, relative to its tag folder."""
    out = []
    for flavor in doc.get("flavors", []):
        p = flavor["platform"]
        folder = "/".join(x for x in (p["os"], p["architecture"], p.get("variant")) if x)
        for resource in flavor.get("resources", []):
            out.append(f"{folder}/{resource['path']}")
            if resource.get("signature"):
                out.append(f"{folder}/{resource['signature']}")
    checksums = doc.get("checksums") or {}
    out += [checksums[k] for k in ("path", "signature") if checksums.get(k)]
    out += [a["path"] for a in doc.get("attachments", []) if a.get("path")]
    return out


def validate(store, name: str, kept: list[str], reporter: Reporter, deleting: set[str] = frozenset()) -> dict:
    """Every kept tag's document and every file it names are there (and not about to go)."""
    missing, files = [], 0
    for tag in kept:
        key = plan.tag_key(name, tag)
        got = store.get(key)
        if got is None or key in deleting:
            missing.append(key)
            continue
        try:
            wanted = needed_files(json.loads(got[0]))
        except (ValueError, KeyError, TypeError, AttributeError):
            missing.append(f"{key} (unreadable)")
            continue
        present = set(store.list(key + "/"))
        for path in wanted:
            full = f"{key}/{path}"
            files += 1
            if full not in present or full in deleting:
                missing.append(full)
    out = {"tags": len(kept), "files": files, "whole": not missing}
    if missing:
        raise TargetError(f"{store.url}: after gc, kept tags of {name} are not whole: {', '.join(missing[:5])}",
                          "publish those tags again; and report this: gc must never break a kept tag")
    reporter.log(f"validated: {len(kept)} kept tags whole ({files} files present)")
    return out
