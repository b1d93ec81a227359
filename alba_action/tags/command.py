"""`alba tags`: the tags the rules give in this environment, to debug them before a release."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alba_action.context import context_from_env
from alba_action.tags import compute_tags


def tags_command(tags: list[str], flavor: list[str], env: Mapping[str, str], cwd: Path) -> dict:
    ctx = context_from_env(env, cwd)
    return compute_tags(ctx, tags, flavor).to_json()
