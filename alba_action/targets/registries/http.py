"""HTTP to one registry: oras-py's Registry with our auth, retries and time budget.

`RegistryClient.do_request` replaces oras-py's (whose decorator sleeps up to 83 s per
call and re-sends every request unauthenticated first), so oras-py methods that go
through it behave like ours. Each thread gets its own requests.Session.
"""

from __future__ import annotations

import re
import threading
from typing import Callable
from urllib.parse import urlsplit

import oras.provider
import requests
from http.cookiejar import DefaultCookiePolicy
from urllib3.exceptions import NewConnectionError

from alba_action.errors import TargetError
from alba_action.targets.registries.auth import Authenticator
from alba_action.targets.retry import (  # noqa: F401 (TransientError is part of this module's API)
    RETRY_STATUS, THROTTLE_STATUS, RetryBudget, Timeouts, TransientError, Unreachable, parse_retry_after, retrying,
)

IDEMPOTENT = {"GET", "HEAD", "PUT", "DELETE"}
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}
_REPO_IN_PATH = re.compile(r"/v2/(.+)/(?:blobs|manifests|tags)/")

# A request body: bytes, or a factory that opens a fresh stream for each attempt.
BodySource = bytes | Callable[[], object] | None


def _refused(error: requests.ConnectionError) -> bool:
    """Connection never made (refused, DNS, connect timeout), as opposed to a reset."""
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(error, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)


def scopes_for(method: str, url: str) -> tuple[str, ...]:
    match = _REPO_IN_PATH.search(url)
    if not match:
        return ()
    actions = "pull" if method in ("GET", "HEAD") else "pull,push"
    return (f"repository:{match.group(1)}:{actions}",)


