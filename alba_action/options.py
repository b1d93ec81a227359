"""The run options from environment variables (ALBA_*, AWS_*, HOME, DOCKER_CONFIG).

Kept apart from settings.py: every command needs them, and the command line should not pay
for importing pydantic (a fifth of a second) when it reads no action inputs. Defaults are
RunOptions' own: a variable that is unset leaves its field alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alba_action.errors import InputError
from alba_action.grammar import parse_duration, parse_size
from alba_action.request import AwsCredentials, RunOptions, Secret

DURATIONS = {"settle_seconds": "ALBA_SETTLE_SECONDS", "gc_grace_seconds": "ALBA_GC_GRACE_SECONDS",
             "retry_budget_seconds": "ALBA_RETRY_BUDGET_SECONDS",
             "request_timeout_seconds": "ALBA_REQUEST_TIMEOUT_SECONDS"}
SIZES = {"multipart_threshold": "ALBA_MULTIPART_THRESHOLD", "cache_max_bytes": "ALBA_CACHE_MAX_SIZE"}


def run_options(env: Mapping[str, str], **given: Any) -> RunOptions:
    """The run options from the environment, read here once; `given` (flags, inputs) win."""
    values: dict[str, Any] = {}
    for attr, name in DURATIONS.items():
        if text := env.get(name, "").strip():
            values[attr] = _parse(name, text, parse_duration, "a number of seconds")
    if not values.get("request_timeout_seconds", 1):
        del values["request_timeout_seconds"]  # 0 means the default
    for attr, name in SIZES.items():
        if text := env.get(name, "").strip():
            values[attr] = _parse(name, text, parse_size, "a size such as 256M")
    home = env.get("HOME") or str(Path.home())
    docker = env.get("DOCKER_CONFIG")
    values.update(
        cache_dir=Path(env.get("ALBA_CACHE_DIR") or Path(env.get("XDG_CACHE_HOME") or f"{home}/.cache") / "alba"),
        registry_username=env.get("ALBA_REGISTRY_USERNAME", ""),
        registry_password=Secret(env.get("ALBA_REGISTRY_PASSWORD", "")),
        docker_config=Path(docker) / "config.json" if docker else Path(home) / ".docker" / "config.json",
        aws=AwsCredentials(env.get("AWS_ACCESS_KEY_ID", ""), Secret(env.get("AWS_SECRET_ACCESS_KEY", "")),
                           Secret(env.get("AWS_SESSION_TOKEN", "")), env.get("AWS_PROFILE", "")))
    values.update({k: v for k, v in given.items() if v not in (None, "")})
    return RunOptions(**values)


def _parse(name: str, text: str, parse, what: str):
    try:
        return parse(text)
    except ValueError as err:
        raise InputError(f"{name}={text!r}: {err}", f"set {name} to {what}, or unset it") from None
