"""The two kinds of matrix step on a request: `--part` (content and records only) and
`assemble` (check every target for every part, then publish as one job would)."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from alba_action.parts import static
from alba_action.parts.result import PartResult
from alba_action.targets.open import open_store


def run_parts(req, trace, result):
    return _part(req, trace, result) if req.part else _assemble(req, trace, result)


def _part(req, trace, result):
    from alba_action.attest import sbom
    from alba_action.parts.record import static_part
    from alba_action.static.scan import scan

    with tempfile.TemporaryDirectory(prefix="alba-") as workdir:  # loaded blobs live here until pushed
        with trace.section("check inputs and targets"):
            stores = _stores(req) if req.static_dir else []
            folders = scan(req.static_dir, platform_check=req.platform_check) if req.static_dir else []
            sboms = sbom.static_sboms(req.static_dir, [f.platform for f in folders]) if folders else []
            repos, prepared = [], None
            if req.container_dir:
                from alba_action.parts.images import open_repositories

                repos = open_repositories(req)
        if req.container_dir:
            from alba_action.parts.images import prepare

            prepared = prepare(req, Path(workdir), trace)  # a bad archive fails before any part is written
        for store in stores:
            with trace.section(f"static part {req.release_id} → {store.url}"):
                result.parts.append(static_part(store, req.name, req.release_id, req.static_dir, folders, sboms,
                                                trace.reporter, req.dry_run))
        if prepared is not None:
            from alba_action.parts.images import container_part

            result.parts += container_part(req, repos, prepared, trace)
    return result


def _assemble(req, trace, result):
    platforms, rid = req.assemble, req.release_id
    with trace.section(f"check the parts of release {rid} on every target"):
        stores = _stores(req) if req.static_targets else []
        found = {s.url: static.read_parts(s, req.name, rid) for s in stores}
        if stores:
            static.check(found, req.name, rid, platforms, req.tags)
        images = None
        if req.container_targets:
            from alba_action.parts.images import check_images

            images = check_images(req, trace)  # raises before anything is written anywhere
        req = _guard(req, stores, images, trace, result)
    with tempfile.TemporaryDirectory(prefix="alba-parts-") as tmp:
        source = next((s for s in stores if found[s.url].assembled is None), None)
        if source is not None:  # fetched (and checked) before anything is written
            static.fetch(source, req.name, rid, found[source.url].records, Path(tmp), trace.reporter)
        if images is not None:  # first, so that the download pages list the new image tags
            from alba_action.parts.images import assemble_images

            assemble_images(req, images, trace, result)
        if source is not None:
            from alba_action.pipeline import publish

            publish(replace(req, static_dir=Path(tmp), container_dir=None, container_targets=(), assemble=(),
                            part=False), trace, result)
        elif stores:
            trace.reporter.log(f"release {rid} of {req.name} is already assembled on every static target")
    if req.dry_run:
        return result
    for store in stores:
        removed = static.finish(store, req.name, rid, req.tags, platforms, trace.reporter)
        result.parts.append(PartResult("static", req.name, store.url, rid, [str(p) for p in platforms],
                                       removed=removed))
    return result


def _guard(req, stores, images, trace, result):
    """--latest-guard across every target, once, as a push guards: the request keeps the tags it leaves."""
    from alba_action.version_order import is_floating

    if not req.latest_guard or not any(is_floating(t) for t in req.tags):
        return req
    from alba_action.pipeline import Targets, guard_latest

    guard_latest(req, Targets(stores, images["repos"] if images else []), result, trace.reporter)
    return replace(req, tags=tuple(result.tags), latest_guard=False)


def _stores(req) -> list:
    stores = [open_store(url, req.options) for url in req.static_targets]
    if not req.dry_run:
        for store in stores:
            store.check()
    return stores
