"""What to attach to a publish: provenance (when asked, or by default in a CI) and SBOMs."""

from __future__ import annotations

from dataclasses import dataclass

from alba_action.attest import provenance
from alba_action.attest.referrers import Attachment
from alba_action.attest.sbom import Sbom
from alba_action.digest import sha256_bytes

SIGNED = "dev.alba.provenance.signed"


def wanted(req) -> bool:
    """Provenance: as asked, else on in a CI (GitHub, Forgejo, Woodpecker, Drone), off locally."""
    if req.provenance is not None:
        return req.provenance
    return req.context is not None and req.context.provider != "local"


def _envelope(req, subjects: list[tuple[str, str]], tags: list[str]) -> tuple[bytes, bool]:
    doc = provenance.statement(req.context, subjects, {"name": req.name, "tags": list(tags)})
    return provenance.envelope(doc, req.image_signer), req.image_signer is not None


def image_referrers(req, images, index, tags: list[str], sboms: list[Sbom]) -> list[tuple[dict, list[Attachment]]]:
    """(subject descriptor, attachments): provenance on the index, each SBOM on its platform."""
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
    return out


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


def static_attachments(req, folders, sboms: list[Sbom]):
    """A function of the tag: what goes under `TAG/_alba/` and into the tag document."""
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
        return out

    return for_tag
