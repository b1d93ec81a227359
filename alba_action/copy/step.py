"""The CI step's copy (input `copy-from`): the tags the `tags` rules give are read from the
source and published under the tags the `copy-as` rules give (the same tags when `copy-as`
is empty), images to `container-targets`, static releases to `static-target`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alba_action.copy.command import copy_images, copy_static
from alba_action.errors import InputError
from alba_action.options import run_options
from alba_action.report.progress import Reporter


def new_tags(ctx, rules: str, flavor: str) -> list[str]:
    """The `copy-as` rules evaluated as `tags` are (metadata-action syntax; a plain line is a tag)."""
    if not rules.strip():
        return []
    from alba_action.tags import compute_tags

    tags = compute_tags(ctx, rules, flavor).tags
    if not tags:
        raise InputError(f"input 'copy-as': no rule gives a tag for this run (rules: {'; '.join(rules.split())})",
                         "run the copy on the events the rules cover (a release tag for type=semver)")
    return tags


def _in_workspace(url: str, cwd: Path) -> str:
    """`file://./dir` is relative to the workspace, as for every target of the step."""
    return f"file://{(cwd / url.removeprefix('file://./')).resolve()}" if url.startswith("file://./") else url


def copy_step(s, source_tags: list[str], as_tags: list[str], env: Mapping[str, str], cwd: Path,
              reporter: Reporter) -> dict:
    """The step's result document for settings `s` (config.Settings): `copy` holds each kind's
    CopyResult; `tags` what was published."""
    if not s.container_targets and not s.static_targets:
        raise InputError("input 'copy-from' is set but no target is",
                         "set container-targets (images) and/or static-target (static releases)")
    options = run_options(env, parallel=s.jobs, registry_username=s.registry_username,
                          registry_password=s.registry_password or None, aws=s.aws)
    source = _in_workspace(s.copy_from, cwd)
    refs = [f"{s.name}:{t}" for t in source_tags]
    results = []
    if s.container_targets:
        results.append(copy_images(refs, as_tags, source, [_in_workspace(u, cwd) for u in s.container_targets],
                                   reporter, options, insecure=s.insecure, dry_run=s.dry_run).to_json())
    if s.static_targets:
        results.append(copy_static(refs, as_tags, source, [_in_workspace(u, cwd) for u in s.static_targets],
                                   reporter, options, pages=s.page, dry_run=s.dry_run).to_json())
    published = as_tags or source_tags
    digests = next((r["digests"] for r in results if r["digests"]), {})
    return {"name": s.name, "version": published[0], "latest": "latest" in published, "tags": published,
            "dry_run": s.dry_run, "digest": next(iter(digests.values()), ""), "digests": {},
            "urls": [f"{t['target']}:{tag}" for r in results for t in r["targets"] for tag in published],
            "static": [], "containers": [], "copy": results}
