"""Image parts: each job pushes its platforms' blobs and manifests by digest, its SBOMs as
blobs, and one record per platform (records.py); assemble rebuilds the index from the
recorded descriptors with the same `build_index` a one-job push uses, then pushes as one.

A record: `{"name","release","platform","manifest":{mediaType,digest,size},"attachments":
[{artifactType,mediaType,digest,size,annotations}]}` — the SBOM referrers a one-job push
would attach to that platform manifest, made at part time from the layers (which the
assemble step does not have), so they are the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from alba_action.digest import sha256_bytes
from alba_action.errors import InputError, TargetError
from alba_action.grammar import compact_json
from alba_action.images.model import Blob, Manifest, PlatformImage
from alba_action.parts import plan
from alba_action.parts.records import ASSEMBLED, key_of, records_for
from alba_action.parts.result import PartResult
from alba_action.platforms import Platform


def open_repositories(req, need_tag: bool = False) -> list[tuple]:
    from alba_action.targets.open import open_repository
    from alba_action.targets.registries.mounts import MountSources

    mounts = MountSources()
    repos = [open_repository(url, req.name, req.tags, need_tag=need_tag, options=req.options, image=req.image,
                             mounts=mounts) for url in req.container_targets]
    if not req.dry_run:
        for repo, _ in repos:
            repo.check()
    return repos


def prepare(req, workdir: Path, trace) -> tuple[list[PlatformImage], list]:
    """Load every platform image (checked against its file name) and make its SBOM referrers,
    before any part is written anywhere."""
    from alba_action.attest import plan as attest_plan, sbom
    from alba_action.images.load import load_images
    from alba_action.images.manifests import annotate_manifests

    with trace.section(f"load images from {req.container_dir}"):
        opts = req.image
        kwargs = {"max_uncompressed": opts.max_uncompressed} if opts.max_uncompressed else {}
        images = load_images(req.container_dir, compression=opts.compression, fmt=opts.fmt, workdir=workdir,
                             cache_dir=req.options.cache_dir, log=trace.reporter.log,
                             cache_max_bytes=req.options.cache_max_bytes, **kwargs)
        if opts.manifest_annotations:
            images = annotate_manifests(images, dict(opts.manifest_annotations), opts.fmt)
        given = sbom.image_sboms(req.container_dir, [i.platform for i in images])
        sboms = attest_plan.image_referrers(replace(req, provenance=False), images, None, list(req.tags), given,
                                            req.sbom, req.sbom_format, req.created)
    return images, sboms


def container_part(req, repos, prepared, trace) -> list[PartResult]:
    from alba_action.images import publish as image_publish

    images, sboms = prepared
    out = []
    for repo, _ in repos:
        with trace.section(f"image part {req.release_id} → {repo.url}"):
            out.append(_push_part(req, repo, images, sboms, trace.reporter, image_publish))
    return out


def _push_part(req, repo, images, sboms, reporter, image_publish) -> PartResult:
    result = PartResult("container", repo.name, repo.url, req.release_id, [str(i.platform) for i in images],
                        dry_run=req.dry_run)
    result.files = [b.digest for b, _ in image_publish.unique_blobs(images)] + [i.manifest.digest for i in images]
    if req.dry_run:
        reporter.log(f"would push {len(result.files)} blobs and manifests and {len(images)} part records")
        return result
    described = image_publish.describe(images, images[0].manifest, repo, [], False)
    image_publish._push_blobs(repo, image_publish.unique_blobs(images), reporter, described, None)
    for image in images:
        image_publish._put_manifest(repo, image.manifest, f"manifest {image.platform}", reporter)
    keeper = records_for(repo, req.release_id, req.options, req.image.insecure)
    for image in images:
        attached = [a for subject, atts in sboms if subject["digest"] == image.manifest.digest for a in atts]
        for a in attached:  # blobs only: a referrer manifest would show in the fallback tag before assembly
            digest = sha256_bytes(a.data)
            if not repo.blob_exists(digest):
                repo.put_blob(digest, len(a.data), a.media_type, None, a.data)
        record = compact_json({
            "name": repo.name, "release": req.release_id, "written": _now(), "platform": image.platform.to_json(),
            "manifest": {"mediaType": image.manifest.media_type, "digest": image.manifest.digest,
                         "size": image.manifest.size},
            "attachments": [{"artifactType": a.artifact_type, "mediaType": a.media_type,
                             "digest": sha256_bytes(a.data), "size": len(a.data), "annotations": a.annotations}
                            for a in attached]})
        result.records.append(keeper.put(key_of(image.platform), record))
        reporter.log(f"part {image.platform} of release {req.release_id} -> {result.records[-1]}")
    return result


def check_images(req, trace) -> dict:
    """Every repository's records; raises naming each (target, platform) missing, before any write."""
    repos = open_repositories(req, need_tag=True)
    found, done = {}, {}
    for repo, tags in repos:
        keeper = records_for(repo, req.release_id, req.options, req.image.insecure)
        raw = keeper.read()
        done[repo.url] = ASSEMBLED in raw
        found[repo.url] = {}
        for key, data in raw.items():
            if key == ASSEMBLED:
                continue
            doc = json.loads(data)
            if doc.get("release") != req.release_id:
                continue  # another release id whose tag starts alike
            found[repo.url][plan.record_platform(doc)] = doc
    pending = {url: recs for url, recs in found.items() if not done[url]}
    missing = plan.missing_parts(pending, req.assemble)
    if missing:
        raise plan.missing_error(missing, req.release_id, req.name or repos[0][0].name)
    for url, recs in pending.items():
        extra = sorted(str(p) for p in recs if p not in req.assemble)
        if extra:
            raise InputError(f"{url}: release {req.release_id} also has parts {', '.join(extra)}, not in --platforms",
                             "add them to --platforms, or publish that job under another release id")
    digests = {(p, recs[p]["manifest"]["digest"]) for recs in pending.values() for p in req.assemble}
    if len(digests) > len(req.assemble):
        raise InputError(f"release {req.release_id}: the targets hold different images for one platform",
                         "publish each platform's part to every target from the same job")
    source = next((repo for repo, _ in repos if repo.url in pending), None)
    images = [_image(source, p, pending[source.url][p], req.image.fmt) for p in req.assemble] if source else []
    for repo, _ in repos:  # every target must hold the manifests (so their blobs) before anything is tagged
        for image in images if repo.url in pending and repo is not source else ():
            if repo.manifest_digest(image.manifest.digest) != image.manifest.digest:
                raise TargetError(f"{repo.url}: the manifest {image.manifest.digest} of part {image.platform} is "
                                  "missing; nothing was assembled",
                                  "publish this platform's part again with --part, then assemble")
    return {"repos": repos, "records": pending, "done": done, "source": source, "images": images}


