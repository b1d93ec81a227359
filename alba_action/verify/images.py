"""`alba verify` of an image: the index by tag, each platform manifest, each blob (hashed
as it arrives, bounded by the size its descriptor gives), signatures and provenance.
A digest that is not `sha256:<64 hex>` is a problem, never a key to fetch."""

from __future__ import annotations

import base64
import json

from alba_action.attest.provenance import PAYLOAD_TYPE
from alba_action.grammar import is_digest
from alba_action.images.attachments import signature_tag
from alba_action.images.signatures import SIGNATURE_ANNOTATION
from alba_action.signing import ecdsa_keys
from alba_action.verify.checks import Keys, Report, check_provenance, json_object
from alba_action.verify.reading import Expect


def check_image(source, report: Report, keys: Keys) -> bool:
    """The image NAME:TAG, if the source has one: False when it has none."""
    got = report.fetch(source.read_manifest, report.name, report.tag, Expect.document())
    if got is None:
        return False
    doc = json_object(got.data) if got else None
    if got and doc is None:
        report.problems.append(f"manifest {report.name}:{report.tag}: not a manifest or an index")
    if doc is None:
        return True
    digest = got.sha256
    children = doc.get("manifests") if isinstance(doc.get("manifests"), list) else []
    _check_image_signature(source, report, keys, digest)
    _check_referrers(source, report, keys, digest, {digest} | {c.get("digest") for c in children
                                                              if isinstance(c, dict)})
    if not children:
        _check_manifest(source, report, doc, f"manifest {digest} (single)")
    for child in children:
        _check_child(source, report, keys, child, digest)
    return True


def _check_child(source, report: Report, keys: Keys, child: object, index: str) -> None:
    report.checked["manifests"] += 1
    ref = child.get("digest") if isinstance(child, dict) else None
    if not is_digest(ref):
        report.problems.append(f"index {index}: a child digest {str(ref)[:100]!r} is not sha256:<hex>; not fetched")
        return
    where = f"manifest {ref} ({_platform(child)})"
    got = report.fetch(source.read_manifest, report.name, ref, Expect.document(child.get("size")))
    if got is None:
        report.problems.append(f"{where}: missing")
    if not got:
        return
    if got.sha256 != ref:
        report.problems.append(f"{where}: its bytes do not hash to its digest")
        return
    _check_image_signature(source, report, keys, ref)
    manifest = json_object(got.data)
    if manifest is None:
        report.problems.append(f"{where}: not a manifest")
        return
    _check_manifest(source, report, manifest, where)


def _check_manifest(source, report: Report, manifest: dict, where: str) -> None:
    if where.endswith("(single)"):
        report.checked["manifests"] += 1
    layers = manifest.get("layers") if isinstance(manifest.get("layers"), list) else []
    for blob in [manifest.get("config"), *layers]:
        _check_blob(source, report, blob, where)


def _platform(child: dict) -> str:
    p = child.get("platform") if isinstance(child.get("platform"), dict) else {}
    return "/".join(str(x) for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x) or "single"


def _check_blob(source, report: Report, blob: object, where: str) -> None:
    if not blob:
        return
    ref = blob.get("digest") if isinstance(blob, dict) else None
    report.checked["blobs"] += 1
    if not is_digest(ref):
        report.problems.append(f"{where}: a blob digest {str(ref)[:100]!r} is not sha256:<hex>; not fetched")
        return
    got = report.fetch(source.read_blob, report.name, ref, Expect.file(blob.get("size")))
    if got is None:
        report.problems.append(f"blob {ref} of {where}: missing")
    elif got and (got.size != blob.get("size") or got.sha256 != ref):
        report.problems.append(f"blob {ref} of {where}: wrong size or digest")


def _check_referrers(source, report: Report, keys: Keys, digest: str, digests: set) -> None:
    got = report.fetch(source.read_manifest, report.name, digest.replace(":", "-"), Expect.document())
    fallback = json_object(got.data) if got else None
    for ref in (fallback or {}).get("manifests") or []:
        if not isinstance(ref, dict) or ref.get("artifactType") != PAYLOAD_TYPE:
            continue
        if not is_digest(ref.get("digest")):
            report.problems.append(f"referrer {str(ref.get('digest'))[:100]!r} of {digest}: not sha256:<hex>")
            continue
        got = report.fetch(source.read_manifest, report.name, ref["digest"], Expect.document(ref.get("size")))
        if got is None:
            report.problems.append(f"referrer {ref['digest']} of {digest}: missing")
        manifest = json_object(got.data) if got else None
        layers = (manifest or {}).get("layers") or [{}]
        layer = layers[0] if isinstance(layers[0], dict) else {}
        if got and not is_digest(layer.get("digest")):
            report.problems.append(f"referrer {ref['digest']} of {digest}: not an attestation manifest")
        if not got or not is_digest(layer.get("digest")):
            continue
        data = report.fetch(source.read_blob, report.name, layer["digest"], Expect.document(layer.get("size")))
        if data is None:
            report.problems.append(f"provenance blob {layer['digest']}: missing")
        elif data:
            check_provenance(report, keys, f"provenance {ref['digest']}", data.data, digests - {None})


def _check_image_signature(source, report: Report, keys: Keys, digest: str) -> None:
    if not keys.ecdsa:
        return
    tag = signature_tag(digest)
    report.checked["signatures"] += 1
    got = report.fetch(source.read_manifest, report.name, tag, Expect.document())
    manifest = json_object(got.data) if got else None
    if got is None:
        report.problems.append(f"{digest}: no signature ({tag} is missing)")
        return
    for layer in (manifest or {}).get("layers") or []:
        if _signed_by(source, report, keys, layer, digest):
            return
    report.problems.append(f"{digest}: no signature under {tag} verifies with the given key(s)")


def _signed_by(source, report: Report, keys: Keys, layer: object, digest: str) -> bool:
    if not isinstance(layer, dict) or not is_digest(layer.get("digest")):
        return False
    sig = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION)
    payload = report.fetch(source.read_blob, report.name, layer["digest"], Expect.document(layer.get("size")))
    if not payload or sig is None or payload.sha256 != layer["digest"]:
        return False
    try:
        named = json.loads(payload.data)["critical"]["image"]["docker-manifest-digest"]
        good = ecdsa_keys.verify(keys.ecdsa, payload.data, base64.b64decode(sig))
    except (ValueError, KeyError, TypeError):
        return False
    return named == digest and good
