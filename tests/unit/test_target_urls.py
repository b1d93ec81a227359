"""Target URLs (SPEC §2): s3:// query keys as Go CDK's s3blob opener reads them, file://
forms, docker:// with ports and tags, and bad URLs refused with what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from alba_action.errors import InputError
from alba_action.targets.registries.remote import parse_docker_url
from alba_action.targets.url import FileUrl, S3Url, parse_target

S3_KEYS = ("anonymous, awssdk, disableSSL, dualstack, endpoint, fips, hostname_immutable, prefix, profile, region, "
           "s3ForcePathStyle, use_path_style")


def s3(bucket="b", endpoint_url=None, region=None, prefix="", path_style=False, profile=None, anonymous=False):
    return S3Url(bucket, endpoint_url, region, prefix, path_style, profile, anonymous)


# -- s3:// ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        pytest.param("s3://b", s3(), id="bare-bucket"),
        pytest.param("s3://b/", s3(), id="trailing-slash"),
        pytest.param("s3://b?", s3(), id="empty-query"),
        pytest.param("s3://b?endpoint=localhost:9000", s3(endpoint_url="https://localhost:9000", path_style=True),
                     id="endpoint-host-port-https"),
        pytest.param("s3://b?endpoint=localhost:9000&disableSSL=true",
                     s3(endpoint_url="http://localhost:9000", path_style=True), id="endpoint-host-disableSSL"),
        pytest.param("s3://b?endpoint=h&disableSSL=1", s3(endpoint_url="http://h", path_style=True),
                     id="disableSSL-1"),
        pytest.param("s3://b?endpoint=h&disableSSL=false", s3(endpoint_url="https://h", path_style=True),
                     id="disableSSL-false"),
        pytest.param("s3://b?endpoint=http://h:3900&disableSSL=false", s3(endpoint_url="http://h:3900", path_style=True),
                     id="endpoint-uri-keeps-scheme"),
        pytest.param("s3://b?endpoint=https://h&disableSSL=true", s3(endpoint_url="https://h", path_style=True),
                     id="endpoint-uri-beats-disableSSL"),
        pytest.param("s3://b?endpoint=http%3A%2F%2Fh%3A3900", s3(endpoint_url="http://h:3900", path_style=True),
                     id="endpoint-percent-encoded"),
        pytest.param("s3://b?region=garage&s3ForcePathStyle=true", s3(region="garage", path_style=True),
                     id="region-path-style"),
        pytest.param("s3://b?use_path_style=1", s3(path_style=True), id="v2-use_path_style"),
        pytest.param("s3://b?s3ForcePathStyle=false", s3(), id="path-style-false-no-endpoint"),
        pytest.param("s3://b?endpoint=h&s3ForcePathStyle=false", s3(endpoint_url="https://h", path_style=True),
                     id="endpoint-forces-path-style"),
        pytest.param("s3://b?awssdk=v1", s3(), id="awssdk-v1-ignored"),
        pytest.param("s3://b?awssdk=v2&endpoint=h", s3(endpoint_url="https://h", path_style=True),
                     id="awssdk-v2-ignored"),
        pytest.param("s3://b?awssdk=anything", s3(), id="awssdk-value-unchecked"),
        pytest.param("s3://b?prefix=/a/b", s3(prefix="a/b/"), id="prefix-leading-slash-dropped"),
        pytest.param("s3://b?prefix=a/", s3(prefix="a/"), id="prefix-trailing-slash-kept"),
        pytest.param("s3://b?prefix=rel", s3(prefix="rel/"), id="prefix-slash-added"),
        pytest.param("s3://b?prefix=", s3(), id="prefix-empty"),
        pytest.param("s3://b?prefix=a%2Fb", s3(prefix="a/b/"), id="prefix-percent-decoded"),
        pytest.param("s3://b?prefix=a+b", s3(prefix="a b/"), id="prefix-plus-is-space"),
        pytest.param("s3://b?profile=p&anonymous=yes", s3(profile="p", anonymous=True), id="profile-anonymous"),
        pytest.param("s3://b?anonymous=", s3(), id="anonymous-empty-false"),
        pytest.param("s3://b?endpoint=", s3(), id="endpoint-empty-none"),
        pytest.param("s3://b?region=", s3(), id="region-empty-none"),
        pytest.param("s3://b?endpoint=h&endpoint=k", s3(endpoint_url="https://k", path_style=True),
                     id="repeated-key-last-wins"),
        pytest.param("s3://b?fips=true&dualstack=x&hostname_immutable=1", s3(), id="go-cdk-keys-accepted"),
        pytest.param("s3://my-bucket.example?endpoint=garage.local:3900&region=garage",
                     s3(bucket="my-bucket.example", endpoint_url="https://garage.local:3900", region="garage",
                        path_style=True), id="dotted-bucket-garage"),
    ],
)
def test_s3_url(url: str, expected: S3Url) -> None:
    assert parse_target(url) == expected


@pytest.mark.parametrize(
    "url, display",
    [
        pytest.param("s3://b", "s3://b/", id="plain"),
        pytest.param("s3://b?prefix=p&endpoint=h:1", "s3://b/p/ at https://h:1", id="prefix-endpoint"),
    ],
)
def test_s3_display(url: str, display: str) -> None:
    assert parse_target(url).display == display


@pytest.mark.parametrize(
    "url, message, fix",
    [
        pytest.param("s3://b/x", "target 's3://b/x' has no bucket name or has a path after it",
                     "write s3://BUCKET?endpoint=HOST; put a key prefix in ?prefix=P", id="path-after-bucket"),
        pytest.param("s3://", "target 's3://' has no bucket name or has a path after it",
                     "write s3://BUCKET?endpoint=HOST; put a key prefix in ?prefix=P", id="no-bucket"),
        pytest.param("s3://?endpoint=h", "target 's3://?endpoint=h' has no bucket name or has a path after it",
                     "write s3://BUCKET?endpoint=HOST; put a key prefix in ?prefix=P", id="query-no-bucket"),
        pytest.param("s3://b?x=1", "target 's3://b?x=1': unknown query key 'x'", f"use only {S3_KEYS}",
                     id="unknown-key"),
        pytest.param("s3://b?endpoit=h", "target 's3://b?endpoit=h': unknown query key 'endpoit' "
                     "(did you mean 'endpoint'?)", f"use only {S3_KEYS}", id="typo-suggested"),
        pytest.param("s3://b?Region=x", "target 's3://b?Region=x': unknown query key 'Region' (did you mean 'region'?)",
                     f"use only {S3_KEYS}", id="keys-case-sensitive"),
        pytest.param("s3://b?disableSSL=maybe", "target 's3://b?disableSSL=maybe': disableSSL='maybe' is not a boolean",
                     "write disableSSL=true or disableSSL=false", id="disableSSL-not-bool"),
        pytest.param("s3://b?s3ForcePathStyle=yess",
                     "target 's3://b?s3ForcePathStyle=yess': s3ForcePathStyle='yess' is not a boolean",
                     "write s3ForcePathStyle=true or s3ForcePathStyle=false", id="path-style-not-bool"),
        pytest.param("s3://b?anonymous=2", "target 's3://b?anonymous=2': anonymous='2' is not a boolean",
                     "write anonymous=true or anonymous=false", id="anonymous-not-bool"),
        pytest.param("s3://b?endpoint=:9000", "target 's3://b?endpoint=:9000': endpoint 'https://:9000' has no host",
                     "write endpoint=HOST[:PORT] or a full URL", id="endpoint-no-host"),
        pytest.param("s3://b?endpoint=http://", "target 's3://b?endpoint=http://': endpoint 'http://' has no host",
                     "write endpoint=HOST[:PORT] or a full URL", id="endpoint-scheme-only"),
    ],
)
def test_s3_url_refused(url: str, message: str, fix: str) -> None:
    with pytest.raises(InputError) as err:
        parse_target(url)
    assert err.value.message == message
    assert err.value.fix == fix


@pytest.mark.parametrize("url", ["S3://b", "http://x", "b", "", "gs://b", "docker://h/app", "/abs/dir"], ids=repr)
def test_unknown_scheme(url: str) -> None:
    with pytest.raises(InputError) as err:
        parse_target(url)
    assert err.value.message == f"target {url!r} is not a URL alba knows"
    assert err.value.fix == "use s3://BUCKET?endpoint=HOST, file:///abs/dir, file://./rel/dir or docker://HOST/REPO"


# -- file:// ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, relative",
    [
        pytest.param("file://./rel", "rel", id="dot-slash"),
        pytest.param("file://./a/b/", "a/b", id="dot-slash-nested"),
        pytest.param("file://.", "", id="dot"),
        pytest.param("file://../up", "../up", id="dot-dot-slash"),
        pytest.param("file://..", "..", id="dot-dot"),
    ],
)
def test_file_url_relative_to_cwd(url: str, relative: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    target = parse_target(url)
    assert target == FileUrl((tmp_path / relative).resolve())
    assert target.display == f"file://{(tmp_path / relative).resolve()}"


@pytest.mark.parametrize(
    "url, root",
    [
        pytest.param("file:///abs/dir", "/abs/dir", id="absolute"),
        pytest.param("file:///abs/dir/", "/abs/dir", id="trailing-slash"),
        pytest.param("file:////double", "/double", id="extra-slash"),
        pytest.param("file:///abs/./x/../y", "/abs/y", id="normalised"),
    ],
)
def test_file_url_absolute(url: str, root: str) -> None:
    assert parse_target(url) == FileUrl(Path(root))


@pytest.mark.parametrize(
    "url, message, fix",
    [
        pytest.param("file://", "target 'file://' names no folder", "write file:///abs/dir or file://./rel/dir",
                     id="empty"),
        pytest.param("file://host/x", "target 'file://host/x': 'host' would be read as a host name",
                     "write file:///host/x for an absolute path or file://./host/x for a relative one", id="host-form"),
        pytest.param("file://rel", "target 'file://rel': 'rel' would be read as a host name",
                     "write file:///rel for an absolute path or file://./rel for a relative one", id="bare-relative"),
        pytest.param("file:///a?x=1", "target 'file:///a?x=1': file:// targets take no query", "remove what follows '?'",
                     id="query"),
        pytest.param("file:///a#f", "target 'file:///a#f': file:// targets take no query", "remove what follows '?'",
                     id="fragment"),
    ],
)
def test_file_url_refused(url: str, message: str, fix: str) -> None:
    with pytest.raises(InputError) as err:
        parse_target(url)
    assert err.value.message == message
    assert err.value.fix == fix


# -- docker:// --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, expected",
    [
        pytest.param("docker://ghcr.io/owner/app", ("ghcr.io", None, "owner/app", None, False), id="ghcr"),
        pytest.param("docker://ghcr.io/owner/app:1.0", ("ghcr.io", None, "owner/app", "1.0", False), id="ghcr-tag"),
        pytest.param("docker://localhost:5000/app", ("localhost", 5000, "app", None, False), id="port"),
        pytest.param("docker://localhost:5000/app:v1", ("localhost", 5000, "app", "v1", False), id="port-and-tag"),
        pytest.param("docker://127.0.0.1:5000/a/b/c:t", ("127.0.0.1", 5000, "a/b/c", "t", False), id="ip-deep-repo"),
        pytest.param("docker://[::1]:5000/app", ("::1", 5000, "app", None, False), id="ipv6-port"),
        pytest.param("docker://[::1]/app", ("::1", None, "app", None, False), id="ipv6"),
        pytest.param("docker://GHCR.IO/app", ("ghcr.io", None, "app", None, False), id="host-lower-cased"),
        pytest.param("docker://my.reg.example:443/team/app:1", ("my.reg.example", 443, "team/app", "1", False),
                     id="port-443"),
        pytest.param("docker://docker.io/nginx", ("registry-1.docker.io", None, "library/nginx", None, False),
                     id="docker-hub-library"),
        pytest.param("docker://index.docker.io/library/nginx:1",
                     ("registry-1.docker.io", None, "library/nginx", "1", False), id="docker-hub-index"),
        pytest.param("docker://docker.io/me/app", ("registry-1.docker.io", None, "me/app", None, False),
                     id="docker-hub-user"),
        pytest.param("docker://h/app?insecure=true", ("h", None, "app", None, True), id="insecure"),
        pytest.param("docker://h/app?insecure=1", ("h", None, "app", None, True), id="insecure-1"),
        pytest.param("docker://h/app?insecure=false", ("h", None, "app", None, False), id="insecure-false"),
        pytest.param("docker://h/app:", ("h", None, "app", None, False), id="empty-tag-is-none"),
        pytest.param("docker://h/app:Latest_1.0-x", ("h", None, "app", "Latest_1.0-x", False), id="tag-mixed-case"),
    ],
)
def test_docker_url(url: str, expected) -> None:
    assert parse_docker_url(url) == expected


FORM = "write it as docker://HOST[:PORT]/REPO[:TAG][?insecure=true]"


@pytest.mark.parametrize(
    "url, problem",
    [
        pytest.param("s3://h/app", "not a docker:// URL", id="other-scheme"),
        pytest.param("docker://h/app?insecure=maybe", "insecure='maybe' is not true or false", id="insecure-not-bool"),
        pytest.param("docker://h/app?insecure=", "insecure='' is not true or false", id="insecure-empty"),
        pytest.param("docker://h/app?foo=1", "unknown option 'foo' (only 'insecure' is known)", id="unknown-option"),
        pytest.param("docker://h/App", "'App' is not a repository name (lowercase a-z, 0-9, . _ - and /)",
                     id="upper-repo"),
        pytest.param("docker://h/", "'' is not a repository name", id="no-repo"),
        pytest.param("docker://h", "'' is not a repository name", id="host-only"),
        pytest.param("docker://h/app:1.0:x", "tag '1.0:x': not a valid tag", id="two-colons"),
        pytest.param("docker://h/app:.x", "tag '.x': not a valid tag", id="bad-tag"),
        pytest.param("docker://h/app@sha256:" + "a" * 64, "digest references are not a push target; name a tag",
                     id="digest"),
        pytest.param("docker://h:abc/app", "the port is not a number", id="port-letters"),
        pytest.param("docker://h:99999/app", "the port is not a number", id="port-out-of-range"),
        pytest.param("docker://h:/app", "no valid registry host", id="empty-port"),
        pytest.param("docker://-h/app", "no valid registry host", id="leading-dash-host"),
        pytest.param("docker://h_x/app", "no valid registry host", id="underscore-host"),
        pytest.param("docker:///app", "no valid registry host", id="no-host"),
    ],
)
def test_docker_url_refused(url: str, problem: str) -> None:
    with pytest.raises(InputError) as err:
        parse_docker_url(url)
    assert err.value.message.startswith(f"registry URL {url}: ")
    assert problem in err.value.message
    assert err.value.fix == FORM


@pytest.mark.parametrize("url", ["docker://u:p@h/app", "docker://token@h/app:1"])
def test_docker_url_credentials_refused_and_not_echoed(url: str) -> None:
    with pytest.raises(InputError) as err:
        parse_docker_url(url)
    assert err.value.message.endswith(": credentials in the URL are not accepted")
    assert "@" not in str(err.value) and ":p" not in err.value.message and "token" not in err.value.message
    assert "docker login" in err.value.fix


@pytest.mark.parametrize("url", ["s3://AKIAEXAMPLE:s3cr3t@bucket", "s3://user@bucket?endpoint=h:9000"])
def test_s3_credentials_in_the_url_are_refused_without_showing_them(url):
    with pytest.raises(InputError) as raised:
        parse_target(url)
    text = raised.value.message + raised.value.fix
    assert "credentials in the URL are not accepted" in text and "AWS_ACCESS_KEY_ID" in text
    assert "s3cr3t" not in text and "AKIAEXAMPLE" not in text and "user" not in raised.value.message