class RegistryClient(oras.provider.Registry):
    def __init__(self, host: str, insecure: bool, auth: Authenticator, budget: RetryBudget,
                 timeouts: Timeouts) -> None:
        super().__init__(hostname=host, insecure=insecure)
        self.authenticator = auth
        self.budget = budget
        self.timeouts = timeouts
        self._local = threading.local()
        auth.fetch = self._fetch_token

    def __str__(self) -> str:
        return f"RegistryClient({self.prefix}://{self.hostname})"

    def base(self) -> str:
        return f"{self.prefix}://{self.hostname}"

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            # As oras-py does: registries that set cookies think they talk to a browser.
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
            session.max_redirects = MAX_REDIRECTS
        return session

    def own(self, url: str) -> bool:
        """Whether `url` is on the registry's own host:port: the only place its credentials
        go up front (requests drops them on a redirect elsewhere; an upload Location on
        another host:port gets them only when its own token challenge asks)."""
        return _origin(url) == _origin(self.base())

    def _fetch_token(self, realm: str, params: list, headers: dict) -> requests.Response:
        return self.send("GET", realm, params=params, headers=headers, authenticate=False)

    def do_request(self, url, method="GET", data=None, headers=None, json=None, stream=False):
        """oras-py's entry point, routed through `send` (json bodies are not used by us)."""
        assert json is None, "alba sends manifests as exact bytes, never re-serialised JSON"
        return self.send(method, url, headers=headers, body=data, stream=stream,
                         retry=method in IDEMPOTENT)

    def send(self, method: str, url: str, *, scopes: tuple[str, ...] | None = None,
             headers: dict | None = None, body: BodySource = None, params=None,
             stream: bool = False, retry: bool = True, authenticate: bool = True) -> requests.Response:
        """One logical request: authenticated, and retried when `retry` and the failure is transient.

        Without `retry`, a transient failure raises TransientError for the caller to restart."""
        scopes = scopes_for(method, url) if scopes is None else scopes

        def once() -> requests.Response:
            try:
                response = self._authorised(method, url, scopes, headers or {}, body, params, stream, authenticate)
            except requests.RequestException as e:
                raise self._failure(e, method, url) from None
            if response.status_code in RETRY_STATUS:
                raise TransientError(self.describe(response, f"{method} {_path(url)}"),
                                     parse_retry_after(response.headers.get("Retry-After")),
                                     throttled=response.status_code in THROTTLE_STATUS)
            return response

        return retrying(self.budget, once, retry=retry)

    def _failure(self, e: requests.RequestException, method: str, url: str) -> TargetError:
        """What retrying may fix (TransientError, Unreachable), or what it cannot."""
        if isinstance(e, (requests.TooManyRedirects, requests.exceptions.InvalidSchema,
                          requests.exceptions.MissingSchema, requests.exceptions.InvalidURL)):
            return TargetError(f"registry {self.hostname}: {method} {_path(url)} was redirected too often or to "
                               f"a URL that is not http(s) ({e.__class__.__name__})",
                               f"alba follows at most {MAX_REDIRECTS} redirects, to http(s) only; check the registry")
        if isinstance(e, requests.exceptions.SSLError):  # before ConnectionError: a subclass
            return TargetError(f"TLS with registry {self.hostname} failed: {e.__class__.__name__}",
                               "use https with a trusted certificate, or ?insecure=true for a "
                               "plain-HTTP registry")
        if isinstance(e, requests.ConnectionError) and _refused(e):
            return Unreachable(f"registry {urlsplit(url).netloc} does not answer",
                               "check the URL, or that the registry runs")
        if isinstance(e, requests.ReadTimeout):
            return TransientError(f"registry {self.hostname} gave no answer in time to {method} {_path(url)}")
        if isinstance(e, requests.ConnectionError):
            return TransientError(f"registry {self.hostname} dropped the connection during "
                                  f"{method} {_path(url)}")
        return TransientError(f"registry {self.hostname}: {e.__class__.__name__} during "
                              f"{method} {_path(url)}")

    def _authorised(self, method, url, scopes, headers, body, params, stream, authenticate):
        """Send once; after a 401 challenge answer it and send again, once."""
        own = self.own(url)
        extra = self.authenticator.headers(scopes) if authenticate and own else {}
        response = self._once(method, url, {**headers, **extra}, body, params, stream)
        challenge = response.headers.get("WWW-Authenticate")
        if not authenticate or response.status_code != 401 or not challenge:
            return response
        response.close()
        # A header we sent up front and the registry rejected: expired or too narrow.
        extra = self.authenticator.answer(challenge, scopes, refused=bool(extra),
                                          elsewhere="" if own else urlsplit(url).netloc)
        response = self._once(method, url, {**headers, **extra}, body, params, stream)
        if response.status_code == 401:
            response.close()
            raise self.authenticator.denied(scopes)
        return response

    def _once(self, method, url, headers, body, params, stream) -> requests.Response:
        data = body() if callable(body) else body
        size = len(data) if hasattr(data, "__len__") else 0
        timeout = (self.timeouts.connect, self.timeouts.read(size))  # a silent registry is left in seconds
        try:
            return self._session().request(method, url, data=data, headers=headers, params=params,
                                           stream=stream, timeout=timeout, verify=self._tls_verify,
                                           allow_redirects=True)
        finally:
            if hasattr(data, "close"):
                data.close()

    def location(self, response: requests.Response, container) -> str:
        """The upload session URL a 202 answer points to, made absolute (oras-py's helper)."""
        return self._get_location(response, container) or ""

    def describe(self, response: requests.Response, what: str) -> str:
        """`registry H answered 404 to GET /v2/…: manifest unknown` — the registry's own words."""
        try:
            errors = response.json().get("errors") or []
            detail = "; ".join(str(e.get("message") or e.get("code")) for e in errors)
        except ValueError:
            detail = ""
        text = f"registry {self.hostname} answered {response.status_code} to {what}"
        return f"{text}: {detail}" if detail else text


def _origin(url: str) -> tuple[str, int | None]:
    """(host, port) with the scheme's default port filled in: what credentials are bound to."""
    parts = urlsplit(url)
    return (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(parts.scheme)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
