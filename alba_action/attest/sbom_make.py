"""SBOMs alba writes itself, when the build left none: SPDX 2.3 JSON (the default) or
CycloneDX 1.5 JSON, from what is certain and nothing else.

- an image: the image (its platform manifest digest), its layers with their digests, one
  package per Nix store path the layers hold (name and version as `parseDrvName` splits
  them, the full store path, the layers holding it), and the packages of a Debian or Alpine
  database the layers hold;
- a static release: one package per platform folder, listing every published file with its
  SHA-256 (and the SHA-1 SPDX requires of files).

Deterministic: the same input gives the same bytes. `created` is given by the caller
(SOURCE_DATE_EPOCH, the commit time or the image's own time: never read from the clock
here); the SPDX namespace and the CycloneDX serial number are derived from the content.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from alba_action import __version__
from alba_action.attest.layer_contents import ImageContents
from alba_action.errors import InputError
from alba_action.grammar import compact_json
from alba_action.platforms import Platform

SPDX, CYCLONEDX = "spdx", "cyclonedx"
FORMATS = {SPDX: (".spdx.json", "application/spdx+json"), CYCLONEDX: (".cdx.json", "application/vnd.cyclonedx+json")}
ALIASES = {"spdx": SPDX, "spdx-json": SPDX, "cyclonedx": CYCLONEDX, "cyclonedx-json": CYCLONEDX, "cdx": CYCLONEDX}
NAMESPACE = "https://spdx.org/spdxdocs/alba-"
TOOL = f"alba-{__version__}"
NONE = "NOASSERTION"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass(frozen=True)
class Subject:
    """What the SBOM describes: `digest` is the platform manifest's (images); `licenses`
    (an SPDX expression) and `description` are what the publisher declared, if anything."""

    name: str
    version: str
    platform: Platform
    digest: str = ""
    licenses: str = ""
    description: str = ""


@dataclass(frozen=True)
class PublishedFile:
    path: str  # relative to the platform folder
    size: int
    sha256: str  # "sha256:<hex>"
    sha1: str  # hex


def format_of(text: str) -> str:
    """`spdx` / `cyclonedx` (also `spdx-json`, `cyclonedx-json`, `cdx`)."""
    found = ALIASES.get(text.strip().lower())
    if found is None:
        raise InputError(f"SBOM format {text!r} is unknown", "use --sbom-format spdx or --sbom-format cyclonedx")
    return found


def first_time(*candidates: str) -> str:
    """The first candidate that is an ISO 8601 time, as `YYYY-MM-DDThh:mm:ssZ` (UTC, whole
    seconds: SPDX's form); the Unix epoch when none is."""
    for text in candidates:
        try:
            moment = datetime.fromisoformat(text.strip()) if text and text.strip() else None
        except ValueError:
            continue
        if moment is not None:
            moment = moment.replace(tzinfo=moment.tzinfo or timezone.utc).astimezone(timezone.utc)
            return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return EPOCH


def image_document(subject: Subject, contents: ImageContents, created: str, fmt: str = SPDX) -> bytes:
    return (_image_spdx if fmt == SPDX else _image_cyclonedx)(subject, contents, created)


def static_document(subject: Subject, files: list[PublishedFile], created: str, fmt: str = SPDX) -> bytes:
    return (_static_spdx if fmt == SPDX else _static_cyclonedx)(subject, files, created)


def _hex(digest: str) -> str:
    return digest.split(":", 1)[-1]


def _spdx_id(*parts: str) -> str:
    return "SPDXRef-" + "-".join(re.sub(r"[^A-Za-z0-9.]+", ".", p).strip(".") or "x" for p in parts)


def _spdx(subject: Subject, what: str, created: str, packages: list[dict], relationships: list[dict],
          files: list[dict] | None = None) -> bytes:
    doc = {"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
           "name": f"{subject.name}:{subject.version or 'untagged'} {subject.platform} ({what})",
           "documentNamespace": "",
           "creationInfo": {"created": first_time(created), "creators": [f"Tool: {TOOL}"]},
           "packages": packages}
    if files:
        doc["files"] = files
    doc["relationships"] = relationships
    doc["documentNamespace"] = NAMESPACE + str(_content_uuid(doc))
    return compact_json(doc)


def _content_uuid(doc: dict) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "alba:" + hashlib.sha256(compact_json(doc)).hexdigest())


def _declared(subject: Subject) -> dict:
    out = {"licenseDeclared": subject.licenses} if subject.licenses else {}
    return {**out, "description": subject.description} if subject.description else out


