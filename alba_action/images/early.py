"""Blobs pushed while images are still loading: uploads overlap compression.

A layer is pushed to every repository as soon as its compressed file exists. That is safe
in SPEC §4.1 order: a blob that no manifest references is invisible (gc sweeps it after the
grace period), and manifests, the index and tags still wait for every blob and for every
platform to load, so a bad archive still publishes no manifest and no tag. The push step
then collects each blob's outcome in its usual order and trace lines.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from alba_action.images.model import Blob
from alba_action.images.store import verify_blob_file

PARALLEL_BLOBS = 4  # per repository


@dataclass(frozen=True)
class Pushed:
    how: str  # "existing", "pushed" or "mounted"
    seconds: float


def push_blob(repo, blob: Blob) -> str:
    """One blob to one repository unless it is there: "existing", "pushed" or "mounted"."""
    return "existing" if repo.blob_exists(blob.digest) else upload_blob(repo, blob)


def upload_blob(repo, blob: Blob, progress=None) -> str:
    """"pushed" or "mounted"."""
    if blob.path is not None and not blob.hashed:
        verify_blob_file(blob)  # a cached file is trusted on its size alone until it is uploaded
    return repo.put_blob(blob.digest, blob.size, blob.media_type, blob.path, blob.data, progress=progress)


class EarlyBlobs:
    """Started uploads, one future per (repository, digest); a context that waits for them."""

    def __init__(self, repos: list) -> None:
        self.repos = repos
        self._pool = ThreadPoolExecutor(PARALLEL_BLOBS * max(1, len(repos)), thread_name_prefix="alba-early")
        self._futures: dict[tuple[int, str], Future[Pushed]] = {}
        self._lock = threading.Lock()

    def start(self, blob: Blob) -> None:
        """Called by the loader (from its threads) when a layer's file is complete."""
        with self._lock:
            for repo in self.repos:
                key = (id(repo), blob.digest)
                if key not in self._futures:
                    self._futures[key] = self._pool.submit(self._push, repo, blob)

    @staticmethod
    def _push(repo, blob: Blob) -> Pushed:
        start = time.monotonic()
        return Pushed(push_blob(repo, blob), time.monotonic() - start)

    def taken(self, repo, digest: str) -> Future[Pushed] | None:
        with self._lock:
            return self._futures.get((id(repo), digest))

    def __enter__(self) -> "EarlyBlobs":
        return self

    def __exit__(self, *exc) -> None:
        # On success every future was collected; on failure, uploads not started are dropped
        # and running ones finish before their files (maybe in a temporary folder) go.
        self._pool.shutdown(wait=True, cancel_futures=True)