def assemble_images(req, checked: dict, trace, result) -> None:
    from alba_action.attest import plan as attest_plan
    from alba_action.attest.referrers import Attachment
    from alba_action.images import publish as image_publish
    from alba_action.images.manifests import build_index

    source, images = checked["source"], checked["images"]
    if source is None:
        trace.reporter.log(f"release {req.release_id} is already assembled on every image target")
        return
    records = checked["records"][source.url]
    index = build_index(images, dict(req.image.annotations), req.image.fmt)
    trace.reporter.log(f"index {index.digest} ({len(images)} platforms: {', '.join(str(i.platform) for i in images)})")
    sboms = []
    for image in images:
        atts = [Attachment(a["artifactType"], a["mediaType"], _blob(source, a["digest"]), a["annotations"])
                for a in records[image.platform]["attachments"]]
        if atts:
            sboms.append(({"mediaType": image.manifest.media_type, "digest": image.manifest.digest,
                           "size": image.manifest.size}, atts))
    for repo, tags in checked["repos"]:
        with trace.section(f"container image → {repo.url}"):
            referrers = attest_plan.image_referrers(req, images, index, tags, [], False)  # provenance, if wanted
            done = image_publish.push(repo, tags, images, index, trace.reporter, req.dry_run, req.image_signer,
                                      repo.reference_for(req.image.public_host), [*referrers, *sboms])
        result.containers.append(done)
        result.done.append(f"container image {done.digest} → {done.target}")
        if not req.dry_run:
            keeper = records_for(repo, req.release_id, req.options, req.image.insecure)
            keeper.put(ASSEMBLED, compact_json({"release": req.release_id, "written": _now(), "index": index.digest,
                                                  "tags": tags}))
            result.parts.append(PartResult("container", repo.name, repo.url, req.release_id,
                                           [str(p) for p in req.assemble], removed=keeper.clear(ASSEMBLED)))


def _image(repo, platform: Platform, record: dict, fmt: str) -> PlatformImage:
    """The platform image as the registry holds it: its manifest bytes, checked, and their descriptors."""
    from alba_action.images.manifests import MANIFEST_TYPE

    want = record["manifest"]
    if want["mediaType"] != MANIFEST_TYPE[fmt]:
        raise InputError(f"{repo.url}: part {platform} holds a {want['mediaType']}, not a --format {fmt} manifest",
                         "assemble with the --format (and --compression) the part jobs used")
    got = repo.get_manifest(want["digest"])
    if got is None or sha256_bytes(got[0]) != want["digest"]:
        raise TargetError(f"{repo.url}: the manifest {want['digest']} of part {platform} is missing",
                          "publish this platform's part again with --part, then assemble")
    doc = json.loads(got[0])
    blobs = [Blob(d["digest"], d["size"], d["mediaType"]) for d in [doc["config"], *doc["layers"]]]
    return PlatformImage(platform, Path(), blobs[0], blobs[1:], Manifest(got[0], want["mediaType"], want["digest"]))


def _blob(repo, digest: str) -> bytes:
    data = repo.get_blob(digest)
    if data is None or sha256_bytes(data) != digest:
        raise TargetError(f"{repo.url}: the SBOM blob {digest} of a part is missing",
                          "publish the part again with --part, then assemble")
    return data


def _now() -> str:
    """When a record was written: a registry keeps no time per tag, and gc's grace period needs one."""
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
