"""The action's inputs: INPUT_* (GitHub/Forgejo), PLUGIN_* (Woodpecker/Drone) or ALBA_*, read by pydantic-settings.

Every input is validated here, before anything is uploaded. GitHub does not enforce
`required:`, so we do; unknown names get a warning with the closest known spelling.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict
from pydantic_settings.sources.utils import parse_env_vars

from alba_action.errors import InputError
from alba_action.grammar import parse_size

DEFAULT_TARGET = "file://./alba-public"
PREFIXES = ("INPUT_", "PLUGIN_", "ALBA_")
# Variables other parts of alba read; ALBA_* but not action inputs.
INTERNAL = {"ALBA_SETTLE_SECONDS", "ALBA_CACHE_DIR", "ALBA_NOW", "ALBA_GC_GRACE_SECONDS", "ALBA_RETRY_BUDGET_SECONDS",
            "ALBA_REQUEST_TIMEOUT_SECONDS", "ALBA_MULTIPART_THRESHOLD", "ALBA_CACHE_MAX_SIZE",
            "ALBA_REGISTRY_USERNAME", "ALBA_REGISTRY_PASSWORD"}
SECRET_INPUTS = ("registry-password", "aws-secret-access-key", "aws-session-token", "minisign-key",
                 "minisign-password", "sign-key", "sign-password")
SECRET_ENV = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "ALBA_REGISTRY_PASSWORD", "COSIGN_PASSWORD")


def env_names(name: str) -> list[str]:
    """Every spelling of one input: GitHub keeps hyphens, act and Woodpecker turn them into `_`, Drone keeps them."""
    under = name.upper().replace("-", "_")
    upper = name.upper()
    names = [f"INPUT_{upper}", f"INPUT_{under}", f"PLUGIN_{under}", f"PLUGIN_{upper}", f"ALBA_{under}"]
    return list(dict.fromkeys(names))


def _input(name: str, default: Any = ..., **kw) -> Any:
    return Field(default, validation_alias=AliasChoices(*env_names(name)), **kw)


Lines = Annotated[list[str], NoDecode]  # split by us: newline, comma or a JSON list


class ActionSettings(BaseSettings):
    """Field names are the input names with `_` for `-`; see action.yml for each description."""

    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore")

    name: str = _input("name")
    static_dir: str = _input("static-dir", "")
    static_target: Lines = _input("static-target", [])
    container_dir: str = _input("container-dir", "")
    container_targets: Lines = _input("container-targets", [])
    tags: str = _input("tags", "")
    flavor: str = _input("flavor", "")
    registry_username: str = _input("registry-username", "")
    registry_password: str = _input("registry-password", "", repr=False)
    aws_access_key_id: str = _input("aws-access-key-id", "")
    aws_secret_access_key: str = _input("aws-secret-access-key", "", repr=False)
    aws_session_token: str = _input("aws-session-token", "", repr=False)
    compression: Literal["gzip", "zstd", "none"] = _input("compression", "gzip")
    format: Literal["oci", "docker"] = _input("format", "oci")
    max_uncompressed_size: int | None = _input("max-uncompressed-size", None)
    insecure: bool = _input("insecure", False)
    dry_run: bool = _input("dry-run", False)
    public_url: str = _input("public-url", "")
    registry_public_url: str = _input("registry-public-url", "")
    output_file: str = _input("output-file", "")
    annotations: str = _input("annotations", "")
    latest_guard: bool = _input("latest-guard", False)
    jobs: int | None = _input("jobs", None)
    minisign_key: str = _input("minisign-key", "", repr=False)
    minisign_password: str = _input("minisign-password", "", repr=False)
    sign_key: str = _input("sign-key", "", repr=False)
    sign_password: str = _input("sign-password", "", repr=False)
    verify: bool = _input("verify", False)
    page: bool = _input("page", True)
    provenance: bool | None = _input("provenance", None)
    sep_tags: str = _input("sep-tags", "\n")
    sep_labels: str = _input("sep-labels", "\n")
    sep_annotations: str = _input("sep-annotations", "\n")

    @field_validator("static_target", "container_targets", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> list[str]:
        return split_list(value)

    @field_validator("tags", "flavor", "annotations", mode="before")
    @classmethod
    def _rule_lines(cls, value: Any) -> str:
        # A JSON list (Woodpecker list of maps, or a user's habit) becomes one rule a line.
        items = _json_list(value)
        return "\n".join(items) if items is not None else value

    @field_validator("max_uncompressed_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int | None:
        return parse_size(value)

    @field_validator("public_url", "registry_public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _something_to_do(self) -> "ActionSettings":
        if not self.static_dir and not self.container_dir:
            raise ValueError("neither static-dir nor container-dir is set: nothing to publish")
        return self

    @property
    def static_targets(self) -> list[str]:
        return self.static_target or [DEFAULT_TARGET]

    @property
    def container_target_list(self) -> list[str]:
        return self.container_targets or [DEFAULT_TARGET]


def _json_list(value: Any) -> list[str] | None:
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            items = json.loads(value)
        except ValueError:
            return None
        if isinstance(items, list):
            return [str(i) for i in items]
    return None


def split_list(value: Any) -> list[str]:
    """Newline- or comma-separated (how Woodpecker and Drone join YAML lists), or a JSON list."""
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = _json_list(value)
        if items is None:
            items = re.split(r"[\n,]", str(value or ""))
    return [i.strip() for i in items if i.strip()]


class _MappingEnvSource(EnvSettingsSource):
    """pydantic-settings' env source over a given mapping, so tests and callers need not touch os.environ."""

    def __init__(self, settings_cls, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        super().__init__(settings_cls)

    def _load_env_vars(self):
        return parse_env_vars(self._env, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str)


def known_names() -> dict[str, str]:
    """Upper-case env spelling → input name, for every spelling of every input."""
    out = {}
    for field in ActionSettings.model_fields.values():
        for env in field.validation_alias.choices:
            out[env.upper()] = input_name(env)
    return out


def input_name(env: str) -> str:
    return env.split("_", 1)[1].lower().replace("_", "-")


def unknown_names(env: Mapping[str, str]) -> list[str]:
    """One warning per INPUT_/PLUGIN_/ALBA_ variable that is no input, with a spelling hint."""
    known = known_names()
    inputs = sorted(set(known.values()))
    warnings = []
    for key in sorted(env):
        upper = key.upper()
        if not upper.startswith(PREFIXES) or upper in known or upper in INTERNAL:
            continue
        guess = difflib.get_close_matches(input_name(upper.replace(".", "_")), inputs, n=1, cutoff=0.6)
        hint = f"did you mean {guess[0]!r}?" if guess else f"known inputs: {', '.join(inputs)}"
        warnings.append(f"{key} is not an alba input and is ignored — {hint}")
    return warnings


def secret_values(env: Mapping[str, str]) -> list[str]:
    """Every secret in the environment, read raw: they are masked before settings are even parsed."""
    names = dict.fromkeys([n for s in SECRET_INPUTS for n in env_names(s)] + list(SECRET_ENV))
    upper = {k.upper(): v for k, v in env.items()}
    return [upper[n] for n in names if upper.get(n)]


def load_settings(env: Mapping[str, str] | None = None) -> ActionSettings:
    """Parse and validate; every problem becomes one InputError naming the inputs at fault."""
    env = os.environ if env is None else env

    class _Settings(ActionSettings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, *args, **kwargs):
            return (_MappingEnvSource(settings_cls, env),)

    try:
        return _Settings()
    except ValidationError as err:
        raise _input_error(err) from None


def _input_error(err: ValidationError) -> InputError:
    known = known_names()
    problems, names = [], []
    for e in err.errors(include_url=False):
        where = str(e["loc"][0]) if e["loc"] else ""
        name = known.get(where.upper(), where.replace("_", "-"))
        if e["type"] == "missing":
            problems.append(f"input {name!r} is required")
        elif name:
            # pydantic names the first spelling, not the one set: show the value, never a secret's.
            shown = "" if name in SECRET_INPUTS else f" = {e.get('input')!r}"
            problems.append(f"input {name!r}{shown}: {e['msg']}")
        else:
            problems.append(e["msg"])
        names.append(name or "static-dir")
    spellings = env_names(names[0])
    fix = (f"set {names[0]} in the step's `with:` (GitHub, Forgejo) or `settings:` (Woodpecker, Drone), "
           f"or as {spellings[-1]}; see docs/action.md")
    return InputError("; ".join(p.replace("Value error, ", "") for p in problems), fix)
