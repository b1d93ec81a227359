"""What a loaded image is, independent of where it came from and where it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

# Media types and Platform live in the neutral module alba_action.oci; re-exported here.
from alba_action.oci import (  # noqa: F401
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR, DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX,
    OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_LAYER_ZSTD, OCI_MANIFEST, Platform,
)


@dataclass(frozen=True)
class Blob:
    """Content-addressed bytes: kept in memory (small) or in a file on disk (layers)."""

    digest: str  # "sha256:<hex>"
    size: int
    media_type: str
    path: Path | None = None
    data: bytes | None = None
    # The file was hashed as it was written in this run; a cached file was not.
    hashed: bool = field(default=False, compare=False)

    def descriptor(self) -> dict:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class Manifest:
    """A manifest or index exactly as published: its bytes are what the digest covers."""

    data: bytes
    media_type: str
    digest: str

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class PlatformImage:
    """One platform's image, ready to publish: config, layers and its manifest."""

    platform: Platform
    source: Path
    config: Blob
    layers: list[Blob]
    manifest: Manifest
    notes: list[str] = field(default_factory=list)

    @property
    def blobs(self) -> list[Blob]:
        return [self.config, *self.layers]
