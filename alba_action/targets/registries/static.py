"""A read-only registry laid out in a Store (SPEC §4.1): what Garage's website mode serves as /v2/."""

from __future__ import annotations

import json
from pathlib import Path

from alba_action.digest import sha256_bytes
from alba_action.grammar import compact_json
from alba_action.errors import TargetError
from alba_action.targets.base import BlobPut, Body, ProgressCallback
from alba_action.targets.stores.converge import Stored, conditional_writes, converge, known_conditionals

JSON = "application/json"
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
INDEX_HTML = b"<!doctype html><title>registry</title><p>A static OCI registry published by alba.</p>\n"


class StaticRegistry:
    def __init__(self, store, name: str) -> None:
        self.store = store
        self.name = name
        self.url = f"{store.url} v2/{name}"
        self.base = f"v2/{name}"
        self._written: tuple[str, bytes, str] | None = None  # a manifest by digest: what a probe may rewrite

    def check(self) -> None:
        self.store.check()

    def reference_for(self, public_host: str) -> str:
        """What a signature names: the public host the bucket is served at, when known, else the name alone."""
        return f"{public_host}/{self.name}" if public_host else self.name

    def blob_key(self, digest: str) -> str:
        return f"{self.base}/blobs/{digest}"

    def manifest_key(self, ref: str) -> str:
        return f"{self.base}/manifests/{ref}"

    def blob_exists(self, digest: str) -> bool:
        return self.store.exists(self.blob_key(digest))

    def put_blob(self, digest, size, media_type, path: Path | None, data: bytes | None,
                 progress: ProgressCallback | None = None) -> BlobPut:
        body = Body(path=path, immutable=True) if path is not None else Body(data=data)
        self.store.put(self.blob_key(digest), body, "application/octet-stream", IMMUTABLE, progress=progress)
        return "pushed"

    def get_blob(self, digest: str) -> bytes | None:
        got = self.store.get(self.blob_key(digest))
        return got[0] if got else None

    def get_manifest(self, ref: str) -> tuple[bytes, str] | None:
        got = self.store.get(self.manifest_key(ref))
        if got is None:
            return None
        data = got[0]
        try:
            media_type = json.loads(data).get("mediaType", "")
        except (ValueError, AttributeError):
            raise TargetError(f"{self.manifest_key(ref)} on {self.store.url} is not a manifest",
                              "delete it, then push again") from None
        return data, media_type

    def manifest_digest(self, ref: str) -> str | None:
        got = self.get_manifest(ref)
        return sha256_bytes(got[0]) if got else None

    def put_manifest(self, ref: str, data: bytes, media_type: str) -> None:
        # Clients refuse a manifest whose Content-Type is not its mediaType.
        cache = IMMUTABLE if ref.startswith("sha256:") else NO_CACHE
        self.store.put(self.manifest_key(ref), Body(data=data), media_type, cache)
        if ref.startswith("sha256:"):
            self._written = (self.manifest_key(ref), data, media_type)

    def put_referrers(self, digest: str, index: bytes) -> None:
        """`GET /v2/NAME/referrers/DIGEST` of the OCI 1.1 API, precomputed."""
        key = f"{self.base}/referrers/{digest}"
        got = self.store.get(key)
        if not got or got[0] != index:
            self.store.put(key, Body(data=index), "application/vnd.oci.image.index.v1+json", NO_CACHE)

    def delete_manifest(self, ref: str) -> None:
        self.store.delete(self.manifest_key(ref))

    def delete_blob(self, digest: str) -> None:
        self.store.delete(self.blob_key(digest))

    def list_tags(self) -> list[str]:
        prefix = f"{self.base}/manifests/"
        return sorted(k[len(prefix):] for k in self.store.list(prefix) if not k[len(prefix):].startswith("sha256:"))

    def tag_times(self) -> dict[str, float | None]:
        """tag → when its object was written (seconds since the epoch), from one listing."""
        prefix = f"{self.base}/manifests/"
        return {i.key[len(prefix):]: i.modified for i in self.store.list_info(prefix)
                if not i.key[len(prefix):].startswith("sha256:")}

    def modified_times(self, kind: str) -> dict[str, float]:
        """digest → when `blobs/` or `manifests/` object was written, from one listing (gc's sweep)."""
        prefix = f"{self.base}/{kind}/"
        return {i.key[len(prefix):]: i.modified or 0.0 for i in self.store.list_info(prefix)}

    def list_blobs(self) -> list[str]:
        prefix = f"{self.base}/blobs/"
        return sorted(k[len(prefix):] for k in self.store.list(prefix))

    def list_manifest_digests(self) -> list[str]:
        prefix = f"{self.base}/manifests/"
        return sorted(k[len(prefix):] for k in self.store.list(prefix) if k[len(prefix):].startswith("sha256:"))

    def finish(self, tags: list[str]) -> None:
        """tags/list rebuilt from the tag objects (concurrent pushes converge), then v2/index.html."""
        self.write_tag_list()
        if not self.store.exists("v2/index.html"):
            self.store.put("v2/index.html", Body(data=INDEX_HTML), "text/html", NO_CACHE)

    def write_tag_list(self) -> list[str]:
        """tags/list from the tag objects present (sorted, as registries list them)."""
        key = f"{self.base}/tags/list"

        def read() -> Stored[list[str]]:
            got = self.store.get(key)
            try:
                return Stored(json.loads(got[0]).get("tags") if got else None, got[1] if got else None)
            except (ValueError, AttributeError):
                return Stored(None)

        return converge(self.store, key, read=read, wanted=lambda _: self.list_tags(),
                        encode=lambda tags: compact_json({"name": self.name, "tags": tags}),
                        conditionals=self._conditionals())

    def _conditionals(self) -> str:
        """Whether the store honours conditional writes, probed by rewriting a manifest this
        run wrote by digest (identical bytes and headers: harmless where ignored)."""
        if self._written is None:
            return known_conditionals(self.store)
        key, data, media_type = self._written
        return conditional_writes(self.store, key, data, media_type, IMMUTABLE)
