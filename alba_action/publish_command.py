"""`alba publish`: the whole CI step from flags, as the action runs it from inputs.

Each flag is an action input of the same name (`--static-dir` is `static-dir`); the flags
fill the step's settings model directly (by field name, typed: lists stay lists) and run
through the very same validation, pipeline, outputs and summary as the step
(gh-action-pypi-publish's rule: the action adds nothing the tool cannot do). Input
variables already in the environment are ignored, so that a command line says everything
a run does; secrets come from the environment only.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HELP = "run the whole CI step (static, containers, tag rules, outputs) from flags"

# Inputs given as repeatable flags (one value each), joined one per line for the settings.
LISTS = {"static-target", "container-targets", "tags", "flavor", "annotations", "gc-protect"}
FLAGS = {"insecure", "chunked", "dry-run", "latest-guard", "verify", "gc-include-releases", "part"}
NEGATED = {"page", "platform-check", "sbom"}  # true by default: a --no-… flag
SECRETS = {"registry-password", "aws-secret-access-key", "aws-session-token",  # environment only
           "minisign-key", "minisign-password", "sign-key", "sign-password"}


def _inputs() -> list[str]:
    from alba_action.settings import ActionSettings  # pydantic: imported only by `alba publish`

    return [field.validation_alias.choices[0].split("_", 1)[1].lower() for field in ActionSettings.model_fields.values()]


def add_publish_parser(sub, flags: bool = True) -> None:
    """`flags=False`: the subcommand and its help line only, for a command line that runs another one."""
    if not flags:
        sub.add_parser("publish", help=HELP)
        return
    p = sub.add_parser("publish", help=HELP,
                       description="Every flag is the action input of the same name; secrets come from the "
                                   "environment (AWS_*, ALBA_REGISTRY_PASSWORD), never from flags.")
    for name in _inputs():
        if name in SECRETS:
            continue
        flag = f"--{name}"
        if name in FLAGS:
            p.add_argument(flag, action="store_true", help=f"input '{name}'")
        elif name in NEGATED:
            p.add_argument(f"--no-{name}", dest=name, action="store_false", help=f"input '{name}: false'")
        elif name in LISTS:
            singular = {"container-targets": "--container-target", "annotations": "--annotation"}.get(name)
            flags = [flag, singular] if singular else [flag]
            p.add_argument(*flags, dest=name.replace("-", "_"), action="append", default=[], metavar="VALUE",
                           help=f"input '{name}' (repeatable, one value each)")
        else:
            p.add_argument(flag, dest=name.replace("-", "_"), default=None, metavar="VALUE", help=f"input '{name}'")


def flag_values(args: argparse.Namespace) -> dict[str, Any]:
    """The flags given, by settings field name; flags left out keep the settings' defaults."""
    values: dict[str, Any] = {}
    for name in _inputs():
        if name in SECRETS:
            continue
        value = getattr(args, name.replace("-", "_"), None)
        if name in FLAGS and not value:
            continue
        if name in NEGATED and value:
            continue
        if name in LISTS:
            if not value:
                continue
            # The rule inputs are text, one rule a line; targets are lists.
            value = value if name in ("static-target", "container-targets") else "\n".join(value)
        if value is not None:
            values[name.replace("-", "_")] = value
    return values


def run_publish(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from alba_action.action import main as step_main

    return step_main(env, cwd=Path.cwd(), given=flag_values(args))
