"""What a part or an assemble did on one target, typed for --json, outputs and the summary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PartResult:
    kind: str  # "static" or "container"
    name: str
    target: str
    release: str
    platforms: list[str]
    files: list[str] = field(default_factory=list)  # keys (static) or digests (blobs, manifests) written
    records: list[str] = field(default_factory=list)  # the part records written
    removed: list[str] = field(default_factory=list)  # assemble: leftovers of the parts removed
    dry_run: bool = False

    def to_json(self) -> dict:
        return {"part": True, **self.__dict__}
