"""`alba publish`: the whole CI step from flags, as the action runs it from inputs.

Each flag is an action input of the same name (`--static-dir` is `static-dir`); the flags
become ALBA_* values and run through the very same settings, validation, pipeline,
outputs and summary as the step (gh-action-pypi-publish's rule: the action adds nothing
the tool cannot do). Input variables already in the environment are ignored, so that a
command line says everything a run does.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

HELP = "run the whole CI step (static, containers, tag rules, outputs) from flags"

# Inputs given as repeatable flags (one value each), joined one per line for the settings.
LISTS = {"static-target", "container-targets", "tags", "flavor", "annotations"}
FLAGS = {"insecure", "dry-run", "latest-guard", "verify"}
NEGATED = {"page"}  # true by default: a --no-… flag
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


def publish_env(args: argparse.Namespace, env: Mapping[str, str]) -> dict[str, str]:
    """The environment the step sees: the caller's, minus other input variables, plus the flags."""
    from alba_action.settings import PREFIXES, env_names

    known = {n.upper() for name in _inputs() if name not in SECRETS for n in env_names(name)}
    out = {k: v for k, v in env.items() if k.upper() not in known or not k.upper().startswith(PREFIXES)}
    for name in _inputs():
        value = getattr(args, name.replace("-", "_"), None)
        if name in FLAGS:
            value = "true" if value else None
        elif name in NEGATED:
            value = None if value else "false"
        elif name in LISTS:
            value = "\n".join(value) if value else None
        if value is not None:
            out[f"ALBA_{name.upper().replace('-', '_')}"] = value
    return out


def run_publish(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from alba_action.action import main as step_main

    return step_main(publish_env(args, env), cwd=Path.cwd())
