"""What to attach to a publish: provenance (when asked, or by default in a CI) and SBOMs —
the build's own, else (unless `make_sbom=False`) the ones alba makes (attest/sbom_make.py)."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from alba_action.attest import layer_contents, provenance, sbom_make
from alba_action.attest.referrers import Attachment
from alba_action.attest.sbom import Sbom
from alba_action.digest import sha256_bytes
from alba_action.platforms import Platform

SIGNED = "dev.alba.provenance.signed"
GENERATOR = "dev.alba.sbom.generator"  # on the SBOMs alba made, with its version
CREATED, VERSION, LICENSES, DESCRIPTION = (f"org.opencontainers.image.{k}"
                                           for k in ("created", "version", "licenses", "description"))


def wanted(req) -> bool:
    """Provenance: as asked, else on in a CI (GitHub, Forgejo, Woodpecker, Drone), off locally."""
    if req.provenance is not None:
        return req.provenance
    return req.context is not None and req.context.provider != "local"


def _envelope(req, subjects: list[tuple[str, str]], tags: list[str]) -> tuple[bytes, bool]:
    doc = provenance.statement(req.context, subjects, {"name": req.name, "tags": list(tags)})
    return provenance.envelope(doc, req.image_signer), req.image_signer is not None


def image_referrers(req, images, index, tags: list[str], sboms: list[Sbom], make_sbom: bool = True,
                    sbom_format: str = sbom_make.SPDX, created: str = "") -> list[tuple[dict, list[Attachment]]]:
    """(subject descriptor, attachments): provenance on the index, each SBOM on its platform.
    A platform without an SBOM of the build's gets alba's (not in a dry run, which attaches
    nothing). Its `created`: `created` (SOURCE_DATE_EPOCH), else the index's created annotation,
    else the image config's — never the clock — and its version the run's, never a tag name:
    a re-run, or a push of the same images under another tag, attaches the same bytes."""
    out = []
    if wanted(req) and req.context is not None:
        subjects = [(req.name, index.digest)] + [(f"{req.name}/{i.platform}", i.manifest.digest) for i in images]
        data, signed = _envelope(req, subjects, tags)
        out.append((_descriptor(index), [Attachment(provenance.PAYLOAD_TYPE, provenance.ENVELOPE_TYPE, data,
                                                    {SIGNED: str(signed).lower()})]))
    for sbom in sboms:
        image = next(i for i in images if i.platform == sbom.platform)
        out.append((_descriptor(image.manifest), [Attachment(sbom.media_type, sbom.media_type, sbom.path.read_bytes(),
                                                             {"org.opencontainers.image.title": sbom.file_name})]))
    if make_sbom and not req.dry_run:
        given, fmt = {s.platform for s in sboms}, sbom_make.format_of(sbom_format)
        out += [_image_sbom(req, image, fmt, created) for image in images if image.platform not in given]
    return out


def _image_sbom(req, image, fmt: str, created: str) -> tuple[dict, list[Attachment]]:
    """alba's SBOM of one platform image, as a referrer of its manifest."""
    annotations = dict(req.image.annotations)
    when = sbom_make.first_time(created, annotations.get(CREATED, ""), _config_created(image.config))
    subject = sbom_make.Subject(req.name or "image", annotations.get(VERSION) or req.version, image.platform,
                                image.manifest.digest, annotations.get(LICENSES, ""), annotations.get(DESCRIPTION, ""))
    data = sbom_make.image_document(subject, _contents(tuple(image.layers)), when, fmt)
    suffix, media_type = sbom_make.FORMATS[fmt]
    return (_descriptor(image.manifest), [Attachment(media_type, media_type, data, {
        "org.opencontainers.image.title": _stem(image.platform) + suffix, GENERATOR: sbom_make.TOOL})])


@functools.lru_cache(maxsize=32)
def _contents(layers: tuple) -> layer_contents.ImageContents:
    """Read once per run however many targets attach it (layer Blobs are hashable)."""
    return layer_contents.image_contents(list(layers))


def _config_created(config) -> str:
    try:
        return str(json.loads(config.data).get("created") or "")
    except (TypeError, ValueError, AttributeError):
        return ""


def _stem(platform: Platform) -> str:
    return ".".join(p for p in (platform.os, platform.architecture, platform.variant) if p)


def _descriptor(manifest) -> dict:
    return {"mediaType": manifest.media_type, "digest": manifest.digest, "size": manifest.size}


@dataclass(frozen=True)
class StaticAttachment:
    path: str  # relative to the tag folder, under _alba/
    data: bytes
    media_type: str
    fields: dict

    def entry(self) -> dict:
        return {"path": self.path, "mediaType": self.media_type, "size": len(self.data),
                "digest": sha256_bytes(self.data), **self.fields}


def static_attachments(req, folders, sboms: list[Sbom], make_sbom: bool = True, sbom_format: str = sbom_make.SPDX,
                       created: str = "", licenses: str = "", description: str = ""):
    """A function of the tag: what goes under `TAG/_alba/` and into the tag document. A
    platform folder without an SBOM of the build's gets alba's, created at `created`
    (SOURCE_DATE_EPOCH), else at the commit's time, else at the epoch — never the clock, so
    that a re-run, `alba publish` and the step write the same bytes."""
    missing = [f for f in folders if f.platform not in {s.platform for s in sboms}] if make_sbom else []
    fmt = sbom_make.format_of(sbom_format)

    commit = req.context.commit_date if req.context is not None and not req.context.commit_date_is_now else ""

    def for_tag(tag: str) -> list[StaticAttachment]:
        out = []
        if wanted(req) and req.context is not None:
            subjects = [(f"{f.platform}/{r.path}", r.digest) for f in folders for r in f.resources]
            data, signed = _envelope(req, subjects, [tag])
            out.append(StaticAttachment("_alba/provenance.intoto.json", data, provenance.ENVELOPE_TYPE,
                                        {"artifactType": provenance.PAYLOAD_TYPE, "signed": signed}))
        for sbom in sboms:
            out.append(StaticAttachment(f"_alba/{sbom.file_name}", sbom.path.read_bytes(), sbom.media_type,
                                        {"platform": sbom.platform.to_json()}))
        when = sbom_make.first_time(created, commit)
        out += [_static_sbom(req.name, tag, f, fmt, when, licenses, description) for f in missing]
        return out

    return for_tag


def _static_sbom(name: str, tag: str, folder, fmt: str, when: str, licenses: str, description: str) -> StaticAttachment:
    """alba's SBOM of one platform folder: every file it publishes there."""
    subject = sbom_make.Subject(name, tag, folder.platform, licenses=licenses, description=description)
    files = [sbom_make.PublishedFile(r.path, r.size, r.digest, _sha1(r.source)) for r in folder.resources]
    suffix, media_type = sbom_make.FORMATS[fmt]
    data = sbom_make.static_document(subject, files, when, fmt)
    return StaticAttachment(f"_alba/{_stem(folder.platform)}{suffix}", data, media_type,
                            {"platform": folder.platform.to_json(), "generator": sbom_make.TOOL})


def _sha1(path: Path) -> str:
    """SPDX wants each file's SHA-1 beside its SHA-256: one more read, once per run and file."""
    info = path.stat()
    return _sha1_of(path, info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _sha1_of(path: Path, size: int, mtime_ns: int) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
