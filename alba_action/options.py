"""The run options from environment variables (ALBA_*, AWS_*, HOME, DOCKER_CONFIG).

Kept apart from settings.py: every command needs them, and the command line should not pay
for importing pydantic (a fifth of a second) when it reads no action inputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from alba_action.errors import InputError
from alba_action.grammar import parse_duration, parse_size
from alba_action.request import AwsCredentials, RunOptions, Secret


def run_options(env: Mapping[str, str], **given: Any) -> RunOptions:
    """The run options from the environment, read here once; `given` (flags, inputs) win."""
    def number(name: str, default: float) -> float:
        text = env.get(name, "").strip()
        if not text:
            return default
        try:
            return parse_duration(text)
        except ValueError as err:
            raise InputError(f"{name}={text!r}: {err}", f"set {name} to a number of seconds, or unset it") from None

    home = env.get("HOME") or str(Path.home())
    cache = env.get("ALBA_CACHE_DIR") or str(Path(env.get("XDG_CACHE_HOME") or f"{home}/.cache") / "alba")
    docker = env.get("DOCKER_CONFIG")
    values: dict[str, Any] = {
        "settle_seconds": number("ALBA_SETTLE_SECONDS", 0.4),
        "gc_grace_seconds": number("ALBA_GC_GRACE_SECONDS", 3600.0),
        "retry_budget_seconds": number("ALBA_RETRY_BUDGET_SECONDS", 120.0),
        "request_timeout_seconds": number("ALBA_REQUEST_TIMEOUT_SECONDS", 10.0) or 10.0,
        "multipart_threshold": parse_size(env.get("ALBA_MULTIPART_THRESHOLD") or "256M"),
        "cache_dir": Path(cache),
        "cache_max_bytes": parse_size(env.get("ALBA_CACHE_MAX_SIZE") or "10G"),
        "registry_username": env.get("ALBA_REGISTRY_USERNAME", ""),
        "registry_password": Secret(env.get("ALBA_REGISTRY_PASSWORD", "")),
        "docker_config": Path(docker) / "config.json" if docker else Path(home) / ".docker" / "config.json",
        "aws": AwsCredentials(env.get("AWS_ACCESS_KEY_ID", ""), Secret(env.get("AWS_SECRET_ACCESS_KEY", "")),
                              Secret(env.get("AWS_SESSION_TOKEN", "")), env.get("AWS_PROFILE", "")),
    }
    values.update({k: v for k, v in given.items() if v not in (None, "")})
    return RunOptions(**values)
