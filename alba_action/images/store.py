"""A content-addressed folder of blob files: `blobs/sha256/<hex>`, written via `tmp/` + rename.

Layers are compressed straight into a temporary file here and renamed to their digest
once known, so the only disk used is one compressed copy of each layer. Two processes
may share a store: names are unique until the atomic rename, and a blob that already
exists has the same bytes by construction.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from alba_action.errors import ArchiveError
from alba_action.digest import sha256_bytes, sha256_file
from alba_action.images.model import Blob

CHUNK = 1 << 20


class BlobWriter:
    """A temporary file that hashes and counts what is written to it."""

    def __init__(self, tmp_dir: Path) -> None:
        fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="blob-")
        self.path = Path(name)
        self._file = os.fdopen(fd, "wb")
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self.size += len(data)

    @property
    def digest(self) -> str:
        return "sha256:" + self._hash.hexdigest()

    def close(self) -> None:
        self._file.close()

    def discard(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp = root / "tmp"
        self.blobs = root / "blobs" / "sha256"
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.blobs.mkdir(parents=True, exist_ok=True)
        self._committed: set[str] = set()  # digests this process wrote (a file on disk may be damaged)
        self._lock = threading.Lock()

    def writer(self) -> BlobWriter:
        return BlobWriter(self.tmp)

    def path_for(self, digest: str) -> Path:
        return self.blobs / digest.split(":", 1)[1]

    def commit(self, writer: BlobWriter, media_type: str) -> Blob:
        """Move a finished temporary file to its digest's name and describe it."""
        writer.close()
        path = self.path_for(writer.digest)
        with self._lock:
            again = writer.digest in self._committed
            self._committed.add(writer.digest)
        if again:  # the same bytes, written by another input of this run: keep that file,
            writer.path.unlink()  # which a folder target may have linked already
        else:
            os.replace(writer.path, path)
        return Blob(writer.digest, writer.size, media_type, path=path, hashed=True)

    def put_bytes(self, data: bytes) -> Path:
        """Store small bytes (a config) under their digest; returns the file."""
        writer = self.writer()
        writer.write(data)
        return self.commit(writer, "").path  # type: ignore[return-value]

    def has(self, digest: str, size: int) -> bool:
        """Cheap check (exists, right size): full digests are checked when blobs are read."""
        try:
            return self.path_for(digest).stat().st_size == size
        except OSError:
            return False


def verify_blob_file(blob: Blob) -> None:
    """Re-hash a blob's file before trusting it (e.g. before an upload); a bad file is removed.

    Cache entries are checked only for existence and size when loaded, so that a re-run
    stays fast; a publisher that actually reads a blob calls this (or hashes as it
    uploads) so that a damaged cache file can never be published.
    """
    if blob.path is None:
        if blob.data is not None and sha256_bytes(blob.data) != blob.digest:
            raise ArchiveError(f"blob {blob.digest}: in-memory bytes do not match", "this is a bug; please report it")
        return
    if sha256_file(blob.path) != blob.digest:
        blob.path.unlink(missing_ok=True)
        raise ArchiveError(
            f"{blob.path}: cached blob does not match its digest {blob.digest}",
            "the damaged file was removed; run the command again to rebuild it",
        )
