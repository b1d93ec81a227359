"""Image signatures in the sigstore format that cosign and containers/image read.

For each signed manifest (the index and every platform manifest): the "simple signing"
payload naming the reference and the digest, signed with ECDSA-SHA256, stored as a layer of
an OCI manifest tagged `sha256-<hex>.sig` in the same repository, the base64 signature in
the layer annotation `dev.cosignproject.cosign/signature` (cosign's signature spec).
Signatures by other keys already under that tag are kept; ours is added once (an ECDSA
signature differs each time, so a re-run checks the one there instead of signing again).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from alba_action.images.attachments import signature_tag
from alba_action.digest import sha256_bytes
from alba_action.grammar import compact_json
from alba_action.oci import OCI_CONFIG, OCI_MANIFEST

PAYLOAD_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
SIGNATURE_TYPE = "cosign container image signature"


def payload(reference: str, digest: str) -> bytes:
    return compact_json({"critical": {"identity": {"docker-reference": reference},
                                      "image": {"docker-manifest-digest": digest}, "type": SIGNATURE_TYPE},
                         "optional": None})


@dataclass(frozen=True)
class SignatureImage:
    tag: str
    config: bytes
    payloads: list[bytes]  # one per layer, in layer order
    manifest: bytes

    @property
    def digest(self) -> str:
        return sha256_bytes(self.manifest)


def signature_image(layers: list[tuple[bytes, str]], subject: str) -> SignatureImage:
    """The manifest under `sha256-<hex>.sig` for (payload, base64 signature) layers."""
    config = compact_json({"architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z",
                           "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                           "rootfs": {"diff_ids": [sha256_bytes(p) for p, _ in layers], "type": "layers"}})
    manifest = {
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": len(config), "digest": sha256_bytes(config)},
        "layers": [{"mediaType": PAYLOAD_TYPE, "size": len(p), "digest": sha256_bytes(p),
                    "annotations": {SIGNATURE_ANNOTATION: sig}} for p, sig in layers],
    }
    return SignatureImage(signature_tag(subject), config, [p for p, _ in layers], compact_json(manifest))


def existing_layers(manifest: bytes | None, fetch_blob) -> list[tuple[bytes, str]]:
    """(payload, signature) of the layers already under a signature tag; `fetch_blob(digest)`."""
    if not manifest:
        return []
    out = []
    for layer in json.loads(manifest).get("layers", []):
        sig = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION)
        data = fetch_blob(layer["digest"])
        if sig and data is not None:
            out.append((data, sig))
    return out


def sign_layer(signer, reference: str, digest: str) -> tuple[bytes, str]:
    body = payload(reference, digest)
    return body, base64.b64encode(signer.sign(body)).decode()


def already_signed(layers: list[tuple[bytes, str]], reference_payload: bytes, public_key) -> bool:
    """Whether one of `layers` is our key's signature of this payload."""
    from alba_action.signing.ecdsa_keys import verify

    for data, sig in layers:
        if data == reference_payload:
            try:
                if verify([public_key], data, base64.b64decode(sig)):
                    return True
            except ValueError:
                continue
    return False
