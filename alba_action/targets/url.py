"""Target URLs: `s3://…`, `file://…`, `docker://…` parsed into plain settings (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from alba_action.errors import InputError
from alba_action.grammar import parse_bool
from alba_action.platforms import suggest

# Query keys of Go CDK's s3blob opener (v1 and v2 spellings) plus the generic `prefix`.
S3_KEYS = {
    "endpoint", "region", "s3ForcePathStyle", "use_path_style", "disableSSL", "prefix",
    "awssdk", "profile", "anonymous", "fips", "dualstack", "hostname_immutable",
}


@dataclass(frozen=True)
class S3Url:
    bucket: str
    endpoint_url: str | None
    region: str | None
    prefix: str
    path_style: bool
    profile: str | None
    anonymous: bool

    @property
    def display(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"


@dataclass(frozen=True)
class FileUrl:
    root: Path

    @property
    def display(self) -> str:
        return f"file://{self.root}"


def parse_target(url: str) -> S3Url | FileUrl:
    """A store target. docker:// is parsed by the registry target."""
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme == "s3":
        return _parse_s3(url)
    if scheme == "file":
        return _parse_file(url)
    raise InputError(
        f"target {url!r} is not a URL alba knows",
        "use s3://BUCKET?endpoint=HOST, file:///abs/dir, file://./rel/dir or docker://HOST/REPO",
    )


def _flag(url: str, key: str, value: str) -> bool:
    if value == "":
        return False
    try:
        return parse_bool(value)
    except ValueError:
        pass
    raise InputError(f"target {url!r}: {key}={value!r} is not a boolean", f"write {key}=true or {key}=false")


def _parse_s3(url: str) -> S3Url:
    parts = urlsplit(url)
    bucket = parts.netloc
    if "@" in bucket:  # the URL is printed: a key in it would be shown everywhere
        raise InputError("target s3://…@…: credentials in the URL are not accepted (the URL is not shown, "
                         "it holds them)", "remove them from the URL; set AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) instead")
    if not bucket or parts.path not in ("", "/"):
        raise InputError(
            f"target {url!r} has no bucket name or has a path after it",
            "write s3://BUCKET?endpoint=HOST; put a key prefix in ?prefix=P",
        )
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    for key in query:
        if key not in S3_KEYS:
            raise InputError(
                f"target {url!r}: unknown query key {key!r}{suggest(key, S3_KEYS)}",
                f"use only {', '.join(sorted(S3_KEYS))}",
            )
    endpoint = query.get("endpoint") or None
    ssl = not _flag(url, "disableSSL", query.get("disableSSL", "false"))
    if endpoint and "://" not in endpoint:
        endpoint = ("https://" if ssl else "http://") + endpoint
    if endpoint and not urlsplit(endpoint).hostname:
        raise InputError(f"target {url!r}: endpoint {endpoint!r} has no host", "write endpoint=HOST[:PORT] or a full URL")
    path_style = _flag(url, "s3ForcePathStyle", query.get("s3ForcePathStyle", "false")) or _flag(
        url, "use_path_style", query.get("use_path_style", "false")
    )
    prefix = query.get("prefix", "").lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Url(
        bucket=bucket,
        endpoint_url=endpoint,
        region=query.get("region") or None,
        prefix=prefix,
        # S3-compatible stores behind an endpoint want path-style addressing.
        path_style=path_style or endpoint is not None,
        profile=query.get("profile") or None,
        anonymous=_flag(url, "anonymous", query.get("anonymous", "false")),
    )


def _parse_file(url: str) -> FileUrl:
    rest = url[len("file://"):]
    if "?" in rest or "#" in rest:
        raise InputError(f"target {url!r}: file:// targets take no query", "remove what follows '?'")
    if not rest:
        raise InputError(f"target {url!r} names no folder", "write file:///abs/dir or file://./rel/dir")
    if not (rest.startswith("/") or rest.startswith("./") or rest.startswith("../") or rest in (".", "..")):
        raise InputError(
            f"target {url!r}: {rest.split('/')[0]!r} would be read as a host name",
            f"write file:///{rest} for an absolute path or file://./{rest} for a relative one",
        )
    return FileUrl(root=Path(rest).resolve())


def all_registries(targets: tuple[str, ...] | list[str]) -> bool:
    """Every target is an OCI registry: the repository and tags may come from the URLs alone."""
    return bool(targets) and all(t.startswith("docker://") for t in targets)
