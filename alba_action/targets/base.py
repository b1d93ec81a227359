"""The storage protocol shared by every target: exists, put, get, delete, list."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Literal, Protocol, runtime_checkable

# Called with the number of bytes just transferred.
ProgressCallback = Callable[[int], None]
# How a blob reached a repository: sent, or linked from another repository of the registry.
BlobPut = Literal["pushed", "mounted"]


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str | None = None
    modified: float | None = None  # seconds since the epoch


@dataclass(frozen=True)
class Body:
    """What to write: bytes in memory, or a file streamed from disk."""

    data: bytes | None = None
    path: Path | None = None
    # The file never changes (a content-addressed blob): a folder target may hard-link it
    # instead of copying. Never set for a user's build output, which a rebuild may rewrite.
    immutable: bool = False

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self.path.stat().st_size


class Store(Protocol):
    """A flat key → bytes store. Keys use `/`; no leading slash."""

    url: str  # the target URL with any secret removed, for messages
    settle_seconds: float  # how long to wait before reading back a write that may race

    def head(self, key: str) -> ObjectInfo | None: ...

    def exists(self, key: str) -> bool: ...

    def get(self, key: str) -> tuple[bytes, str | None] | None:
        """The object's bytes and its etag, or None when missing."""

    def put(
        self,
        key: str,
        body: Body,
        content_type: str,
        cache_control: str | None = None,
        if_match: str | None = None,
        if_none_match: bool = False,
        progress: ProgressCallback | None = None,
    ) -> str | None:
        """Write an object. if_match/if_none_match raise ConflictError when the store honours them and they fail.
        Returns the new object's etag where the store answers one (as its listings give it), else None."""

    def delete(self, key: str) -> None: ...

    def list(self, prefix: str, shallow: bool = False) -> Iterator[str]:
        """Keys starting with `prefix`; `shallow` stops at the next '/' as S3's delimiter does."""

    def list_info(self, prefix: str, shallow: bool = False) -> Iterator[ObjectInfo]:
        """As `list`, with size, etag and modification time from the listing itself."""

    def check(self) -> None:
        """Fail early with a clear error when the target cannot be reached or does not exist."""


class ImageRepository(Protocol):
    """One image repository, static (bucket, folder) or an OCI registry.

    Digests are "sha256:<hex>"; refs are a digest or a tag.
    """

    name: str  # repository name, e.g. "albatros" or "dxflrs/albatros"
    url: str  # display form without secrets

    def check(self) -> None:
        """Fail early with a clear error when the repository cannot be reached or written."""

    def reference_for(self, public_host: str) -> str:
        """The HOST/NAME a signature identifies, given where a static registry is served ("" unknown)."""

    def blob_exists(self, digest: str) -> bool: ...

    def put_blob(
        self, digest: str, size: int, media_type: str, path: Path | None, data: bytes | None,
        progress: ProgressCallback | None = None,
    ) -> BlobPut: ...

    def get_blob(self, digest: str) -> bytes | None:
        """A small blob's bytes (a config, a signature payload), or None when missing."""

    def get_manifest(self, ref: str) -> tuple[bytes, str] | None:
        """The manifest's exact bytes and media type, or None when missing."""

    def manifest_digest(self, ref: str) -> str | None: ...

    def put_manifest(self, ref: str, data: bytes, media_type: str) -> None: ...

    def list_tags(self) -> list[str]: ...

    def finish(self, tags: list[str]) -> None:
        """After the tags are written (static registries write tags/list and v2/index.html)."""


@runtime_checkable
class ManagedRegistry(ImageRepository, Protocol):
    """A repository alba can list, prune and sweep itself: a static registry in a store.
    (An OCI registry's own API and tools do that; `container ls|rm|gc` refuse docker://.)"""

    def list_blobs(self) -> list[str]: ...

    def list_manifest_digests(self) -> list[str]: ...

    def tag_times(self) -> dict[str, float | None]:
        """tag → when it was written (seconds since the epoch), None if unknown."""

    def modified_times(self, kind: str) -> dict[str, float]:
        """digest → when its `blobs/` or `manifests/` object was written."""

    def delete_manifest(self, ref: str) -> None: ...

    def delete_blob(self, digest: str) -> None: ...

    def write_tag_list(self) -> list[str]: ...
