"""Where `alba verify` reads from, as a user would: a website endpoint over HTTP(S), a
folder, a bucket, or a registry. Everything but a registry is read by key.

Every read is bounded (verify/reading.py): streamed and hashed as it arrives, no longer
than its document declares, documents at most 4 MiB, under the run's retry budget and
timeouts. `get`, `manifest` and `blob` keep the whole object in memory (copy needs it).
"""

from __future__ import annotations

from alba_action.errors import InputError
from alba_action.oci import MANIFEST_TYPES
from alba_action.request import RunOptions
from alba_action.targets.open import open_registry, open_store
from alba_action.targets.retry import RetryBudget, Timeouts
from alba_action.verify.reading import UNDECLARED_LIMIT, Expect, Got, Opener, read
from alba_action.verify.website import Website

WHOLE = Expect(limit=UNDECLARED_LIMIT)


class KeyReader:
    """Objects by key, over a website (HTTP GET of BASE/KEY) or a store."""

    def __init__(self, url: str, opener: Opener, budget: RetryBudget, timeouts: Timeouts) -> None:
        self.url, self.opener, self.budget, self.timeouts = url, opener, budget, timeouts

    def read(self, key: str, expect: Expect) -> Got | None:
        return read(self.opener, key, expect, self.budget, self.timeouts)

    def read_manifest(self, name: str, ref: str, expect: Expect = Expect()) -> Got | None:
        return self.read(f"v2/{name}/manifests/{ref}", expect)

    def read_blob(self, name: str, digest: str, expect: Expect) -> Got | None:
        return self.read(f"v2/{name}/blobs/{digest}", expect)

    def get(self, key: str) -> bytes | None:
        got = self.read(key, WHOLE)
        return None if got is None else got.data

    def manifest(self, name: str, ref: str) -> bytes | None:
        got = self.read_manifest(name, ref)
        return None if got is None else got.data

    def blob(self, name: str, digest: str) -> bytes | None:
        got = self.read_blob(name, digest, WHOLE)
        return None if got is None else got.data


class RegistryReader(KeyReader):
    """A registry's manifests and blobs through its own client (auth, budget, timeouts);
    it holds no df-dist-v1 documents."""

    def __init__(self, registry, timeouts: Timeouts) -> None:
        def opener(tail: str, pace):
            accept = ", ".join(MANIFEST_TYPES) if tail.startswith("manifests/") else ""
            return registry.open_read(tail, accept)

        super().__init__(registry.url, opener, registry.client.budget, timeouts)

    def read(self, key: str, expect: Expect) -> Got | None:
        return None  # df-dist-v1 keys

    def read_manifest(self, name: str, ref: str, expect: Expect = Expect()) -> Got | None:
        return read(self.opener, f"manifests/{ref}", expect, self.budget, self.timeouts)

    def read_blob(self, name: str, digest: str, expect: Expect) -> Got | None:
        return read(self.opener, f"blobs/{digest}", expect, self.budget, self.timeouts)


def open_source(url: str, options: RunOptions = RunOptions(), insecure: bool = False) -> KeyReader:
    """A SOURCE URL as a reader, opened with the run's budget, timeouts and credentials."""
    timeouts = Timeouts.for_run(options)
    if url.startswith(("http://", "https://")):
        site = Website(url, timeouts.request)
        return KeyReader(site.base, site.open, RetryBudget.for_run(options), timeouts)
    if url.startswith("docker://"):
        return RegistryReader(open_registry(url, options, insecure=insecure), timeouts)
    if url.startswith(("s3://", "file://")):
        store = open_store(url, options)
        # A store retries its own requests; the body read is retried here as a whole.
        budget = getattr(store, "budget", None) or RetryBudget.for_run(options)  # a bucket's own
        return KeyReader(store.url, lambda key, pace: store.open_read(key), budget, timeouts)
    raise InputError(f"SOURCE {url!r} is not a URL alba can read",
                     "use the public https:// URL, s3://BUCKET?endpoint=…, file:///dir or docker://HOST/REPO")
