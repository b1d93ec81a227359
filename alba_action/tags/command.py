"""`alba tags`: the tags the rules give in this environment, to debug them before a release."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alba_action.context import context_from_env
from alba_action.tags import compute_tags


def tags_command(tags: list[str], flavor: list[str], env: Mapping[str, str], cwd: Path) -> dict:
    """{"version", "latest", "tags"}; `version` is null when no rule gives one (the step's
    output keeps metadata-action's empty string)."""
    ctx = context_from_env(env, cwd)
    result = compute_tags(ctx, tags, flavor).to_json()
    result["version"] = result["version"] or None
    return result
