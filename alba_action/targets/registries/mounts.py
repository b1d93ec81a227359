"""What one run learns of where blobs are, for cross-repository mounts (kept with the run)."""

from __future__ import annotations

import threading


class MountSources:
    """What one run learns of where blobs are: host -> digest -> a repository holding it.

    A later push to another repository of the same registry (several targets in one run)
    mounts instead of uploading. Each run makes its own: nothing is shared between runs,
    as go-containerregistry carries the mount source on the layer."""

    def __init__(self) -> None:
        self._known: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def remember(self, host: str, digest: str, repo: str) -> None:
        with self._lock:
            self._known.setdefault(host, {})[digest] = repo

    def source(self, host: str, digest: str) -> str | None:
        with self._lock:
            return self._known.get(host, {}).get(digest)
