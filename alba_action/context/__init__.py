"""Where we run: GitHub, Forgejo, Woodpecker, Drone variables, or the local git repository."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from ..errors import InputError
from .github import github_context
from .local import commit_date, local_context
from .model import PROVIDERS, Context, iso_utc, parse_iso, ref_parts, utc_now
from .plugins import drone_context, woodpecker_context

__all__ = ["PROVIDERS", "Context", "context_from_env", "detect_provider", "image_annotations", "iso_utc",
           "manifest_annotations", "ref_parts", "source_annotations", "source_date"]


def detect_provider(env: Mapping[str, str]) -> str:
    # Forgejo also sets GITHUB_ACTIONS, and Woodpecker exports DRONE_* twins: test them first.
    if env.get("FORGEJO_ACTIONS", "").lower() == "true":
        return "forgejo"
    if env.get("GITHUB_ACTIONS", "").lower() == "true":
        return "github"
    if env.get("CI", "").lower() == "woodpecker":
        return "woodpecker"
    if env.get("DRONE", "").lower() == "true":
        return "drone"
    return "local"


def _now(env: Mapping[str, str]) -> datetime:
    text = env.get("ALBA_NOW", "")
    if not text:
        return utc_now()
    moment = parse_iso(text)
    if moment is None:
        raise InputError(
            f"ALBA_NOW: {text!r} is not an ISO 8601 timestamp",
            "set it like ALBA_NOW=2020-01-10T00:30:00Z, or unset it to use the current time",
        )
    return moment


def _short_sha_length(env: Mapping[str, str]) -> int:
    text = env.get("DOCKER_METADATA_SHORT_SHA_LENGTH", "").strip()
    if not text:
        return 7
    if not text.isdigit() or int(text) == 0:
        raise InputError(
            f"DOCKER_METADATA_SHORT_SHA_LENGTH: {text!r} is not a positive whole number",
            "set it to the number of sha characters wanted in sha tags (default 7)",
        )
    return int(text)


def context_from_env(env: Mapping[str, str], cwd: Path, read_git: bool = True) -> Context:
    """Describe the build from the CI's variables, or from the git repository at cwd.
    `read_git=False`: outside CI, a bare local context (for a run that uses none of it)."""
    common = {"now": _now(env), "short_sha_length": _short_sha_length(env)}
    provider = detect_provider(env)
    if provider == "local" and not read_git:
        return Context(provider="local", **common)
    if provider in ("github", "forgejo"):
        ctx = github_context(env, provider, **common)
    elif provider == "woodpecker":
        ctx = woodpecker_context(env, **common)
    elif provider == "drone":
        ctx = drone_context(env, **common)
    else:
        return local_context(Path(cwd), **common)
    if not ctx.commit_date:
        # CI variables rarely carry it; the checkout usually does. Last resort: the clock,
        # as metadata-action falls back to `new Date()`.
        date = commit_date(Path(cwd), ctx.sha)
        ctx = dataclasses.replace(ctx, commit_date=date or iso_utc(ctx.now), commit_date_is_now=not date)
    return ctx


SOURCE_KEYS = ("created", "revision", "source", "version", "licenses", "description")


def source_annotations(created: str = "", revision: str = "", source: str = "", version: str = "",
                       licenses: str = "", description: str = "") -> dict[str, str]:
    """`org.opencontainers.image.<key>` for each value given, in SOURCE_KEYS order (the order
    the --json output has always shown; manifests sort them); empty values are left out.
    Pure: the caller decides where each value comes from."""
    given = dict(zip(SOURCE_KEYS, (created, revision, source, version, licenses, description)))
    return {f"org.opencontainers.image.{k}": v.strip() for k, v in given.items() if v and v.strip()}


def image_annotations(ctx: Context, version: str = "", *, created: str = "", source: str = "", revision: str = "",
                      licenses: str = "", description: str = "") -> dict[str, str]:
    """OCI annotations from the git/CI context, where known, each replaced by the value given
    explicitly (flags, step inputs; `created` from SOURCE_DATE_EPOCH, see source_date).
    `created` is otherwise the commit time so re-runs match (never the clock: a retried
    pipeline must give the same digest); `version` is the run's main version (tag rules),
    never a tag name given with -t."""
    return source_annotations(
        created=created or ("" if ctx.commit_date_is_now else ctx.commit_date),
        revision=revision or ctx.head_sha or ctx.sha, source=source or ctx.repo_url, version=version,
        licenses=licenses, description=description)


def manifest_annotations(index: Mapping[str, str], fmt: str) -> dict[str, str]:
    """The source annotations of the index, for each platform manifest too: OCI manifests
    carry annotations (registries that show a platform read them there); Docker v2 ones cannot."""
    if fmt != "oci":
        return {}
    keys = {f"org.opencontainers.image.{k}" for k in SOURCE_KEYS}
    return {k: v for k, v in index.items() if k in keys}


def source_date(env: Mapping[str, str]) -> str:
    """SOURCE_DATE_EPOCH (reproducible-builds.org: whole seconds since 1970, UTC) as ISO 8601,
    or "" when unset."""
    text = env.get("SOURCE_DATE_EPOCH", "").strip()
    if not text:
        return ""
    if not text.isdigit():
        raise InputError(f"SOURCE_DATE_EPOCH: {text!r} is not a whole number of seconds",
                         "set it like SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it")
    try:
        return iso_utc(datetime.fromtimestamp(int(text), timezone.utc))
    except (OverflowError, OSError, ValueError):
        raise InputError(f"SOURCE_DATE_EPOCH: {text} is out of range", "give a time after 1970 and before 9999") from None
