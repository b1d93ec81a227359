"""The checks of `alba verify`, each adding problems to one report instead of stopping.

Static releases here; images in verify/images.py. Every object is read bounded
(verify/reading.py): what a server sends beyond what a document declares, a document past
4 MiB, an encoded document, a path that leaves its folder are problems of the release,
reported and never fetched; a source that keeps failing ends the run (TargetError)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Callable

from alba_action.attest.provenance import PAYLOAD_TYPE, pae
from alba_action.grammar import is_relative_path
from alba_action.signing import ecdsa_keys, minisign_keys
from alba_action.static import plan
from alba_action.verify.reading import DOCUMENT_LIMIT, BadAnswer, Expect, Got

# A signature minisign made without prehashing covers the bytes themselves: kept in memory up to this.
LEGACY_SIGNED_LIMIT = 16 << 20
CHECKSUMS_LIMIT = 64 << 20


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

    def fetch(self, read: Callable[..., Got | None], *args) -> Got | None | bool:
        """`read(*args)`: what arrived, None when missing, False when the answer was a
        problem (already reported)."""
        try:
            return read(*args)
        except BadAnswer as err:
            self.problems.append(err.message)
            return False


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


def json_object(data: bytes) -> dict | None:
    """A JSON object, or None for anything else (junk, HTML, a list)."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def platform_folder(flavor: object) -> str | None:
    """`os/arch[/variant]` of a flavor, None when it is not made of plain folder names."""
    p = flavor.get("platform") if isinstance(flavor, dict) else None
    if not isinstance(p, dict):
        return None
    parts = [p.get("os"), p.get("architecture")] + ([p["variant"]] if p.get("variant") else [])
    if not all(isinstance(x, str) and is_relative_path(x) and "/" not in x for x in parts):
        return None
    return "/".join(parts)


def check_static(source, report: Report, keys: Keys) -> bool:
    """The df-dist-v1 release NAME:TAG, if the source has one: False when it has none."""
    base = plan.tag_key(report.name, report.tag)
    got = report.fetch(source.read, base, Expect.document())
    if got is None:
        return False
    doc = json_object(got.data) if got else None
    flavors = doc.get("flavors") if doc else None
    if got and not isinstance(flavors, list):
        report.problems.append(f"{base}: not a tag document")
    if not got or not isinstance(flavors, list):
        return True
    listed = {}
    for flavor in flavors:
        platform = platform_folder(flavor)
        if platform is None:
            report.problems.append(f"{base}: a flavor's platform is not os/arch[/variant]; its files were not fetched")
            continue
        for resource in flavor.get("resources") or []:
            path = resource.get("path") if isinstance(resource, dict) else None
            if not is_relative_path(path):
                report.problems.append(f"{base}: resource path {str(path)[:200]!r} leaves its folder; not fetched")
                continue
            listed[f"{platform}/{path}"] = resource.get("digest")
            _check_file(source, report, keys, f"{base}/{platform}", resource)
    _check_checksums(source, report, keys, base, doc.get("checksums"), listed)
    _check_attachments(source, report, keys, base, doc.get("attachments"), set(listed.values()))
    return True


def _check_file(source, report: Report, keys: Keys, folder: str, resource: dict) -> None:
    """One file, hashed as it arrives, against its size, digest and signature. `folder`:
    its platform folder, which its path and its signature's path are relative to."""
    key = f"{folder}/{resource['path']}"
    report.checked["files"] += 1
    sig = _signature(source, report, keys, folder, key, resource.get("signature"))
    got = report.fetch(source.read, key, _expect(resource.get("size"), sig))
    if got is False:
        return
    if got is None:
        report.problems.append(f"{key}: missing")
        return
    if resource.get("size") is not None and got.size != resource["size"]:
        report.problems.append(f"{key}: {got.size} bytes, the tag document says {resource['size']}")
    if resource.get("digest") and got.sha256 != resource["digest"]:
        report.problems.append(f"{key}: sha256 differs from the tag document ({resource['digest']})")
    _verify_minisig(report, keys, sig, got)


def _expect(size: object, sig: tuple[str, bytes] | None) -> Expect:
    legacy = sig is not None and minisign_keys.prehashed(sig[1]) is False
    if legacy:  # minisign -l: the signature covers the bytes, which must be at hand
        return Expect(size if isinstance(size, int) else None, LEGACY_SIGNED_LIMIT)
    return Expect.file(size, blake2b=sig is not None)


