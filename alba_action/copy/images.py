"""Read an image source whole before anything is written: every manifest reached from the
tags and every attachment, each checked against its digest; every blob some target lacks,
streamed through a temporary file while hashed.

Pulls are spared where a registry counts them (Docker Hub counts manifest GETs, not HEADs):
a tag is resolved with a HEAD, a manifest a target already holds is read from that target
(its bytes still checked against the digest), and a blob every target holds is not read."""

from __future__ import annotations

import hashlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from alba_action.copy.graph import Descriptor, Graph, Node, children, cosign_tags, fallback_tag, media_type_of, \
    referrer_descriptors
from alba_action.digest import sha256_bytes
from alba_action.errors import InputError, TargetError
from alba_action.images.attachments import is_attachment
from alba_action.oci import OCI_INDEX
from alba_action.report.progress import Reporter, human_size

PARALLEL_BLOBS = 8
CHUNK = 1 << 20


def damaged(what: str, source: str) -> TargetError:
    return TargetError(f"{what} on the source {source}", "the source is damaged or was changed since it was "
                       "published: nothing was copied; publish it again, or copy from another source")


def mountable(source, target) -> bool:
    """A registry links a blob from another repository of its own: no bytes travel."""
    return hasattr(target, "mount_blob") and getattr(target, "host", None) == getattr(source, "host", "") \
        and target.name != source.name


def source_tags(source, tags: list[str]) -> list[str]:
    """The tags asked for, or every release tag of the source (a mirror), sorted."""
    if tags:
        return tags
    found = sorted(t for t in source.list_tags() if not is_attachment(t))
    if not found:
        raise InputError(f"no tags in {source.url}", "check the source URL and name; a mirror copies every tag")
    return found


@dataclass
class SourceReader:
    """The source repository, and the targets whose copies spare a pull."""

    source: object
    targets: list
    reporter: Reporter
    staging: Path
    referrers: bool = True
    fetch: bool = True  # False for a dry run: blobs are asked about, not read
    graph: Graph = field(default_factory=Graph)
    staged: dict[str, Path] = field(default_factory=dict)  # blob digest → checked temporary file
    missing: dict[int, set[str]] = field(default_factory=dict)  # target index → blobs it lacks

    def read(self, tags: list[str]) -> Graph:
        for tag in tags:
            digest = self.source.manifest_digest(tag)
            if digest is None:
                raise InputError(f"tag {tag} is not in {self.source.url}",
                                 f"check the tag (alba container ls -t {self.source.name} SOURCE, or the registry's "
                                 "tag list); nothing was copied")
            self.graph.releases[tag] = digest
            if digest not in self.graph.manifests:
                self.walk(digest, Descriptor(digest, -1), f"{self.source.name}:{tag}")
        if self.referrers:
            self._attachments(list(self.graph.manifests))
        self._blobs()
        return self.graph

    def manifest(self, digest: str, size: int, where: str, tag: str | None = None) -> Node:
        """The manifest `digest`, from a target that holds it or from the source (by `tag`
        where it may be stored under its tag alone: signatures, fallback indexes); checked."""
        got = None
        if hasattr(self.source, "client"):  # a registry that may count pulls
            for target in self.targets:
                if (there := target.get_manifest(digest)) and sha256_bytes(there[0]) == digest:
                    got = there
                    break
        got = got or self.source.get_manifest(tag or digest)
        if got is None:
            raise damaged(f"{where}: manifest {digest} is missing", self.source.url)
        data, media_type = got
        if tag:  # the tag may have moved since it was asked about: what it holds now is copied
            digest = sha256_bytes(data)
        if sha256_bytes(data) != digest or (size >= 0 and len(data) != size):
            raise damaged(f"{where}: manifest {digest} does not hash to its digest", self.source.url)
        return Node(digest, data, media_type_of(data, media_type, where))

    def walk(self, digest: str, d: Descriptor, where: str, keep: bool = True, tag: str | None = None) -> Node:
        """The manifest and everything below it; `keep`: written by digest (not a signature tag's)."""
        node = self.manifest(digest, d.size, where, tag)
        manifests, blobs = children(node.data, f"manifest {digest}")
        for child in manifests:
            if child.digest not in self.graph.manifests:
                self.walk(child.digest, child, f"{where} → {child.digest}")
        for blob in blobs:
            self.graph.add_blob(blob)
        if keep:
            self.graph.add_manifest(node)
        return node

    def _attachments(self, subjects: list[str]) -> None:
        """Signatures and referrers of each subject, and theirs in turn (a signed SBOM)."""
        seen: set[str] = set()
        while subjects:
            subject = subjects.pop(0)
            if subject in seen:
                continue
            seen.add(subject)
            for tag in cosign_tags(subject):
                if (digest := self.source.manifest_digest(tag)) is not None:
                    self.graph.attachment_tags[tag] = self.walk(digest, Descriptor(digest, -1), tag, keep=False,
                                                                     tag=tag)
            found = referrer_descriptors(self._referrers_api(subject), f"referrers of {subject}")
            fallback = self.source.manifest_digest(fallback_tag(subject))
            if fallback is not None:
                index = self.manifest(fallback, -1, fallback_tag(subject), fallback_tag(subject))
                found += referrer_descriptors(index.data, fallback_tag(subject))
            for d in found:
                if d["digest"] not in self.graph.manifests:
                    self.walk(d["digest"], Descriptor.of(d, f"referrer of {subject}"), f"referrer of {subject}")
                subjects.append(d["digest"])
            self.graph.add_referrers(subject, found)

    def _referrers_api(self, subject: str) -> bytes | None:
        """`GET /v2/NAME/referrers/DIGEST` where the registry has the OCI 1.1 API; a static
        registry's file of it."""
        if hasattr(self.source, "client"):
            response = self.source.client.send("GET", self.source.v2_url(f"referrers/{subject}"),
                                               scopes=(f"repository:{self.source.name}:pull",),
                                               headers={"Accept": OCI_INDEX})
            return response.content if response.status_code == 200 else None
        got = self.source.store.get(f"{self.source.base}/referrers/{subject}")
        return got[0] if got else None

    def _blobs(self) -> None:
        """Which target lacks which blob; each blob some target must be sent, read once and checked."""
        blobs = list(self.graph.blobs.values())
        with ThreadPoolExecutor(PARALLEL_BLOBS) as pool:
            for i, target in enumerate(self.targets):
                have = pool.map(lambda b, t=target: t.blob_exists(b.digest), blobs)
                self.missing[i] = {b.digest for b, there in zip(blobs, have) if not there}
            # Read once what some target must be sent; a blob a target can mount is not read.
            wanted = [b for b in blobs if self.fetch and any(
                b.digest in self.missing[i] and not mountable(self.source, t) for i, t in enumerate(self.targets))]
            for future in [pool.submit(self.stage, b) for b in wanted]:
                future.result()

    def stage(self, blob: Descriptor) -> Path:
        """The blob in a temporary file, its bytes checked against its digest and size."""
        if blob.digest in self.staged:
            return self.staged[blob.digest]
        path = self.staging / blob.digest.replace(":", "-")
        with self.reporter.transfer(f"[blob] read blob {blob.digest}", max(blob.size, 0)) as progress:
            digest, size = download(self.source, blob.digest, path, progress)
        if digest != blob.digest or size != blob.size:
            path.unlink(missing_ok=True)
            raise damaged(f"blob {blob.digest} ({human_size(blob.size)}) does not hash to its digest "
                          f"(read {size} bytes, {digest})", self.source.url)
        self.staged[blob.digest] = path
        return path


