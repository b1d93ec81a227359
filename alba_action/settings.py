"""The action's inputs: INPUT_* (GitHub/Forgejo), PLUGIN_* (Woodpecker/Drone) or ALBA_*, read by pydantic-settings.

Every input is validated here, before anything is uploaded. GitHub does not enforce
`required:`, so we do; unknown names get a warning with the closest known spelling.
`alba publish` fills the same model from its flags (`load_settings(env, given=…)`): then
only the secret inputs come from the environment. Either way the result becomes the one
settings model, `config.Settings`, whose defaults these fields take.
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

from alba_action.config import DEFAULT_TARGET, DEFAULTS as D, KeyFile, Settings
from alba_action.errors import InputError
from alba_action.grammar import parse_duration, parse_size
from alba_action.request import AwsCredentials, Secret
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

    model_config = SettingsConfigDict(case_sensitive=False, env_ignore_empty=True, extra="ignore",
                                      populate_by_name=True)

    name: str = _input("name")
    static_dir: str = _input("static-dir", D.static_dir)
    static_target: Lines = _input("static-target", [])
    container_dir: str = _input("container-dir", D.container_dir)
    container_targets: Lines = _input("container-targets", [])
    tags: str = _input("tags", D.tag_rules)
    flavor: str = _input("flavor", D.flavor)
    registry_username: str = _input("registry-username", D.registry_username)
    registry_password: str = _input("registry-password", "", repr=False)
    aws_access_key_id: str = _input("aws-access-key-id", "")
    aws_secret_access_key: str = _input("aws-secret-access-key", "", repr=False)
    aws_session_token: str = _input("aws-session-token", "", repr=False)
    compression: Literal["gzip", "zstd", "none"] = _input("compression", D.compression)
    format: Literal["oci", "docker"] = _input("format", D.format)
    max_uncompressed_size: int | None = _input("max-uncompressed-size", D.max_uncompressed_size)
    insecure: bool = _input("insecure", D.insecure)
    chunked: bool = _input("chunked", D.chunked)
    cache_max_size: int | None = _input("cache-max-size", D.cache_max_size)
    dry_run: bool = _input("dry-run", D.dry_run)
    public_url: str = _input("public-url", D.public_url)
    registry_public_url: str = _input("registry-public-url", D.registry_public_url)
    output_file: str = _input("output-file", D.output_file)
    annotations: str = _input("annotations", "")
    latest_guard: bool = _input("latest-guard", D.latest_guard)
    jobs: int | None = _input("jobs", D.jobs)
    minisign_key: str = _input("minisign-key", "", repr=False)
    minisign_password: str = _input("minisign-password", "", repr=False)
    sign_key: str = _input("sign-key", "", repr=False)
    sign_password: str = _input("sign-password", "", repr=False)
    verify: bool = _input("verify", D.verify)
    page: bool = _input("page", D.page)
    provenance: bool | None = _input("provenance", D.provenance)
    sep_tags: str = _input("sep-tags", D.sep_tags)
    sep_labels: str = _input("sep-labels", D.sep_labels)
    sep_annotations: str = _input("sep-annotations", D.sep_annotations)
    platform_check: bool = _input("platform-check", D.platform_check)
    sbom: bool = _input("sbom", D.sbom)
    sbom_format: Literal["spdx", "spdx-json", "cyclonedx", "cyclonedx-json"] = _input("sbom-format", D.sbom_format)
    source: str = _input("source", D.source)
    revision: str = _input("revision", D.revision)
    licenses: str = _input("licenses", D.licenses)
    description: str = _input("description", D.description)
    copy_from: str = _input("copy-from", D.copy_from)
    copy_as: str = _input("copy-as", D.copy_as)
    part: bool = _input("part", D.part)
    assemble: str = _input("assemble", ",".join(D.assemble))
    release_id: str = _input("release-id", D.release_id)
    gc_keep: int | None = _input("gc-keep", D.gc_keep)
    gc_keep_per_major: int | None = _input("gc-keep-per-major", D.gc_keep_per_major)
    gc_keep_per_minor: int | None = _input("gc-keep-per-minor", D.gc_keep_per_minor)
    gc_older_than: float | None = _input("gc-older-than", D.gc_older_than)
    gc_protect: Lines = _input("gc-protect", D.gc_protect)
    gc_include_releases: bool = _input("gc-include-releases", D.gc_include_releases)

    @field_validator("gc_older_than", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float | None:
        return None if value in (None, "") else parse_duration(value)

    @field_validator("static_target", "container_targets", "gc_protect", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> list[str]:
        return split_list(value)

    @field_validator("tags", "flavor", "annotations", "copy_as", mode="before")
    @classmethod
    def _rule_lines(cls, value: Any) -> str:
        # A JSON list (Woodpecker list of maps, or a user's habit) becomes one rule a line.
        items = _json_list(value)
        return "\n".join(items) if items is not None else value

    @field_validator("max_uncompressed_size", "cache_max_size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int | None:
        return parse_size(value)

    @field_validator("public_url", "registry_public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @model_validator(mode="after")
    def _something_to_do(self) -> "ActionSettings":
        if self.assemble.strip():
            if not self.static_target and not self.container_targets:
                raise ValueError("assemble: no static-target and no container-targets: nothing to assemble")
            return self
        if not self.static_dir and not self.container_dir and not self.copy_from:
            raise ValueError("neither static-dir nor container-dir (nor copy-from) is set: nothing to publish")
        return self

    @property
    def static_targets(self) -> list[str]:
        return self.static_target or [DEFAULT_TARGET]

    @property
    def container_target_list(self) -> list[str]:
        return self.container_targets or [DEFAULT_TARGET]

    def to_settings(self) -> Settings:
        """The one settings model; its tags come later, from the rules and the CI context."""
        aws = (AwsCredentials(self.aws_access_key_id, Secret(self.aws_secret_access_key),
                              Secret(self.aws_session_token)) if self.aws_access_key_id else None)
        return Settings(
            name=self.name, tag_rules=self.tags, flavor=self.flavor, static_dir=self.static_dir,
            # A copy goes only where targets are given; a publish has the default target.
            static_targets=tuple(self.static_target if self.copy_from or self.assemble.strip() else self.static_targets),
            container_dir=self.container_dir,
            container_targets=tuple(self.container_targets if self.copy_from or self.assemble.strip()
                                    else self.container_target_list),
            compression=self.compression, format=self.format,
            max_uncompressed_size=self.max_uncompressed_size, insecure=self.insecure, chunked=self.chunked,
            cache_max_size=self.cache_max_size, annotations=tuple(self.annotations.splitlines()),
            dry_run=self.dry_run, latest_guard=self.latest_guard, jobs=self.jobs, page=self.page,
            provenance=self.provenance, verify=self.verify, public_url=self.public_url,
            registry_public_url=self.registry_public_url, output_file=self.output_file, sep_tags=self.sep_tags,
            sep_labels=self.sep_labels, sep_annotations=self.sep_annotations,
            registry_username=self.registry_username, registry_password=Secret(self.registry_password), aws=aws,
            minisign_key=KeyFile(self.minisign_key.encode(), "input 'minisign-key'") if self.minisign_key else None,
            minisign_password=Secret(self.minisign_password),
            sign_key=KeyFile(self.sign_key.encode(), "input 'sign-key'") if self.sign_key else None,
            sign_password=Secret(self.sign_password), platform_check=self.platform_check, sbom=self.sbom,
            sbom_format=self.sbom_format, source=self.source, revision=self.revision, licenses=self.licenses,
            description=self.description, copy_from=self.copy_from, copy_as=self.copy_as,
            gc_keep=self.gc_keep, gc_keep_per_major=self.gc_keep_per_major, gc_keep_per_minor=self.gc_keep_per_minor,
            gc_older_than=self.gc_older_than, gc_protect=tuple(self.gc_protect),
            gc_include_releases=self.gc_include_releases, from_inputs=True, **self._parts())

    def _parts(self) -> dict:
        """Matrix builds (an assemble step assembles only the kinds whose targets are given)."""
        return {"part": self.part, "release_id": self.release_id,
                "assemble": (self.assemble,) if self.assemble.strip() else ()}


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


def load_settings(env: Mapping[str, str] | None = None, given: Mapping[str, Any] | None = None) -> ActionSettings:
    """Parse and validate; every problem becomes one InputError naming the inputs at fault.

    `given`: values by field name (`alba publish`'s flags), which then are the only source
    besides the secret inputs in `env`: other input variables in the environment are ignored."""
    env = os.environ if env is None else env
    if given is not None:
        secret = {n.upper() for s in SECRET_INPUTS for n in env_names(s)}
        env = {k: v for k, v in env.items() if k.upper() in secret}

    class _Settings(ActionSettings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, *args, **kwargs):
            return (init_settings, _MappingEnvSource(settings_cls, env))

    try:
        return _Settings(**dict(given or {}))
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
