"""Where `alba verify` reads from, as a user would: a website endpoint over HTTP(S), a
folder, a bucket, or a registry. Everything but a registry is read by key."""

from __future__ import annotations

import http.client
import itertools
import urllib.error
import urllib.request
from typing import Callable

from alba_action.errors import InputError, TargetError
from alba_action.request import RunOptions
from alba_action.targets.retry import RETRY_STATUS, THROTTLE_STATUS, RetryBudget, TransientError, parse_retry_after


class KeyReader:
    """`get(key)` → bytes or None, over a website (HTTP GET of BASE/KEY) or a store."""

    def __init__(self, url: str, get: Callable[[str], bytes | None]) -> None:
        self.url, self.get = url, get

    def manifest(self, name: str, ref: str) -> bytes | None:
        return self.get(f"v2/{name}/manifests/{ref}")

    def blob(self, name: str, digest: str) -> bytes | None:
        return self.get(f"v2/{name}/blobs/{digest}")


class RegistryReader:
    def __init__(self, registry) -> None:
        self.registry, self.url = registry, registry.url

    def get(self, key: str) -> bytes | None:
        return None  # a registry holds no df-dist-v1 documents

    def manifest(self, name: str, ref: str) -> bytes | None:
        got = self.registry.get_manifest(ref)
        return got[0] if got else None

    def blob(self, name: str, digest: str) -> bytes | None:
        return self.registry.get_blob(digest)


def _http_get(base: str, budget: RetryBudget, timeout: float) -> Callable[[str], bytes | None]:
    """GET BASE/KEY as a browser would, under the retry policy of every target: 429 and 5xx,
    dropped connections, silence and answers cut halfway are retried within the budget."""
    def once(url: str) -> bytes | None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as err:
            if err.code in (403, 404):  # website endpoints answer 403 for a missing key too
                return None
            if err.code in RETRY_STATUS:
                raise TransientError(f"GET {url} answered {err.code}",
                                     parse_retry_after(err.headers.get("Retry-After")),
                                     throttled=err.code in THROTTLE_STATUS) from None
            raise TargetError(f"GET {url} answered {err.code}", "check the public URL") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            reason = getattr(err, "reason", err)
            if isinstance(reason, ConnectionRefusedError):
                raise TargetError(f"{base} does not answer", "check the public URL and that it is served") from None
            raise TransientError(f"GET {url}: {type(reason).__name__}") from None

    def get(key: str) -> bytes | None:
        url = f"{base}/{urllib.request.quote(key)}"
        for attempt in itertools.count():
            try:
                return once(url)
            except TransientError as error:
                budget.pause(attempt, error.retry_after, error)
    return get


def open_source(url: str, options: RunOptions = RunOptions(), insecure: bool = False):
    if url.startswith(("http://", "https://")):
        budget = RetryBudget(total=options.retry_budget_seconds)
        return KeyReader(url.rstrip("/"), _http_get(url.rstrip("/"), budget, options.request_timeout_seconds * 3))
    if url.startswith("docker://"):
        from alba_action.targets.registry import OciRegistry

        registry = OciRegistry.from_url(url, insecure=insecure, username=options.registry_username or None,
                                        password=options.registry_password.value or None,
                                        docker_config=options.docker_config)
        return RegistryReader(registry)
    if url.startswith(("s3://", "file://")):
        from alba_action.targets.open import open_store

        store = open_store(url, options)
        return KeyReader(store.url, lambda key: (got[0] if (got := store.get(key)) else None))
    raise InputError(f"SOURCE {url!r} is not a URL alba can read",
                     "use the public https:// URL, s3://BUCKET?endpoint=…, file:///dir or docker://HOST/REPO")
