"""Tags that are not releases but attachments of an image: cosign's signature tags
`sha256-<hex>.sig` (and `.att`, `.sbom`) and the OCI referrers fallback tag `sha256-<hex>`.

`container ls` does not list them, `gc --keep N` neither counts nor keeps them on their
own, and gc removes them once no kept tag reaches the manifest they are attached to."""

from __future__ import annotations

import re

_ATTACHMENT = re.compile(r"sha256-([0-9a-f]{64})(?:\.(sig|att|sbom))?")


def subject_of(tag: str) -> str | None:
    """The digest `tag` is attached to, None for a release tag."""
    match = _ATTACHMENT.fullmatch(tag)
    return f"sha256:{match.group(1)}" if match else None


def is_attachment(tag: str) -> bool:
    return subject_of(tag) is not None


def signature_tag(digest: str) -> str:
    return digest.replace(":", "-") + ".sig"
