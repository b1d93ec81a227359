"""The one settings model of a publish, and the one way a request is built from it.

`Settings` holds every knob a user sets, with its default written here once. The edges
build it: `alba static|container push` and `alba publish` from their flags (cli.py,
publish_command.py), the CI step from its inputs (settings.py reads them with
pydantic-settings and fills this same model). `build_request` then derives the publish
request, the run options and the image options from it, for every entry point alike.

A plain dataclass on purpose: a command line that reads no CI inputs does not pay for
importing pydantic.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from alba_action.errors import InputError
from alba_action.options import run_options
from alba_action.request import AwsCredentials, ImageOptions, PublishRequest, Secret, parse_annotations
from alba_action.targets.url import all_registries  # noqa: F401 (the edges ask it here)

DEFAULT_TARGET = "file://./alba-public"  # the step's target when none is given: no server needed


@dataclass(frozen=True)
class KeyFile:
    """A secret key's bytes and where they came from (for messages that never show the key)."""

    data: bytes = field(repr=False)
    label: str


@dataclass(frozen=True)
class Settings:
    """Field names are the action's input names with `_` for `-` (see action.yml)."""

    name: str = ""
    tags: tuple[str, ...] = ()  # plain tags (`-t NAME:TAG`); the step derives them from `tag_rules`
    tag_rules: str = ""  # metadata-action `tags` rules, one a line
    flavor: str = ""
    static_dir: str = ""
    static_targets: tuple[str, ...] = ()
    container_dir: str = ""
    container_targets: tuple[str, ...] = ()
    compression: str = "gzip"
    format: str = "oci"
    max_uncompressed_size: int | None = None  # None: the loader's own cap
    insecure: bool = False
    chunked: bool = False
    cache_max_size: int | None = None  # None: ALBA_CACHE_MAX_SIZE or the run options' default
    annotations: tuple[str, ...] = ()
    dry_run: bool = False
    latest_guard: bool = False
    jobs: int | None = None  # None: the run options' default
    page: bool = True
    provenance: bool | None = None  # None: on in a CI, off locally
    verify: bool = False
    public_url: str = ""
    registry_public_url: str = ""
    output_file: str = ""
    sep_tags: str = "\n"
    sep_labels: str = "\n"
    sep_annotations: str = "\n"
    registry_username: str = ""
    registry_password: Secret = Secret("")
    aws: AwsCredentials | None = None  # None: the environment's AWS chain
    minisign_key: KeyFile | None = None
    minisign_password: Secret = Secret("")
    sign_key: KeyFile | None = None
    sign_password: Secret = Secret("")
    platform_check: bool = True
    sbom: bool = True
    sbom_format: str = "spdx"
    # OCI source annotations set by the user: on the index and, with format oci, on every
    # platform manifest (what the context gives goes on the index only).
    source: str = ""
    revision: str = ""
    licenses: str = ""
    description: str = ""
    # Retention after the publish (step inputs gc-*): no rule, no gc. See retention.Policy.
    gc_keep: int | None = None
    gc_keep_per_major: int | None = None
    gc_keep_per_minor: int | None = None
    gc_older_than: float | None = None  # seconds
    gc_protect: tuple[str, ...] = ()
    gc_include_releases: bool = False
    copy_from: str = ""  # a source URL: the step copies (promotes) instead of publishing folders
    copy_as: str = ""  # tag rules (as `tag_rules`) for the copy's new tags; empty: the same tags
    part: bool = False  # publish this job's platforms as parts of `release_id` (parts/)
    assemble: tuple[str, ...] = ()  # platforms `os/arch[/variant]`: assemble the release from its parts
    release_id: str = ""  # "": the CI run's id
    from_inputs: bool = False  # built from CI inputs (messages name inputs) or from flags

    def gc_policy(self):
        """The retention policy of the gc-* inputs, None when no rule is given; checked here,
        before any upload."""
        from alba_action.retention import Policy

        rules = (self.gc_keep, self.gc_keep_per_major, self.gc_keep_per_minor, self.gc_older_than)
        if all(r is None for r in rules) and not self.gc_protect and not self.gc_include_releases:
            return None
        try:
            return Policy(keep=self.gc_keep, keep_per_major=self.gc_keep_per_major,
                          keep_per_minor=self.gc_keep_per_minor, older_than=self.gc_older_than,
                          protect=self.gc_protect, include_releases=self.gc_include_releases)
        except InputError as err:
            if not self.from_inputs:
                raise
            raise InputError(f"inputs gc-*: {err.message.replace('--', 'gc-')}", err.fix.replace("--", "gc-")) from None

    def label(self, name: str, flag: str | None = None) -> str:
        """How a message names a setting: `input 'name'` in the step, the flag on a command line."""
        return f"input '{name}'" if self.from_inputs else (flag or f"--{name}")


