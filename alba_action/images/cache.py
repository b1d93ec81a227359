"""Remember loaded images so that a re-run with unchanged input does no (de)compression.

Layout under the cache folder (`$ALBA_CACHE_DIR`, else `$XDG_CACHE_HOME/alba`, else
`~/.cache/alba`), version `v1`:
- `blobs/sha256/<hex>`: configs and compressed layers (the store layers are written to);
- `entries/<key>.json`: descriptors of one loaded image. The key hashes the input's
  content digest, the platform its name says, the compression codec (library version,
  level) and LOADER_VERSION: any change to one of them is a different entry;
- `stat/<hash>`: the sha256 of an archive file, remembered for its exact (path, device,
  inode, size, mtime, ctime), so an untouched file is not even re-read. ctime cannot be
  set back by tools, so a rewritten file always misses here and is hashed again;
- `stat/size-<bytes>`: some archive of that size was loaded. An archive of a size never
  loaded cannot match an entry, so it is not hashed first: its digest is computed from
  the bytes the loader reads anyway (one pass over the file instead of two).
An entry is used only when its config and every layer file exist with the right size;
full digests are re-checked by whoever reads a blob (store.verify_blob_file).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from alba_action.images.compress import CODEC_ID
from alba_action.digest import sha256_bytes, sha256_file
from alba_action.images.model import Blob, Platform
from alba_action.images.store import BlobStore

LOADER_VERSION = "1"


@dataclass(frozen=True)
class CachedImage:
    platform: Platform
    config: Blob
    layers: list[Blob]
    diff_ids: list[str]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root / "v1"
        self.store = BlobStore(self.root)
        self.entries = self.root / "entries"
        self.stats = self.root / "stat"
        self.entries.mkdir(parents=True, exist_ok=True)
        self.stats.mkdir(parents=True, exist_ok=True)

    def input_digest(self, path: Path) -> str:
        """The content digest of an archive file, or of an OCI layout's index and blob list."""
        known = self.known_digest(path)
        if known is not None:
            return known
        stamp = self.stamp(path)
        digest = sha256_file(path).removeprefix("sha256:")
        self.remember(path, stamp, digest)
        return digest

    def known_digest(self, path: Path) -> str | None:
        """The digest without reading the archive (a layout's always; a file's when its stamp
        was seen), else None."""
        if path.is_dir():
            return self._layout_digest(path)
        try:
            return (self.stats / hashlib.sha256(self.stamp(path).encode()).hexdigest()).read_text().strip()
        except OSError:
            return None

    def may_hold(self, path: Path) -> bool:
        """Whether an archive of this size was ever loaded here (else no entry can match it)."""
        return (self.stats / f"size-{path.stat().st_size}").exists()

    @staticmethod
    def stamp(path: Path) -> str:
        """What identifies a file's version without reading it."""
        st = path.stat()
        return f"{path.resolve()}|{st.st_dev}|{st.st_ino}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}"

    def remember(self, path: Path, stamp: str, digest: str) -> None:
        """`digest` is the content of `path` as it was at `stamp` (taken before reading it);
        a file that changed meanwhile is not remembered."""
        if path.is_dir() or self.stamp(path) != stamp:
            return
        _write_atomic(self.stats / hashlib.sha256(stamp.encode()).hexdigest(), digest.encode())
        (self.stats / f"size-{path.stat().st_size}").touch()

    @staticmethod
    def _layout_digest(path: Path) -> str:
        # Blobs are named by their digest and checked when loaded; a file rewritten in
        # place changes its size, mtime or ctime, hence the stamps.
        h = hashlib.sha256()
        for file in sorted(path.rglob("*")):
            if file.is_file():
                st = file.stat()
                h.update(f"{file.relative_to(path)}|{st.st_size}|{st.st_mtime_ns}|{st.st_ctime_ns}\n".encode())
        h.update((path / "index.json").read_bytes() if (path / "index.json").is_file() else b"")
        return h.hexdigest()

    def key(self, input_digest: str, platform: Platform, compression: str) -> str:
        text = f"{LOADER_VERSION}|{CODEC_ID[compression]}|{platform}|{input_digest}"
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> CachedImage | None:
        try:
            entry = self.entries / f"{key}.json"
            doc = json.loads(entry.read_text())
            os.utime(entry)  # last use: the size cap evicts the least recently used first
            config_path = self.store.path_for(doc["config"])
            config_data = config_path.read_bytes()
            if sha256_bytes(config_data) != doc["config"]:
                return None
            layers = [Blob(d["digest"], d["size"], d["mediaType"], path=self.store.path_for(d["digest"])) for d in doc["layers"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # no entry, or a damaged one: load again
        if not all(self.store.has(b.digest, b.size) for b in layers):
            return None
        plat = Platform(**doc["platform"])
        config = Blob(doc["config"], len(config_data), "", data=config_data)
        return CachedImage(plat, config, layers, [d["diffId"] for d in doc["layers"]])

    def put(self, key: str, image: CachedImage) -> None:
        self.store.put_bytes(image.config.data or b"")
        doc = {
            "platform": {"os": image.platform.os, "architecture": image.platform.architecture,
                         "variant": image.platform.variant},
            "config": image.config.digest,
            "layers": [
                {"digest": b.digest, "size": b.size, "mediaType": b.media_type, "diffId": d}
                for b, d in zip(image.layers, image.diff_ids)
            ],
        }
        _write_atomic(self.entries / f"{key}.json", json.dumps(doc, indent=1).encode())