def download(source, digest: str, path: Path, progress=None) -> tuple[str, int]:
    """Stream a blob to `path` while hashing it: (digest read, bytes read)."""
    if not hasattr(source, "client"):  # a static registry: a store read by key
        got = read_key(source.store, source.blob_key(digest), path, progress)
        if got is None:
            raise damaged(f"blob {digest} is missing", source.url)
        return got
    return _stream(source, digest, path, progress)


def _hashed(chunks, path: Path, progress) -> tuple[str, int]:
    h, n = hashlib.sha256(), 0
    with open(path, "wb") as out:
        for chunk in chunks:
            h.update(chunk)
            out.write(chunk)
            n += len(chunk)
            if progress:
                progress(len(chunk))
    return "sha256:" + h.hexdigest(), n


def read_key(store, key: str, path: Path, progress=None) -> tuple[str, int] | None:
    """A store's object into `path`, hashed as it streams (where the store streams; else read
    whole): (digest, size), or None when missing. A cut answer is read again, within the budget."""
    if not hasattr(store, "open_read"):
        got = store.get(key)
        return _hashed([got[0]], path, None) if got else None
    from alba_action.targets.retry import RetryBudget, retrying

    def once() -> tuple[str, int] | None:
        with store.open_read(key) as stream:
            return None if stream is None else _hashed(stream.chunks, path, progress)

    return retrying(getattr(store, "budget", None) or RetryBudget(total=0), once, slot=False)


def _stream(registry, digest: str, path: Path, progress) -> tuple[str, int]:
    import requests

    from alba_action.targets.retry import TransientError, retrying

    def once() -> tuple[str, int]:
        response = registry.client.send("GET", registry.v2_url(f"blobs/{digest}"), stream=True)
        try:
            if response.status_code == 404:
                raise damaged(f"blob {digest} is missing", registry.url)
            if response.status_code != 200:
                raise registry.error(response, f"GET blob {digest}")
            return _hashed(response.iter_content(CHUNK), path, progress)
        except requests.RequestException as err:
            raise TransientError(f"GET blob {digest} from {registry.host} was cut: {type(err).__name__}") from None
        finally:
            response.close()

    return retrying(registry.client.budget, once, slot=False)