DEFAULTS = Settings()


def build_request(s: Settings, tags: list[str] | tuple[str, ...], version: str, ctx, env: Mapping[str, str],
                  cwd: Path) -> PublishRequest:
    """The publish request of settings `s` with its tags (plain or from the rules), the run's
    main version and context; `env` gives only the run's own knobs (ALBA_*, AWS_*)."""
    from alba_action.context import source_annotations, source_date

    index, manifest = parse_annotations(list(s.annotations), flag=s.label("annotations", "--annotation"))
    created = source_date(env)
    given = source_annotations(created=created, revision=s.revision, source=s.source, licenses=s.licenses,
                               description=s.description)
    own = given if s.format == "oci" else {}
    image = ImageOptions(s.compression, s.format, s.max_uncompressed_size, s.insecure, s.chunked,
                         {**_image_annotations(ctx, version), **given, **index}, {**own, **manifest},
                         public_host=s.registry_public_url.split("://", 1)[-1].split("/", 1)[0])
    options = run_options(env, parallel=s.jobs, cache_max_bytes=s.cache_max_size,
                          registry_username=s.registry_username, registry_password=s.registry_password or None,
                          aws=s.aws)
    minisign, image_signer = load_signers(s, env)
    return PublishRequest(
        s.name, tuple(tags),
        static_dir=_folder(s, s.static_dir, "static-dir", cwd),
        static_targets=tuple(_relative(s, u, cwd) for u in s.static_targets),
        container_dir=_folder(s, s.container_dir, "container-dir", cwd),
        container_targets=tuple(_relative(s, u, cwd) for u in s.container_targets),
        version=version, image=image, dry_run=s.dry_run, options=options, latest_guard=s.latest_guard,
        minisign=minisign, image_signer=image_signer, pages=s.page, provenance=s.provenance, context=ctx,
        platform_check=s.platform_check, sbom=s.sbom, sbom_format=s.sbom_format, created=created,
        licenses=s.licenses, description=s.description, **_parts(s, ctx))


def _parts(s: Settings, ctx) -> dict:
    """The matrix-build fields: the release id (given, else the CI run's) and the platforms to assemble."""
    if not s.part and not s.assemble:
        return {}
    from alba_action.parts.plan import parse_platforms, release_id

    if s.part and s.assemble:
        raise InputError(f"{s.label('part')} and {s.label('assemble')} together",
                         "publish parts in the build jobs and assemble in one job after them")
    rid = release_id(s.release_id, ctx, s.label("release-id"))
    platforms = parse_platforms(",".join(s.assemble), s.label("assemble", "--platforms")) if s.assemble else ()
    return {"part": s.part, "assemble": platforms, "release_id": rid}


def _image_annotations(ctx, version: str) -> dict[str, str]:
    if ctx is None:
        return {}
    from alba_action.context import image_annotations

    return image_annotations(ctx, version)


def load_signers(s: Settings, env: Mapping[str, str]):
    """(minisign signer, image signer), each None when no key is set. The image key's
    password falls back to COSIGN_PASSWORD, as cosign's own does."""
    minisign = image_signer = None
    if s.minisign_key is not None:
        from alba_action.signing.minisign_keys import load_secret_key

        minisign = load_secret_key(s.minisign_key.data, s.minisign_password.value, s.minisign_key.label)
    if s.sign_key is not None:
        from alba_action.signing.ecdsa_keys import load_signing_key

        password = s.sign_password.value or env.get("COSIGN_PASSWORD", "")
        image_signer = load_signing_key(s.sign_key.data, password, s.sign_key.label)
    return minisign, image_signer


def read_key_file(path: Path, flag: str) -> KeyFile:
    try:
        return KeyFile(path.read_bytes(), f"{flag} {path}")
    except OSError as err:
        raise InputError(f"{flag} {path}: cannot read it ({err.strerror})", f"give {flag} a readable key file") from None


def _folder(s: Settings, value: str, what: str, cwd: Path) -> Path | None:
    """A build's output folder: relative to the workspace in the step, as given on a command line."""
    if not value:
        return None
    if not s.from_inputs:
        return Path(value)
    path = cwd / value
    if not path.is_dir():
        raise InputError(f"{what} {value!r} is not a folder (looked in {path})",
                         f"set {what} to the folder your build wrote, relative to the workspace")
    return path


def _relative(s: Settings, url: str, cwd: Path) -> str:
    """In the step, `file://./dir` is relative to the workspace, not to wherever the process started."""
    if s.from_inputs and url.startswith("file://./"):
        return f"file://{(cwd / url.removeprefix('file://./')).resolve()}"
    return url
