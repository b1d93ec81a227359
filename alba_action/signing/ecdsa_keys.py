"""Image signing keys: ECDSA P-256, as cosign writes them (`cosign generate-key-pair`: an
"ENCRYPTED SIGSTORE PRIVATE KEY" — scrypt + NaCl secretbox around PKCS#8) or plain PKCS#8 PEM
(`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`)."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from alba_action.errors import InputError

_COSIGN_PEM = re.compile(rb"-----BEGIN (ENCRYPTED (?:SIGSTORE|COSIGN) PRIVATE KEY)-----(.*?)-----END \1-----", re.S)


class EcdsaSigner:
    """An unlocked P-256 key: signs with ECDSA-SHA256 (DER), as cosign does."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                        serialization.PublicFormat.SubjectPublicKeyInfo)
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id = hashlib.sha256(der).hexdigest()[:16]

    def __repr__(self) -> str:
        return f"EcdsaSigner(key id {self.key_id})"

    def sign(self, payload: bytes) -> bytes:
        # RFC 6979 deterministic ECDSA: the same payload gives the same signature (re-runs upload nothing).
        return self._key.sign(payload, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


def load_signing_key(data: bytes, password: str, source: str) -> EcdsaSigner:
    """A cosign key (encrypted; `password` opens it) or a PKCS#8 / SEC1 PEM key."""
    match = _COSIGN_PEM.search(data)
    if match:
        der = _open_cosign(base64.b64decode(b"".join(match.group(2).split())), password, source)
        key = _private(lambda: serialization.load_der_private_key(der, None), source)
    else:
        secret = password.encode() or None if b"ENCRYPTED PRIVATE KEY" in data else None
        key = _private(lambda: serialization.load_pem_private_key(data, secret), source)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise InputError(f"{source}: the key is not an ECDSA P-256 key",
                         "make one with `cosign generate-key-pair` or "
                         "`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`")
    return EcdsaSigner(key)


def _private(load, source: str):
    try:
        return load()
    except TypeError:
        raise InputError(f"{source}: the key is encrypted and no password was given",
                         "set ALBA_SIGN_PASSWORD or COSIGN_PASSWORD (input sign-password)") from None
    except (ValueError, Exception):
        raise InputError(f"{source}: not a private key alba can read (or a wrong password)",
                         "give a cosign.key with its password, or a PKCS#8 PEM P-256 key") from None


def _open_cosign(blob: bytes, password: str, source: str) -> bytes:
    """sigstore's encrypted key: {"kdf": scrypt N r p salt, "cipher": nacl/secretbox nonce, "ciphertext"}."""
    from nacl.exceptions import CryptoError
    from nacl.secret import SecretBox

    try:
        doc = json.loads(blob)
        params, salt = doc["kdf"]["params"], base64.b64decode(doc["kdf"]["salt"])
        nonce, sealed = base64.b64decode(doc["cipher"]["nonce"]), base64.b64decode(doc["ciphertext"])
        key = hashlib.scrypt(password.encode(), salt=salt, n=params["N"], r=params["r"], p=params["p"],
                             maxmem=256 << 20, dklen=32)
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{source}: a damaged cosign key", "export it again with cosign") from None
    try:
        return SecretBox(key).decrypt(sealed, nonce)
    except CryptoError:
        raise InputError(f"{source}: wrong password for the cosign key",
                         "check ALBA_SIGN_PASSWORD / COSIGN_PASSWORD (input sign-password)") from None


def load_public_key(data: bytes) -> ec.EllipticCurvePublicKey | None:
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def verify(public_keys: list, payload: bytes, signature: bytes) -> bool:
    for key in public_keys:
        try:
            key.verify(signature, payload, ec.ECDSA(hashes.SHA256()))
            return True
        except InvalidSignature:
            continue
    return False


def seal_cosign_key(signer_key: ec.EllipticCurvePrivateKey, password: str, n: int = 32768) -> bytes:
    """cosign's encrypted key format (for tests and `alba`-made keys): the inverse of load."""
    import os

    from nacl.secret import SecretBox

    salt, nonce = os.urandom(32), os.urandom(24)
    der = signer_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption())
    box = SecretBox(hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, maxmem=256 << 20, dklen=32))
    sealed = box.encrypt(der, nonce).ciphertext
    doc = {"kdf": {"name": "scrypt", "params": {"N": n, "r": 8, "p": 1}, "salt": base64.b64encode(salt).decode()},
           "cipher": {"name": "nacl/secretbox", "nonce": base64.b64encode(nonce).decode()},
           "ciphertext": base64.b64encode(sealed).decode()}
    body = base64.encodebytes(json.dumps(doc).encode()).replace(b"\n", b"")
    lines = b"\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n" + lines + b"\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n"
