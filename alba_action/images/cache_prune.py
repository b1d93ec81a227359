"""The image cache's size cap: least-recently-used entries go first, and then the blobs no
remaining entry uses. Entries used by the current run are never evicted."""

from __future__ import annotations

import json
from pathlib import Path

from alba_action.images.cache import Cache


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _blobs_of(entry: Path) -> set[str]:
    try:
        doc = json.loads(entry.read_text())
        return {doc["config"], *(layer["digest"] for layer in doc["layers"])}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def prune(cache: Cache, max_bytes: int, keep: set[str]) -> tuple[int, int]:
    """Evict until the blobs take at most `max_bytes`; (entries evicted, bytes freed)."""
    blobs = {f"sha256:{p.name}": _size(p) for p in cache.store.blobs.iterdir() if p.is_file()}
    total = sum(blobs.values())
    if total <= max_bytes:
        return 0, 0
    entries = sorted(cache.entries.glob("*.json"), key=lambda p: p.stat().st_mtime)  # least recently used first
    used = {e.stem: _blobs_of(e) for e in entries}
    evicted, freed = 0, 0
    for entry in entries:
        if total - freed <= max_bytes:
            break
        if entry.stem in keep:
            continue
        entry.unlink(missing_ok=True)
        evicted += 1
        del used[entry.stem]
        still = set().union(*used.values()) if used else set()
        for digest in [d for d in blobs if d not in still]:  # blobs no remaining entry uses
            cache.store.path_for(digest).unlink(missing_ok=True)
            freed += blobs.pop(digest)
    return evicted, freed
