"""An independent verifier of sigstore image signatures, written from containers/image's
published format (containers-signature(5): the "simple signing" payload; the sigstore
attachment layout that `use-sigstore-attachments` reads: tag `sha256-<hex>.sig`, layers of
type application/vnd.dev.cosign.simplesigning.v1+json, signature in the annotation
dev.cosignproject.cosign/signature) and containers-policy.json(5) `sigstoreSigned` with
`matchRepoDigestOrExact`. It shares no code with alba's signing."""

from __future__ import annotations

import base64
import hashlib
import json

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

ACCEPT = ", ".join(["application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json"])


def _get(url: str) -> bytes | None:
    r = requests.get(url, headers={"Accept": ACCEPT}, timeout=10)
    return r.content if r.status_code == 200 else None


def verify_registry_image(address: str, repo: str, digest: str, public_pem: bytes, identity: str) -> bool:
    """True when some signature under the sigstore attachment of `digest` in `repo` at the
    plain-HTTP registry `address` is a valid simple signing of `digest` as `identity` by the key."""
    key = serialization.load_pem_public_key(public_pem)
    assert isinstance(key, ec.EllipticCurvePublicKey)
    raw = _get(f"http://{address}/v2/{repo}/manifests/{digest.replace(':', '-')}.sig")
    if raw is None:
        return False
    for layer in json.loads(raw)["layers"]:
        if layer["mediaType"] != "application/vnd.dev.cosign.simplesigning.v1+json":
            continue
        payload = _get(f"http://{address}/v2/{repo}/blobs/{layer['digest']}")
        if payload is None or "sha256:" + hashlib.sha256(payload).hexdigest() != layer["digest"]:
            continue
        signature = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        try:
            key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        critical = json.loads(payload)["critical"]
        if (critical["type"] == "cosign container image signature"
                and critical["image"]["docker-manifest-digest"] == digest
                and critical["identity"]["docker-reference"] == identity):
            return True
    return False
