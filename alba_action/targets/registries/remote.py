"""OCI registries (`docker://HOST[:PORT]/REPO[:TAG]`) as an ImageRepository.

Built on oras-py 0.2.x (`oras.provider.Registry`, subclassed in registry_http.py).
What we found checking its traps ourselves, and what we do instead:
- `upload_manifest()` validates against the image-manifest schema (an index fails) and
  sends `json=manifest`, so requests re-serialises it and the digest changes; it also
  always sends the OCI manifest Content-Type. We PUT the exact bytes with their type.
- `put_upload()` sends `fd.read()`: the whole layer in memory. `chunked_upload()` keeps
  one chunk in memory but retries single PATCHes, which cannot resume an upload
  session. We stream from the file (a reader with a length, so requests sends
  Content-Length, no chunked encoding) and restart the whole session on failure.
- `do_request` is wrapped in `decorator.retry()`: it retries any exception, sleeping
  3, 5, 11, 29 and 83 s (measured against a closed port: 131 s before the error), and
  turns a 500 into ValueError. It re-sends without auth first and, with a token cached,
  writes the token into the shared `self.headers`. Our `do_request` override replaces it.
- The `basic` backend never sends credentials up front: each request goes out twice
  (3 HEADs = 6 requests, measured), the first always a 401;
  the `token` backend keeps a single token for all scopes (a mount needs two repos) and
  `find_docker_config()` ignores $DOCKER_CONFIG. Auth is ours (registry_auth).
- `get_tags()` raises ValueError on a repository that has no tags yet (404).
- `Container()` takes the first path component for a registry when it has a dot
  (`ghcr.io/my.org/app`), so we build URLs from the parsed parts ourselves.
Kept from oras-py: its Registry (cookie policy, scheme, `_get_location` for relative
Location headers), `get_blob(head=True)` (run through our transport), `Container` URL
building, `parse_auth_header` and `append_url_params`.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qsl, urlsplit

import oras.container
import requests
import urllib3.exceptions
from oras.utils import append_url_params

from alba_action.digest import sha256_bytes
from alba_action.errors import InputError, TargetError
from alba_action.grammar import NAME_RE, TAG_RE, TAG_RULE, parse_bool
from alba_action.oci import MANIFEST_TYPES
from alba_action.targets.base import BlobPut, ProgressCallback
from alba_action.targets.registries import dockerhub
from alba_action.targets.registries.auth import Authenticator, Credentials, load_docker_credentials
from alba_action.request import RunOptions
from alba_action.targets.registries.http import RegistryClient
from alba_action.targets.registries.mounts import MountSources
from alba_action.targets.retry import RetryBudget, Timeouts, retrying
from alba_action.targets.registries.upload import upload_blob
from alba_action.targets.streams import Stream, read1_chunks

# What reading a body may raise when the answer is cut: the read is retried as a whole.
READ_ERRORS = (OSError, urllib3.exceptions.HTTPError, requests.RequestException)

_HOST = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9a-fA-F:]+\]")
URL_FORM = "docker://HOST[:PORT]/REPO[:TAG][?insecure=true]"


def _bad_url(url: str, problem: str) -> InputError:
    return InputError(f"registry URL {url}: {problem}", f"write it as {URL_FORM}")


def _redact(url: str) -> str:
    """The URL without any user:password@ part, for messages."""
    return re.sub(r"//[^/@]*@", "//", url)


def parse_docker_url(url: str) -> tuple[str, int | None, str, str | None, bool]:
    """`docker://HOST[:PORT]/REPO[:TAG][?insecure=true]` → (host, port, repo, tag, insecure)."""
    shown = _redact(url)
    parts = urlsplit(url)
    if parts.scheme != "docker":
        raise _bad_url(shown, "not a docker:// URL")
    if "@" in parts.netloc:
        raise InputError(f"registry URL {shown}: credentials in the URL are not accepted",
                         "set ALBA_REGISTRY_USERNAME / ALBA_REGISTRY_PASSWORD or run `docker login`")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise _bad_url(shown, "the port is not a number") from None
    if not host or not _HOST.fullmatch(parts.netloc.rsplit(":", 1)[0] if port else parts.netloc):
        raise _bad_url(shown, "no valid registry host")
    repo, tag = _repo_and_tag(shown, parts.path.lstrip("/"))
    host, repo = dockerhub.api_address(host, repo)
    return host, port, repo, tag, _insecure(shown, parts.query)


def _repo_and_tag(shown: str, path: str) -> tuple[str, str | None]:
    if "@" in path:
        raise _bad_url(shown, "digest references are not a push target; name a tag")
    repo, _, tag = path.partition(":")
    if not NAME_RE.fullmatch(repo):
        raise _bad_url(shown, f"{repo!r} is not a repository name (lowercase a-z, 0-9, . _ - and /)")
    if tag and not TAG_RE.fullmatch(tag):
        raise _bad_url(shown, f"tag {tag!r}: not a valid tag; use {TAG_RULE}")
    return repo, tag or None


def _insecure(shown: str, query: str) -> bool:
    insecure = False
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "insecure":
            raise _bad_url(shown, f"unknown option {key!r} (only 'insecure' is known)")
        try:
            insecure = parse_bool(value)
        except ValueError:
            raise _bad_url(shown, f"insecure={value!r} is not true or false") from None
    return insecure


class OciRegistry:
    """One repository in an OCI registry. Thread-safe: put_blob may run in a pool."""

    def __init__(self, host: str, repo: str, *, port: int | None = None, insecure: bool = False,
                 username: str | None = None, password: str | None = None,
                 docker_config: Path | None = None, chunked: bool = False, chunk_threshold: int = 256 << 20,
                 chunk_size: int = 64 << 20, tag: str | None = None,
                 mounts: MountSources | None = None, options: RunOptions = RunOptions()) -> None:
        """`options`: the run's retry budget, timeouts and requests in flight."""
        self.host = f"{host}:{port}" if port else host
        self.name = repo
        self.tag = tag
        self.url = f"docker://{self.host}/{repo}"
        self.chunked, self.chunk_threshold, self.chunk_size = chunked, chunk_threshold, chunk_size
        if bool(username) != bool(password):
            raise InputError("registry credentials need both a username and a password",
                             "set both ALBA_REGISTRY_USERNAME and ALBA_REGISTRY_PASSWORD, or neither")
        creds = (Credentials(username, password) if username
                 else load_docker_credentials(self.host, docker_config))
        auth = Authenticator(self.host, creds, fetch=None)
        self.mounts = mounts if mounts is not None else MountSources()
        self.client = RegistryClient(self.host, insecure, auth, RetryBudget.for_run(options),
                                     Timeouts.for_run(options))
        # oras-py's Container, with fields set here: its parser misreads dotted namespaces.
        self.container = oras.container.Container("x", registry=self.host)
        self.container.namespace, _, self.container.repository = repo.rpartition("/")

    @classmethod
    def from_url(cls, url: str, **options) -> "OciRegistry":
        host, port, repo, tag, insecure = parse_docker_url(url)
        insecure = options.pop("insecure", False) or insecure
        return cls(host, repo, port=port, insecure=insecure, tag=tag, **options)

    def __repr__(self) -> str:
        return f"OciRegistry({self.url!r})"

    def v2_url(self, tail: str) -> str:
        return f"{self.client.base()}/v2/{self.name}/{tail}"

    def location(self, response) -> str:
        return self.client.location(response, self.container)

    def error(self, response, what: str,
              fix: str = "check the repository name and your access rights") -> TargetError:
        return TargetError(self.client.describe(response, what), fix)

    def check(self) -> None:
        """Ping /v2/ (and prove the credentials) before any upload."""
        response = self.client.send("GET", f"{self.client.base()}/v2/", scopes=())
        if response.status_code != 200:
            raise self.error(response, "GET /v2/",
                             f"check that {self.host} is an OCI registry (the /v2/ API)")

    def blob_exists(self, digest: str) -> bool:
        response = self.client.get_blob(self.container, digest, head=True)
        if response.status_code not in (200, 404):
            raise self.error(response, f"HEAD blob {digest}")
        if response.status_code == 200:
            self._remember(digest)
        return response.status_code == 200

    def _remember(self, digest: str) -> None:
        self.mounts.remember(self.host, digest, self.name)

    def put_blob(self, digest: str, size: int, media_type: str, path: Path | None,
                 data: bytes | None, progress: ProgressCallback | None = None) -> BlobPut:
        """Upload (or mount) a blob; returns "mounted" or "pushed"."""
        source = self.mounts.source(self.host, digest)
        if source and source != self.name and self.mount_blob(digest, source):
            self._remember(digest)
            return "mounted"
        chunked = self.chunked or size > self.chunk_threshold

        def once() -> BlobPut:
            upload_blob(self, digest, size, path, data, progress, self.chunk_size if chunked else None)
            return "pushed"

        # A lost session: wait, then start over unless the blob made it. Its requests take
        # their own slots.
        result = retrying(self.client.budget, once, slot=False,
                          again=lambda: "pushed" if self.blob_exists(digest) else None)
        self._remember(digest)
        return result

    def mount_blob(self, digest: str, from_repo: str) -> bool:
        """Link a blob from another repository of this registry; False when it cannot."""
        scopes = (f"repository:{self.name}:pull,push", f"repository:{from_repo}:pull")
        url = append_url_params(self.v2_url("blobs/uploads/"), {"mount": digest, "from": from_repo})
        response = self.client.send("POST", url, scopes=scopes, headers={"Content-Length": "0"})
        if response.status_code == 201:
            return True
        if response.status_code == 202 and (location := self.location(response)):
            # The registry opened an upload instead; drop it, put_blob will open its own.
            self.client.send("DELETE", location, scopes=scopes)
            return False
        if response.status_code in (401, 403, 404):
            return False
        raise self.error(response, f"mount of blob {digest} from {from_repo}")

    @property
    def reference(self) -> str:
        """The repository as `docker pull` names it (what a signature identifies)."""
        return f"{dockerhub.signature_host(self.host)}/{self.name}"

    def reference_for(self, public_host: str) -> str:
        """What a signature names: the registry's own host and repository, wherever it is served."""
        return self.reference

    def get_blob(self, digest: str) -> bytes | None:
        response = self.client.send("GET", self.v2_url(f"blobs/{digest}"))
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.error(response, f"GET blob {digest}")
        return response.content

    @contextlib.contextmanager
    def open_read(self, tail: str, accept: str = "") -> Iterator[Stream | None]:
        """GET v2/NAME/TAIL as a stream (verify hashes it as it arrives), None when missing.
        One attempt: the caller retries the whole read. The bytes as sent: nothing inflated."""
        headers = {"Accept-Encoding": "identity", **({"Accept": accept} if accept else {})}
        response = self.client.send("GET", self.v2_url(tail), headers=headers, stream=True, retry=False)
        where = f"GET {self.host}/v2/{self.name}/{tail}"
        try:
            if response.status_code == 404:
                yield None
                return
            if response.status_code != 200:
                raise self.error(response, where)
            length = response.headers.get("Content-Length", "")
            yield Stream(read1_chunks(lambda n: response.raw.read1(n, decode_content=False), where, READ_ERRORS),
                         int(length) if length.isdigit() else None, response.headers.get("Content-Encoding", ""),
                         where)
        finally:
            response.close()

    def _manifest_request(self, method: str, ref: str):
        """GET or HEAD a manifest: the response, or None when the registry has no such ref."""
        response = self.client.send(method, self.v2_url(f"manifests/{ref}"),
                                    headers={"Accept": ", ".join(MANIFEST_TYPES)})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.error(response, f"{method} manifest {self.name}:{ref}")
        return response

    def get_manifest(self, ref: str) -> tuple[bytes, str] | None:
        response = self._manifest_request("GET", ref)
        if response is None:
            return None
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return response.content, media_type

    def manifest_digest(self, ref: str) -> str | None:
        response = self._manifest_request("HEAD", ref)
        if response is None:
            return None
        if digest := response.headers.get("Docker-Content-Digest"):
            return digest
        found = self.get_manifest(ref)  # some registries omit the header on HEAD
        return sha256_bytes(found[0]) if found else None

    def put_manifest(self, ref: str, data: bytes, media_type: str) -> None:
        """PUT the exact bytes: the digest covers them, so no re-serialising."""
        response = self.client.send("PUT", self.v2_url(f"manifests/{ref}"), body=data,
                                    headers={"Content-Type": media_type})
        if response.status_code not in (200, 201):
            raise self.error(response, f"PUT manifest {self.name}:{ref}",
                             "check that the registry accepts this manifest type (try --format docker)")
        digest = sha256_bytes(data)
        stored = response.headers.get("Docker-Content-Digest")
        if stored and stored != digest:
            raise TargetError(f"registry {self.host} stored manifest {self.name}:{ref} as {stored}, "
                              f"not {digest}", "the registry rewrote the manifest; use another registry")

    def list_tags(self) -> list[str]:
        tags: list[str] = []
        url = self.v2_url("tags/list")
        while url:
            response = self.client.send("GET", url)
            if response.status_code == 404:
                return tags  # a repository with no tags yet
            if response.status_code != 200:
                raise self.error(response, f"GET tags of {self.name}")
            tags += response.json().get("tags") or []
            link = response.links.get("next", {}).get("url")
            url = f"{self.client.base()}{link}" if link and link.startswith("/") else link
        return tags

    def finish(self, tags: list[str]) -> None:
        """Nothing to do: a registry serves its tag list itself."""

    def delete_manifest(self, digest: str) -> bool:
        """DELETE a manifest by digest (every tag naming it goes too); False when it was not
        there. A registry that refuses deletes raises DeleteRefused, naming the setting."""
        scopes = (f"repository:{self.name}:pull,push,delete",)
        response = self.client.send("DELETE", self.v2_url(f"manifests/{digest}"), scopes=scopes)
        if response.status_code in (200, 202):
            return True
        if response.status_code == 404:
            return False
        if response.status_code == 405:
            raise DeleteRefused(self.client.describe(response, f"DELETE manifest {self.name}@{digest}"),
                                "enable deletes on the registry (distribution: `storage: delete: enabled: true` "
                                "in config.yml, or REGISTRY_STORAGE_DELETE_ENABLED=true), then run gc again")
        if response.status_code in (401, 403):
            raise DeleteRefused(self.client.describe(response, f"DELETE manifest {self.name}@{digest}"),
                                "use credentials that may delete in this repository")
        raise self.error(response, f"DELETE manifest {self.name}@{digest}")

    def check_deletes(self) -> None:
        """Whether this registry deletes at all, asked with a digest nothing has: distribution
        answers 405 when deletes are off and 404 when they are on; nothing is lost either way."""
        self.delete_manifest(sha256_bytes(b"alba gc: may this registry delete manifests?"))


class DeleteRefused(TargetError):
    """The registry does not delete manifests (deletes turned off, or no right to)."""
