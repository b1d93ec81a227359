"""What a publish needs, built once at the edge (flags or CI inputs) and passed down.

The run's knobs (settle time, gc grace, retry budget, timeouts, cache folder, registry
credentials, Docker config, AWS keys) are fields of RunOptions, with their defaults written
here once: nothing below the edges reads or writes the process environment, so two runs in
one process share nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Mapping

from alba_action.errors import InputError
from alba_action.names import check_name, check_tag
from alba_action.targets.url import all_registries

if TYPE_CHECKING:  # types only: the signers and the context import cryptography and git lazily
    from alba_action.context.model import Context
    from alba_action.signing.ecdsa_keys import EcdsaSigner
    from alba_action.signing.minisign_keys import MinisignSigner

ANNOTATION_LEVELS = ("index", "manifest")


@dataclass(frozen=True)
class Secret:
    """A value that must never be printed: its repr and str say so instead."""

    value: str = field(repr=False)

    def __repr__(self) -> str:
        return "Secret(***)"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self.value)


@dataclass(frozen=True)
class AwsCredentials:
    access_key_id: str = ""
    secret_access_key: Secret = Secret("")
    session_token: Secret = Secret("")
    profile: str = ""


@dataclass(frozen=True)
class RunOptions:
    """How a run behaves, whatever it publishes."""

    settle_seconds: float = 0.4  # how long a store without conditional writes takes to settle
    gc_grace_seconds: float = 3600.0  # unreferenced objects younger than this are kept
    retry_budget_seconds: float = 120.0  # waiting allowed for retries, per target
    request_timeout_seconds: float = 10.0  # a small request with no answer by then is retried
    parallel: int = 16  # requests in flight per target (fewer while a store throttles)
    multipart_threshold: int = 256 << 20  # S3 files from this size go in 16 MiB parts
    cache_dir: Path | None = None  # image cache; None: none (a temporary folder per run)
    cache_max_bytes: int = 10 << 30  # least recently used images are evicted beyond this
    registry_username: str = ""
    registry_password: Secret = Secret("")
    docker_config: Path | None = None  # config.json with `auths` and credential helpers
    aws: AwsCredentials = AwsCredentials()

    def __post_init__(self) -> None:
        for what, value in (("settle time", self.settle_seconds), ("gc grace", self.gc_grace_seconds),
                            ("retry budget", self.retry_budget_seconds)):
            if value < 0:
                raise InputError(f"{what} {value}: must be 0 or more", f"set the {what} to 0 or more seconds")
        if self.request_timeout_seconds <= 0:
            raise InputError(f"request timeout {self.request_timeout_seconds}: must be more than 0",
                             "set ALBA_REQUEST_TIMEOUT_SECONDS to a number of seconds, e.g. 10")
        if not 1 <= self.parallel <= 64:
            raise InputError(f"--jobs {self.parallel}: must be between 1 and 64",
                             "pass --jobs N (input jobs) with N from 1 to 64")


@dataclass(frozen=True)
class ImageOptions:
    compression: str = "gzip"
    fmt: str = "oci"
    max_uncompressed: int | None = None
    insecure: bool = False
    chunked: bool = False
    # Index annotations: the images and these decide the index digest, never the tags.
    annotations: Mapping[str, str] = field(default_factory=dict)
    manifest_annotations: Mapping[str, str] = field(default_factory=dict)
    public_host: str = ""  # where a static registry is served (signatures name HOST/NAME)

    def __post_init__(self) -> None:
        object.__setattr__(self, "annotations", MappingProxyType(dict(self.annotations)))
        object.__setattr__(self, "manifest_annotations", MappingProxyType(dict(self.manifest_annotations)))


@dataclass(frozen=True)
class PublishRequest:
    """What (name, tags, folders), where (targets), how (image options, dry run) and run options."""

    name: str
    tags: tuple[str, ...]
    static_dir: Path | None = None
    static_targets: tuple[str, ...] = ()
    container_dir: Path | None = None
    container_targets: tuple[str, ...] = ()
    version: str = ""  # the main version of a tag-rules run ("" from plain -t tags)
    image: ImageOptions = ImageOptions()
    dry_run: bool = False
    options: RunOptions = RunOptions()
    # Drop `latest` when this version is older than a release already published on a target.
    latest_guard: bool = False
    # Unlocked signing keys (signing/): minisign for static files, ECDSA P-256 for images.
    minisign: MinisignSigner | None = field(default=None, repr=False)
    image_signer: EcdsaSigner | None = field(default=None, repr=False)
    pages: bool = True  # static publishes (re)write df-dist-v1/NAME/index.html and df-dist-v1/index.html
    provenance: bool | None = None  # None: on in a CI, off locally
    context: Context | None = field(default=None, repr=False)  # where we run, for provenance and annotations
    platform_check: bool = True  # refuse static files whose header names another platform than their folder
    sbom: bool = True  # alba's own SBOMs where the build gives none
    sbom_format: str = "spdx"  # or cyclonedx
    created: str = ""  # SOURCE_DATE_EPOCH as ISO 8601, for SBOMs; "" when unset
    licenses: str = ""  # SPDX expression, for alba's SBOMs (images: also an annotation)
    description: str = ""
    # Matrix builds (parts/): publish this job's platforms as parts of `release_id`, or
    # assemble the release from the parts of these platforms (no folders then).
    part: bool = False
    assemble: tuple = ()  # Platforms
    release_id: str = ""

    @property
    def static(self) -> bool:
        """Static files are published (or assembled) by this request."""
        return self.static_dir is not None or bool(self.assemble and self.static_targets)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(dict.fromkeys(self.tags)))
        for attr in ("static_targets", "container_targets"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        if self.static_dir is None and self.container_dir is None and not self.assemble:
            raise InputError("nothing to publish: no static folder and no container folder",
                             "give a static folder (static-dir), a container folder (container-dir), or both")
        if self.name:
            check_name(self.name, single=self.static)
        elif self.static or not all_registries(self.container_targets):
            raise InputError("no name given", "add -t NAME:TAG (e.g. -t albatros:0.9)")
        for tag in self.tags:
            check_tag(tag)
        if self.static and "index.html" in (self.name, *self.tags):
            raise InputError("index.html is the download page's key, not a name or tag for static files",
                             "choose another name or tag")
        if self.static_dir is not None and not self.static_targets:
            raise InputError("static files but no static target", "name at least one s3:// or file:// target")
        if self.container_dir is not None and not self.container_targets:
            raise InputError("container images but no container target",
                             "name at least one s3://, file:// or docker:// target")


def parse_annotations(values: list[str], flag: str = "--annotation") -> tuple[dict[str, str], dict[str, str]]:
    """`KEY=VALUE`, `index:KEY=VALUE`, `manifest:KEY=VALUE` (metadata-action's levels) →
    (index annotations, manifest annotations). No prefix means the index."""
    index: dict[str, str] = {}
    manifest: dict[str, str] = {}
    for raw in values:
        text = raw.strip()
        if not text:
            continue
        key, eq, value = text.partition("=")
        level, colon, bare = key.partition(":")
        if colon and level in ANNOTATION_LEVELS:
            key = bare
        elif colon and level.endswith("-descriptor"):
            raise InputError(f"{flag} {raw!r}: {level} annotations are not supported",
                             "use index:KEY=VALUE or manifest:KEY=VALUE")
        else:
            level = "index"
        if not eq or not key.strip():
            raise InputError(f"{flag} {raw!r}: not KEY=VALUE",
                             "write e.g. --annotation org.opencontainers.image.licenses=MIT")
        (index if level == "index" else manifest)[key.strip()] = value
    return index, manifest
