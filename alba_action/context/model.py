"""Where we run: one frozen description, whichever CI (or none) filled it in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

PROVIDERS = ("github", "forgejo", "woodpecker", "drone", "local")

# The ref shapes metadata-action understands; other CIs are mapped onto them.
HEADS = "refs/heads/"
TAGS = "refs/tags/"
PULL = "refs/pull/"
_PULL_REF = re.compile(r"^refs/pull/(\d+)/(?:merge|head)$")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Context:
    """Facts about the build, in docker/metadata-action's vocabulary.

    `event` is one of metadata-action's event names (push, pull_request,
    pull_request_target, schedule, workflow_dispatch, release, deployment, …);
    `ref` is `refs/heads/B`, `refs/tags/T`, `refs/pull/N/merge|head` or "".
    `branch` is the branch the commit is on (for pull requests: the source
    branch), `base_ref` the branch a pull request targets or a tag was pushed
    from. Empty strings mean "not known here".
    """

    provider: str
    event: str = ""
    ref: str = ""
    sha: str = ""
    head_sha: str = ""
    branch: str = ""
    tag: str = ""
    pr_number: int | None = None
    base_ref: str = ""
    head_ref: str = ""
    default_branch: str = ""
    repository: str = ""  # owner/name
    server_url: str = ""  # https://github.com
    repo_url: str = ""  # https URL of the repository: org.opencontainers.image.source
    commit_date: str = ""  # ISO 8601 UTC: org.opencontainers.image.created
    commit_date_is_now: bool = False  # no commit time was found: the clock stood in
    run_url: str = ""
    workflow: str = ""  # workflow or pipeline name
    run_id: str = ""
    run_attempt: str = ""
    run_started: str = ""  # ISO 8601 UTC when the CI gives it, else ""
    now: datetime = field(default_factory=utc_now)
    short_sha_length: int = 7  # DOCKER_METADATA_SHORT_SHA_LENGTH

    @property
    def is_branch(self) -> bool:
        return self.ref.startswith(HEADS)

    @property
    def is_tag(self) -> bool:
        return self.ref.startswith(TAGS)

    @property
    def is_pull_request(self) -> bool:
        return self.ref.startswith(PULL)

    def to_json(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["now"] = iso_utc(self.now)
        return out


def ref_parts(ref: str) -> dict:
    """branch / tag / pr_number implied by a ref, for CIs that give only the ref."""
    if ref.startswith(HEADS):
        return {"branch": ref[len(HEADS):]}
    if ref.startswith(TAGS):
        return {"tag": ref[len(TAGS):]}
    match = _PULL_REF.match(ref)
    if match:
        return {"pr_number": int(match.group(1))}
    return {}


def iso_utc(moment: datetime) -> str:
    """`2020-01-10T00:30:00Z`: the form OCI annotations and our outputs use."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    text = moment.isoformat(timespec="milliseconds" if moment.microsecond else "seconds")
    return text.replace("+00:00", "Z")


def parse_iso(text: str) -> datetime | None:
    """An ISO 8601 timestamp (with `Z` or an offset) as an aware datetime, or None."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


def iso_or_empty(text: str | None) -> str:
    moment = parse_iso(text) if text else None
    return iso_utc(moment) if moment else ""
