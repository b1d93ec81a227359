"""Per tag: a `sha256sum -c` checksums file and, with a minisign key, a `.minisig` for it and
for every file. Published with the files, before the tag document that points to them."""

from __future__ import annotations

from dataclasses import dataclass

from alba_action.digest import sha256_bytes
from alba_action.errors import InputError
from alba_action.signing.minisign_keys import SIGNATURE_SUFFIX, MinisignSigner
from alba_action.static import plan
from alba_action.static.scan import PlatformFolder

CHECKSUMS = "SHA256SUMS"
TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True)
class Extra:
    """One object beside the files: its key, bytes and Content-Type."""

    key: str
    data: bytes
    content_type: str = TEXT


def checksums_text(flavors: list[PlatformFolder]) -> bytes:
    """`<hex>  <os>/<arch>[/<variant>]/<path>` a line, as `sha256sum` prints (paths relative
    to the tag's folder, so `cd TAG && sha256sum -c SHA256SUMS` checks them all)."""
    lines = sorted(f"{r.digest.removeprefix('sha256:')}  {f.platform}/{r.path}"
                   for f in flavors for r in f.resources)
    return ("\n".join(lines) + "\n").encode()


def check_signable(flavors: list[PlatformFolder]) -> None:
    """A file named like a signature would be overwritten by one: refuse before uploading."""
    for f in flavors:
        for r in f.resources:
            if r.path.endswith(SIGNATURE_SUFFIX):
                raise InputError(f"{f.platform}/{r.path}: a file named *{SIGNATURE_SUFFIX} cannot be signed "
                                 "(its signature would have the same name)",
                                 "rename or remove it, or publish without --minisign-key")


def extras(name: str, tag: str, flavors: list[PlatformFolder], signer: MinisignSigner | None) -> tuple[list[Extra], dict]:
    """The objects to write for one tag, and the tag document's new fields."""
    text = checksums_text(flavors)
    base = plan.tag_key(name, tag)
    out = [Extra(f"{base}/{CHECKSUMS}", text)]
    fields: dict = {"checksums": {"path": CHECKSUMS, "size": len(text), "digest": sha256_bytes(text)}}
    if signer is None:
        return out, fields
    out.append(Extra(f"{base}/{CHECKSUMS}{SIGNATURE_SUFFIX}",
                     signer.sign(text, f"name:{name} tag:{tag} file:{CHECKSUMS}")))
    fields["checksums"]["signature"] = CHECKSUMS + SIGNATURE_SUFFIX
    for f in flavors:
        for r in f.resources:
            comment = f"name:{name} tag:{tag} platform:{f.platform} file:{r.path}"
            with open(r.source, "rb") as data:  # streamed: prehashed with BLAKE2b, never read whole
                out.append(Extra(f"{base}/{f.platform}/{r.path}{SIGNATURE_SUFFIX}", signer.sign(data, comment)))
    return out, fields