def _signature(source, report: Report, keys: Keys, folder: str, key: str,
               signature: object) -> tuple[str, bytes] | None:
    """(its key, its bytes) of the signature a resource names, read before the file (the
    file is then hashed for it as it arrives); None, with the problem reported, else."""
    if not signature:
        if keys.minisign:
            report.problems.append(f"{key}: not signed")
        return None
    report.checked["signatures"] += 1
    if not is_relative_path(signature):
        report.problems.append(f"{key}: signature path {str(signature)[:200]!r} leaves its folder; not fetched")
        return None
    where = f"{folder}/{signature}"
    got = report.fetch(source.read, where, Expect.document())
    if got is None:
        report.problems.append(f"{where}: missing")
    return (where, got.data) if got else None


def _verify_minisig(report: Report, keys: Keys, sig: tuple[str, bytes] | None, got: Got) -> None:
    if sig is None or not keys.minisign:
        return
    where, signature = sig
    if minisign_keys.prehashed(signature) is False:  # the bytes were kept for it (_expect)
        ok = minisign_keys.verify(keys.minisign, got.data, signature)
    else:
        ok = minisign_keys.verify_prehash(keys.minisign, got.blake2b, signature)
    if ok is None:
        report.problems.append(f"{where}: does not verify with the given minisign key(s)")


def _check_checksums(source, report: Report, keys: Keys, base: str, meta: object, listed: dict) -> None:
    if not meta:
        return
    path = meta.get("path") if isinstance(meta, dict) else None
    if not is_relative_path(path):
        report.problems.append(f"{base}: checksums path {str(path)[:200]!r} leaves its folder; not fetched")
        return
    key = f"{base}/{path}"
    sig = _signature(source, report, keys, base, key, meta.get("signature"))
    size = meta.get("size")
    declared = size if isinstance(size, int) and 0 <= size <= CHECKSUMS_LIMIT else None
    got = report.fetch(source.read, key, Expect(declared, declared or DOCUMENT_LIMIT, blake2b=sig is not None))
    if got is False:
        return
    if got is None:
        report.problems.append(f"{key}: missing")
        return
    if got.sha256 != meta.get("digest"):
        report.problems.append(f"{key}: sha256 differs from the tag document")
    lines = {}
    for line in got.data.decode("utf-8", "replace").splitlines():
        hexdigest, _, file = line.partition("  ")
        lines[file] = f"sha256:{hexdigest}"
    for file, digest in listed.items():
        if lines.get(file) != digest:
            report.problems.append(f"{key}: the line for {file} does not match the file's sha256")
    for file in sorted(set(lines) - set(listed)):
        report.problems.append(f"{key}: lists {file[:200]}, which the tag document does not")
    _verify_minisig(report, keys, sig, got)


def _check_attachments(source, report: Report, keys: Keys, base: str, attachments: object, digests: set) -> None:
    for a in attachments if isinstance(attachments, list) else []:
        path = a.get("path") if isinstance(a, dict) else None
        if not is_relative_path(path):
            report.problems.append(f"{base}: attachment path {str(path)[:200]!r} leaves its folder; not fetched")
            continue
        provenance = a.get("artifactType") == PAYLOAD_TYPE
        expect = Expect.document(a.get("size")) if provenance else Expect.file(a.get("size"))
        got = report.fetch(source.read, f"{base}/{path}", expect)
        if got is False:
            continue
        if got is None or got.sha256 != a.get("digest"):
            report.problems.append(f"{base}/{path}: " + ("missing" if got is None else "sha256 differs"))
        elif provenance:
            check_provenance(report, keys, f"{base}/{path}", got.data, digests)


def check_provenance(report: Report, keys: Keys, where: str, envelope: bytes, digests: set[str]) -> None:
    """The DSSE envelope's signature (with the ECDSA keys given) and that its subjects are
    exactly what was published."""
    report.checked["signatures"] += 1
    try:
        env = json.loads(envelope)
        payload = base64.b64decode(env["payload"])
        statement = json.loads(payload)
        subjects = {"sha256:" + s["digest"]["sha256"] for s in statement["subject"]}
        signatures = [base64.b64decode(s["sig"]) for s in env.get("signatures", [])]
        payload_type = env["payloadType"]
    except (ValueError, KeyError, TypeError, AttributeError):
        report.problems.append(f"{where}: not a DSSE envelope of an in-toto statement")
        return
    if subjects != digests:
        report.problems.append(f"{where}: its subjects do not match the published digests")
    if keys.ecdsa and not any(ecdsa_keys.verify(keys.ecdsa, pae(payload_type, payload), s) for s in signatures):
        report.problems.append(f"{where}: the provenance is not signed by the given key(s)")
