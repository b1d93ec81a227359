"""From rules to final tag names: metadata-action's order, then the OCI rules it leaves out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..context.model import Context
from ..grammar import MAX_TAG, is_tag
from .engine import Evaluator, sanitize
from .rules import Flavor, parse_flavor, parse_rules

@dataclass(frozen=True)
class TagResult:
    version: str  # the highest-priority tag ("" when no rule produced one)
    latest: bool  # whether a latest tag was added
    tags: list[str] = field(default_factory=list)  # final names, `latest` included, deduplicated

    def to_json(self) -> dict:
        return {"version": self.version, "latest": self.latest, "tags": list(self.tags)}


def is_oci_tag(name: str) -> bool:
    return is_tag(name)


def oci_tag(value: str) -> str:
    """A valid OCI tag from any value, "" when nothing usable remains.

    Registries reject tags that start with `.` or `-` or exceed 128 characters;
    metadata-action passes both through. Long values keep 120 characters plus a
    hash of the whole, so two long tags that share a prefix stay distinct.
    """
    name = sanitize(value).lstrip(".-")
    if len(name) > MAX_TAG:
        digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:7]
        name = f"{name[:120]}-{digest}"
    return name if is_oci_tag(name) else ""


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for name in names:
        if name:
            seen.setdefault(name, None)
    return list(seen)


def latest_name(flavor: Flavor) -> str:
    prefix = flavor.prefix if flavor.prefix_latest else ""
    suffix = flavor.suffix if flavor.suffix_latest else ""
    return f"{prefix}latest{suffix}"


def compute_tags(ctx: Context, tags: list[str] | str | None, flavor: list[str] | str | None) -> TagResult:
    """Evaluate metadata-action `tags`/`flavor` inputs against ctx.

    Raises InputError for a rule or flavor entry metadata-action would reject,
    or that we cannot evaluate (unknown attribute, bad regex, bad expression).
    """
    parsed_flavor = parse_flavor(flavor)
    version = Evaluator(ctx, parsed_flavor).run(parse_rules(tags))
    if not version.main:
        return TagResult(version="", latest=False, tags=[])
    names = _unique([oci_tag(v) for v in (version.main, *version.partial)])
    latest = version.latest and bool(names)
    if latest:
        names = _unique([*names, oci_tag(latest_name(parsed_flavor))])
    return TagResult(version=names[0] if names else "", latest=latest, tags=names)
