"""minisign keys and signatures, with py-minisign (Frank Denis's format, his co-authored library)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alba_action.errors import InputError

if TYPE_CHECKING:
    import minisign  # imported where a key is read: most runs sign nothing

SIGNATURE_SUFFIX = ".minisig"


class MinisignSigner:
    """An unlocked minisign secret key. Ed25519 signatures are deterministic: the same file
    and comment give the same .minisig on every run (a re-run uploads nothing new)."""

    def __init__(self, key: "minisign.SecretKey") -> None:
        self._key = key
        self.public_key = key.get_public_key()

    def __repr__(self) -> str:
        return f"MinisignSigner(key id {self.key_id})"

    @property
    def key_id(self) -> str:
        return bytes(self.public_key.to_base64()).decode()[2:14]

    def sign(self, data, trusted_comment: str) -> bytes:
        """`data`: bytes or a binary file (read in pieces: prehashed signatures)."""
        signature = self._key.sign(data, prehash=True, trusted_comment=trusted_comment,
                                   untrusted_comment="signature from alba (minisign secret key)")
        return bytes(signature) + b"\n"


def load_secret_key(data: bytes, password: str, source: str) -> MinisignSigner:
    """`data`: the key file's content (as CI secrets hold it). `source` names the input."""
    import minisign

    try:
        key = minisign.SecretKey.from_bytes(data.strip() + b"\n" if b"\n" in data.strip() else data)
    except Exception:  # py-minisign raises ParseError and friends; the message may quote the key
        raise InputError(f"{source}: not a minisign secret key",
                         "give the content of the key file `minisign -G` wrote (minisign.key), not the .pub") from None
    if key.is_encrypted() and not password:
        raise InputError(f"{source}: the minisign key is encrypted and no password was given",
                         "set ALBA_MINISIGN_PASSWORD (input minisign-password)")
    try:
        key.decrypt(password)
    except Exception:
        raise InputError(f"{source}: wrong password for the minisign key",
                         "check ALBA_MINISIGN_PASSWORD (input minisign-password)") from None
    return MinisignSigner(key)


def load_public_key(data: bytes) -> "minisign.PublicKey | None":
    """A minisign public key (the .pub file or its base64 line), None when `data` is not one."""
    import minisign

    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    for line in lines:
        if line.startswith("untrusted comment:"):
            continue
        try:
            return minisign.PublicKey.from_base64(line)
        except Exception:
            return None
    return None


def verify(public_keys: list, data: bytes, signature: bytes) -> str | None:
    """The trusted comment when one of the keys verifies `signature` over `data`, else None."""
    import minisign

    try:
        sig = minisign.Signature.from_bytes(signature)
    except Exception:
        return None
    for key in public_keys:
        try:
            key.verify(data, sig)
            return sig.trusted_comment
        except Exception:
            continue
    return None


def prehashed(signature: bytes) -> bool | None:
    """Whether a .minisig signs the file's BLAKE2b-512 (minisign's default, what alba
    writes): then a reader hashes the file as it arrives. None: not a signature."""
    import minisign

    try:
        return minisign.Signature.from_bytes(signature).is_prehashed()
    except Exception:
        return None


def verify_prehash(public_keys: list, blake2b_512: bytes, signature: bytes) -> str | None:
    """As `verify`, given the file's BLAKE2b-512 digest instead of its bytes (a prehashed
    signature only): the trusted comment when one of the keys verifies, else None."""
    import base64

    import minisign
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        sig = minisign.Signature.from_bytes(signature)
        lines = [line for line in signature.splitlines() if line.strip()]
        raw, global_sig = base64.b64decode(lines[1]), base64.b64decode(lines[3])
    except Exception:
        return None
    key_id, ed_sig = raw[2:10], raw[10:74]
    if not sig.is_prehashed():
        return None
    for key in public_keys:
        pk = base64.b64decode(bytes(key.to_base64()))
        if pk[2:10] != key_id:
            continue
        try:
            ed = Ed25519PublicKey.from_public_bytes(pk[10:42])
            ed.verify(ed_sig, blake2b_512)
            ed.verify(global_sig, ed_sig + sig.trusted_comment.encode())
            return sig.trusted_comment
        except (InvalidSignature, ValueError):
            continue
    return None
