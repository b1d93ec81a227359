"""The checks of `alba verify`, each adding problems to one report instead of stopping."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from alba_action.containers.attachments import signature_tag
from alba_action.attest.provenance import PAYLOAD_TYPE, pae
from alba_action.containers.signatures import SIGNATURE_ANNOTATION
from alba_action.digest import sha256_bytes
from alba_action.signing import ecdsa_keys, minisign_keys
from alba_action.static import plan


@dataclass
class Keys:
    minisign: list = field(default_factory=list)
    ecdsa: list = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.minisign or self.ecdsa)


@dataclass
class Report:
    source: str
    name: str
    tag: str
    problems: list[str] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=lambda: {"files": 0, "manifests": 0, "blobs": 0, "signatures": 0})

    def to_json(self) -> dict:
        return {"source": self.source, "name": self.name, "tag": self.tag, "ok": not self.problems,
                "checked": self.checked, "problems": self.problems}


def load_keys(blobs: list[tuple[str, bytes]]) -> Keys:
    """Each public key recognised by its content: minisign's, or a PEM ECDSA key."""
    from alba_action.errors import InputError

    keys = Keys()
    for where, data in blobs:
        if (ecdsa := ecdsa_keys.load_public_key(data)) is not None:
            keys.ecdsa.append(ecdsa)
        elif (mini := minisign_keys.load_public_key(data)) is not None:
            keys.minisign.append(mini)
        else:
            raise InputError(f"--key {where}: neither a minisign public key nor a PEM ECDSA public key",
                             "give minisign.pub, cosign.pub, or `openssl pkey -pubout` output")
    return keys


def check_static(source, report: Report, keys: Keys) -> bool:
    """The df-dist-v1 release NAME:TAG, if the source has one: False when it has none."""
    base = plan.tag_key(report.name, report.tag)
    raw = source.get(base)
    if raw is None:
        return False
    try:
        doc = json.loads(raw)
        flavors = doc["flavors"]
    except (ValueError, KeyError, TypeError):
        report.problems.append(f"{base}: not a tag document")
        return True
    listed = {}
    for flavor in flavors:
        platform = "/".join(p for p in (flavor["platform"].get("os"), flavor["platform"].get("architecture"),
                                         flavor["platform"].get("variant")) if p)
        for resource in flavor.get("resources", []):
            rel = f"{platform}/{resource['path']}"
            listed[rel] = resource.get("digest")
            _check_file(source, report, keys, base, rel, resource)
    _check_checksums(source, report, keys, base, doc.get("checksums"), listed)
    for a in doc.get("attachments", []):
        data = source.get(f"{base}/{a['path']}")
        if data is None or sha256_bytes(data) != a.get("digest"):
            report.problems.append(f"{base}/{a['path']}: " + ("missing" if data is None else "sha256 differs"))
        elif a.get("artifactType") == PAYLOAD_TYPE:
            _check_provenance(report, keys, f"{base}/{a['path']}", data, set(listed.values()))
    return True


def _check_provenance(report: Report, keys: Keys, where: str, envelope: bytes, digests: set[str]) -> None:
    """The DSSE envelope's signature (with the ECDSA keys given) and that its subjects are
    exactly what was published."""
    report.checked["signatures"] += 1
    try:
        env = json.loads(envelope)
        payload = base64.b64decode(env["payload"])
        statement = json.loads(payload)
        subjects = {"sha256:" + s["digest"]["sha256"] for s in statement["subject"]}
    except (ValueError, KeyError, TypeError):
        report.problems.append(f"{where}: not a DSSE envelope of an in-toto statement")
        return
    if subjects != digests:
        report.problems.append(f"{where}: its subjects do not match the published digests")
    if keys.ecdsa:
        signed = any(ecdsa_keys.verify(keys.ecdsa, pae(env["payloadType"], payload), base64.b64decode(s["sig"]))
                     for s in env.get("signatures", []))
        if not signed:
            report.problems.append(f"{where}: the provenance is not signed by the given key(s)")


def _check_file(source, report: Report, keys: Keys, base: str, rel: str, resource: dict) -> None:
    data = source.get(f"{base}/{rel}")
    report.checked["files"] += 1
    if data is None:
        report.problems.append(f"{base}/{rel}: missing")
        return
    if resource.get("size") is not None and len(data) != resource["size"]:
        report.problems.append(f"{base}/{rel}: {len(data)} bytes, the tag document says {resource['size']}")
    if resource.get("digest") and sha256_bytes(data) != resource["digest"]:
        report.problems.append(f"{base}/{rel}: sha256 differs from the tag document ({resource['digest']})")
    _check_minisig(source, report, keys, f"{base}/{rel}", data, resource.get("signature"))