def _image_spdx(subject: Subject, contents: ImageContents, created: str) -> bytes:
    image = {"SPDXID": "SPDXRef-Image", "name": subject.name, **_version(subject.version),
             "downloadLocation": NONE, "filesAnalyzed": False, "primaryPackagePurpose": "CONTAINER",
             "checksums": [{"algorithm": "SHA256", "checksumValue": _hex(subject.digest)}], **_declared(subject),
             "comment": f"platform {subject.platform}, image manifest {subject.digest}"}
    packages, relationships = [image], [_rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image")]
    layer_ids = {}
    for digest, places in _positions(contents.layers).items():
        layer_ids[digest] = _spdx_id("Layer", str(places[0]), _hex(digest)[:12])
        packages.append({"SPDXID": layer_ids[digest], "name": digest, "downloadLocation": NONE,
                         "filesAnalyzed": False, "primaryPackagePurpose": "ARCHIVE",
                         "checksums": [{"algorithm": "SHA256", "checksumValue": _hex(digest)}],
                         "comment": f"layer {', '.join(map(str, places))} of {len(contents.layers)}, lowest first"})
        relationships.append(_rel("SPDXRef-Image", "CONTAINS", layer_ids[digest]))
    for store, layers in contents.store_paths:
        ident = _spdx_id("Nix", store.hash)
        packages.append({"SPDXID": ident, "name": store.name, **_version(store.version),
                         "packageFileName": store.path, "downloadLocation": NONE, "filesAnalyzed": False,
                         "sourceInfo": f"Nix store path {store.path}, in layer {', '.join(layers)}"})
        relationships += [_rel(layer_ids[d], "CONTAINS", ident) for d in layers]
    for i, p in enumerate(contents.packages, 1):
        ident = _spdx_id(p.kind, str(i), p.name)
        facts = [f"{p.kind} database {p.database} in layer {p.layer}"]
        facts += [f"architecture {p.architecture}"] * bool(p.architecture) + [f"source {p.source}"] * bool(p.source)
        entry = {"SPDXID": ident, "name": p.name, **_version(p.version), "downloadLocation": NONE,
                 "filesAnalyzed": False, "sourceInfo": ", ".join(facts)}
        if p.license:
            entry["licenseComments"] = f"the {p.kind} database declares: {p.license}"
        packages.append(entry)
        relationships.append(_rel(layer_ids[p.layer], "CONTAINS", ident))
    return _spdx(subject, "container image", created, packages, relationships)


def _positions(layers: tuple[str, ...]) -> dict[str, list[int]]:
    """Each layer digest with its places in the image (1 = lowest); a layer may repeat."""
    out: dict[str, list[int]] = {}
    for i, digest in enumerate(layers, 1):
        out.setdefault(digest, []).append(i)
    return out


def _static_spdx(subject: Subject, files: list[PublishedFile], created: str) -> bytes:
    entries = [{"SPDXID": _spdx_id("File", str(i), f.path), "fileName": "./" + f.path,
                "checksums": [{"algorithm": "SHA1", "checksumValue": f.sha1},
                              {"algorithm": "SHA256", "checksumValue": _hex(f.sha256)}],
                "comment": f"{f.size} bytes"} for i, f in enumerate(files, 1)]
    # SPDX 2.3 clause 7.9: the SHA-1 of the sorted file SHA-1s, concatenated.
    code = hashlib.sha1("".join(sorted(f.sha1 for f in files)).encode()).hexdigest()
    package = {"SPDXID": "SPDXRef-Release", "name": subject.name, **_version(subject.version),
               "downloadLocation": NONE, "filesAnalyzed": True,
               "packageVerificationCode": {"packageVerificationCodeValue": code},
               "hasFiles": [e["SPDXID"] for e in entries], **_declared(subject),
               "comment": f"the files published for {subject.platform}"}
    return _spdx(subject, "static files", created, [package],
                 [_rel("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Release")], entries)


def _version(version: str) -> dict:
    return {"versionInfo": version} if version else {}


def _rel(a: str, kind: str, b: str) -> dict:
    return {"spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b}


def _cyclonedx(subject: Subject, created: str, component: dict, components: list[dict]) -> bytes:
    if subject.licenses:
        component["licenses"] = [{"expression": subject.licenses}]
    if subject.description:
        component["description"] = subject.description
    doc = {"bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": "", "version": 1,
           "metadata": {"timestamp": first_time(created),
                        "tools": {"components": [{"type": "application", "name": "alba", "version": __version__}]},
                        "component": component},
           "components": components}
    doc["serialNumber"] = f"urn:uuid:{_content_uuid(doc)}"
    return compact_json(doc)


def _props(**values: str) -> list[dict]:
    return [{"name": f"alba:{k.replace('_', ':')}", "value": v} for k, v in values.items() if v]


def _image_cyclonedx(subject: Subject, contents: ImageContents, created: str) -> bytes:
    component = {"type": "container", "bom-ref": subject.digest, "name": subject.name, **_cdx_version(subject.version),
                 "hashes": [{"alg": "SHA-256", "content": _hex(subject.digest)}],
                 "properties": _props(platform=str(subject.platform))}
    components = [{"type": "file", "bom-ref": f"layer:{d}", "name": d,
                   "hashes": [{"alg": "SHA-256", "content": _hex(d)}],
                   "properties": _props(layer_index=",".join(map(str, places)))}
                  for d, places in _positions(contents.layers).items()]
    for store, layers in contents.store_paths:
        components.append({"type": "library", "bom-ref": store.path, "name": store.name,
                           **_cdx_version(store.version),
                           "properties": _props(nix_storePath=store.path) + [
                               {"name": "alba:layer", "value": d} for d in layers]})
    for p in contents.packages:
        components.append({"type": "library", "bom-ref": f"{p.kind}:{p.name}@{p.version}:{p.architecture}",
                           "name": p.name, **_cdx_version(p.version),
                           "properties": _props(package_database=p.database, layer=p.layer,
                                                package_architecture=p.architecture, package_source=p.source,
                                                package_license=p.license)})
    return _cyclonedx(subject, created, component, components)


def _static_cyclonedx(subject: Subject, files: list[PublishedFile], created: str) -> bytes:
    component = {"type": "application", "bom-ref": f"release:{subject.platform}", "name": subject.name,
                 **_cdx_version(subject.version), "properties": _props(platform=str(subject.platform))}
    components = [{"type": "file", "bom-ref": f"file:{f.path}", "name": f.path,
                   "hashes": [{"alg": "SHA-1", "content": f.sha1}, {"alg": "SHA-256", "content": _hex(f.sha256)}],
                   "properties": _props(size=str(f.size))} for f in files]
    return _cyclonedx(subject, created, component, components)


def _cdx_version(version: str) -> dict:
    return {"version": version} if version else {}
