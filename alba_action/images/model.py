"""What a loaded image is, independent of where it came from and where it goes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_LAYER_TAR = "application/vnd.docker.image.rootfs.diff.tar"


@dataclass(frozen=True, order=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)

    def to_json(self) -> dict:
        out = {"architecture": self.architecture, "os": self.os}
        if self.variant:
            out["variant"] = self.variant
        return out


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