def _check_minisig(source, report: Report, keys: Keys, key: str, data: bytes, signature: str | None) -> None:
    if not signature:
        if keys.minisign:
            report.problems.append(f"{key}: not signed")
        return
    folder = key.rsplit("/", 1)[0]
    sig = source.get(f"{folder}/{signature}")
    report.checked["signatures"] += 1
    if sig is None:
        report.problems.append(f"{folder}/{signature}: missing")
    elif keys.minisign and minisign_keys.verify(keys.minisign, data, sig) is None:
        report.problems.append(f"{folder}/{signature}: does not verify with the given minisign key(s)")


def _check_checksums(source, report: Report, keys: Keys, base: str, meta: dict | None, listed: dict) -> None:
    if not meta:
        return
    data = source.get(f"{base}/{meta['path']}")
    if data is None:
        report.problems.append(f"{base}/{meta['path']}: missing")
        return
    if sha256_bytes(data) != meta.get("digest"):
        report.problems.append(f"{base}/{meta['path']}: sha256 differs from the tag document")
    lines = {}
    for line in data.decode("utf-8", "replace").splitlines():
        hexdigest, _, path = line.partition("  ")
        lines[path] = f"sha256:{hexdigest}"
    for path, digest in listed.items():
        if lines.get(path) != digest:
            report.problems.append(f"{base}/{meta['path']}: the line for {path} does not match the file's sha256")
    for path in sorted(set(lines) - set(listed)):
        report.problems.append(f"{base}/{meta['path']}: lists {path}, which the tag document does not")
    _check_minisig(source, report, keys, f"{base}/{meta['path']}", data, meta.get("signature"))


def check_image(source, report: Report, keys: Keys) -> bool:
    """The image NAME:TAG, if the source has one: False when it has none."""
    name = report.name
    index = source.manifest(name, report.tag)
    if index is None:
        return False
    doc = json.loads(index)
    digest = sha256_bytes(index)
    _check_image_signature(source, report, keys, digest)
    _check_referrers(source, report, keys, digest,
                     {digest} | {c["digest"] for c in doc.get("manifests", [])})
    for child in doc.get("manifests", []) or [{"digest": digest}]:
        data = index if child["digest"] == digest else source.manifest(name, child["digest"])
        report.checked["manifests"] += 1
        where = f"manifest {child['digest']} ({_platform(child)})"
        if data is None:
            report.problems.append(f"{where}: missing")
            continue
        if sha256_bytes(data) != child["digest"]:
            report.problems.append(f"{where}: its bytes do not hash to its digest")
        if child["digest"] != digest:
            _check_image_signature(source, report, keys, child["digest"])
        manifest = json.loads(data)
        for blob in [manifest.get("config"), *manifest.get("layers", [])]:
            _check_blob(source, report, name, blob, where)
    return True


def _platform(child: dict) -> str:
    p = child.get("platform") or {}
    return "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x) or "single"


def _check_blob(source, report: Report, name: str, blob: dict | None, where: str) -> None:
    if not blob:
        return
    data = source.blob(name, blob["digest"])
    report.checked["blobs"] += 1
    if data is None:
        report.problems.append(f"blob {blob['digest']} of {where}: missing")
    elif len(data) != blob["size"] or sha256_bytes(data) != blob["digest"]:
        report.problems.append(f"blob {blob['digest']} of {where}: wrong size or digest")


def _check_referrers(source, report: Report, keys: Keys, digest: str, digests: set[str]) -> None:
    raw = source.manifest(report.name, digest.replace(":", "-"))
    if raw is None:
        return
    for ref in json.loads(raw).get("manifests", []):
        if ref.get("artifactType") != PAYLOAD_TYPE:
            continue
        manifest = source.manifest(report.name, ref["digest"])
        if manifest is None:
            report.problems.append(f"referrer {ref['digest']} of {digest}: missing")
            continue
        layer = json.loads(manifest)["layers"][0]
        data = source.blob(report.name, layer["digest"])
        if data is None:
            report.problems.append(f"provenance blob {layer['digest']}: missing")
            continue
        _check_provenance(report, keys, f"provenance {ref['digest']}", data, digests)


def _check_image_signature(source, report: Report, keys: Keys, digest: str) -> None:
    if not keys.ecdsa:
        return
    tag = signature_tag(digest)
    raw = source.manifest(report.name, tag)
    report.checked["signatures"] += 1
    if raw is None:
        report.problems.append(f"{digest}: no signature ({tag} is missing)")
        return
    for layer in json.loads(raw).get("layers", []):
        payload = source.blob(report.name, layer["digest"])
        sig = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION)
        if payload is None or sig is None or sha256_bytes(payload) != layer["digest"]:
            continue
        try:
            named = json.loads(payload)["critical"]["image"]["docker-manifest-digest"]
            good = ecdsa_keys.verify(keys.ecdsa, payload, base64.b64decode(sig))
        except (ValueError, KeyError, TypeError):
            continue
        if named == digest and good:
            return
    report.problems.append(f"{digest}: no signature under {tag} verifies with the given key(s)")
