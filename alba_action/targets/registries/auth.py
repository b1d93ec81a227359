"""Registry credentials and the answers to WWW-Authenticate challenges (Basic, Bearer).

Credentials come from explicit username/password or the Docker config; the password
lives only in `Credentials` (hidden from repr) and in Authorization headers.
Bearer tokens are cached by scope and shared by threads; Basic auth is sent
pre-emptively once the registry has asked for it, so each request goes out once.
"""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import requests
from oras.auth.utils import parse_auth_header

from alba_action.errors import TargetError
from alba_action.targets.registries import dockerhub

# A token is renewed this many seconds before the registry would reject it.
EXPIRY_MARGIN = 10.0


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def _config_host(key: str) -> str:
    """`https://index.docker.io/v1/` → `index.docker.io`; `host:5000` stays as is."""
    return key.split("://", 1)[-1].split("/", 1)[0].lower()


def _same_registry(key: str, host: str) -> bool:
    key, host = _config_host(key), host.lower()
    if key == host or (dockerhub.is_hub(key) and dockerhub.is_hub(host)):
        return True
    # Docker treats localhost and 127.0.0.1 as the same registry.
    return key.replace("localhost", "127.0.0.1") == host.replace("localhost", "127.0.0.1")


def _from_entry(entry: dict) -> Credentials | None:
    if entry.get("username") and entry.get("password"):
        return Credentials(entry["username"], entry["password"])
    if entry.get("auth"):
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        return Credentials(user, password) if user else None
    return None


def _from_helper(helper: str, key: str) -> Credentials | None:
    """Ask `docker-credential-HELPER get`; a missing or failing helper means no credentials."""
    try:
        out = subprocess.run([f"docker-credential-{helper}", "get"], input=key.encode(),
                             capture_output=True, check=True, timeout=30).stdout
        data = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return Credentials(data["Username"], data["Secret"]) if data.get("Username") else None


def load_docker_credentials(host: str, path: Path | None = None) -> Credentials | None:
    """The Docker config's credentials for `host` (auths, credHelpers, credsStore); `path`
    is the config.json the edge found ($DOCKER_CONFIG, ~/.docker), None for none."""
    if path is None:
        return None
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for key, entry in (config.get("auths") or {}).items():
        if _same_registry(key, host) and (found := _from_entry(entry or {})):
            return found
    for key, helper in (config.get("credHelpers") or {}).items():
        if _same_registry(key, host):
            return _from_helper(helper, key)
    if config.get("credsStore"):
        return _from_helper(config["credsStore"], dockerhub.config_key(host))
    return None


def _grants(scopes: tuple[str, ...]) -> dict[str, set[str]]:
    """`repository:NAME:pull,push` scopes → {NAME: {pull, push}}."""
    out: dict[str, set[str]] = {}
    for scope in scopes:
        _, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        out.setdefault(name, set()).update(actions.split(","))
    return out


@dataclass
class _Token:
    value: str
    scopes: tuple[str, ...]
    expires: float

    def covers(self, scopes: tuple[str, ...]) -> bool:
        have, need = _grants(self.scopes), _grants(scopes)
        fresh = time.monotonic() < self.expires - EXPIRY_MARGIN
        return fresh and all(acts <= have.get(name, set()) for name, acts in need.items())


# Fetches a token: (realm, params, headers) -> response.
TokenFetcher = Callable[[str, list[tuple[str, str]], dict], requests.Response]


class Authenticator:
    """Answers challenges for one registry; thread-safe."""

    def __init__(self, host: str, credentials: Credentials | None, fetch: TokenFetcher) -> None:
        self.host = host
        self.credentials = credentials
        self.fetch = fetch
        self.scheme: str | None = None  # "basic" or "bearer" once challenged
        self._tokens: list[_Token] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        user = self.credentials.username if self.credentials else None
        return f"Authenticator(host={self.host!r}, user={user!r}, scheme={self.scheme!r})"

    def headers(self, scopes: tuple[str, ...]) -> dict:
        """The Authorization header to send up front, when we already know one."""
        if self.scheme == "basic" and self.credentials:
            return {"Authorization": self.credentials.basic()}
        with self._lock:
            token = next((t for t in self._tokens if t.covers(scopes)), None)
        return {"Authorization": f"Bearer {token.value}"} if token else {}

    def answer(self, challenge: str, scopes: tuple[str, ...], refused: bool, elsewhere: str = "") -> dict:
        """Headers that answer a 401 challenge. `refused`: our last answer was rejected.
        `elsewhere`: the host:port that asks, when it is not the registry's own (an upload
        Location): only its own token challenge is answered, with a token of its realm."""
        kind = challenge.split(" ", 1)[0].lower()
        if elsewhere:
            return self._answer_elsewhere(kind, challenge, scopes, elsewhere)
        if kind == "basic":
            if refused or not self.credentials:
                raise self.denied(scopes)
            self.scheme = "basic"
            return {"Authorization": self.credentials.basic()}
        if kind != "bearer":
            raise TargetError(f"registry {self.host} asks for {kind or 'unknown'} authentication, "
                              "which alba does not speak", "use a registry with Basic or Bearer token auth")
        self.scheme = "bearer"
        with self._lock:
            if refused:
                self._tokens = [t for t in self._tokens if not t.covers(scopes)]
            elif token := next((t for t in self._tokens if t.covers(scopes)), None):
                return {"Authorization": f"Bearer {token.value}"}
            token = self._request_token(challenge, scopes)
            self._tokens.append(token)
        return {"Authorization": f"Bearer {token.value}"}

    def _answer_elsewhere(self, kind: str, challenge: str, scopes: tuple[str, ...], where: str) -> dict:
        if kind != "bearer":
            raise TargetError(f"{where}, where registry {self.host} sent alba, asks for {kind or 'unknown'} "
                              f"credentials; alba sends the password for {self.host} to {self.host} only",
                              f"configure the registry to keep uploads on {self.host}, or to hand out tokens")
        token = self._request_token(challenge, scopes)  # never cached: the registry's own are not sent there
        return {"Authorization": f"Bearer {token.value}"}

    def _request_token(self, challenge: str, scopes: tuple[str, ...]) -> _Token:
        h = parse_auth_header(challenge)
        if not h.realm:
            raise TargetError(f"registry {self.host} sent a Bearer challenge without a realm",
                              "check the registry's token auth configuration")
        wanted = scopes or tuple((h.scope or "").split())
        params = [("service", h.service)] if h.service else []
        params += [("scope", s) for s in wanted]
        headers = {"Authorization": self.credentials.basic()} if self.credentials else {}
        response = self.fetch(h.realm, params, headers)
        if response.status_code in (401, 403):
            raise self.denied(scopes)
        if response.status_code != 200:
            raise TargetError(f"token server of registry {self.host} answered {response.status_code}",
                              "check that the registry's token service runs")
        body = response.json()
        value = body.get("token") or body.get("access_token")
        if not value:
            raise TargetError(f"token server of registry {self.host} sent no token",
                              "check the registry's token service")
        life = float(body.get("expires_in") or 60)
        return _Token(value, wanted, time.monotonic() + life)

    def denied(self, scopes: tuple[str, ...]) -> TargetError:
        what = " and ".join(sorted(f"{a} on {n}" for n, acts in _grants(scopes).items() for a in acts))
        if self.credentials:
            user = self.credentials.username
            return TargetError(
                f"registry {self.host} refused the credentials for {user}" + (f" ({what})" if what else ""),
                f"check the username and password (ALBA_REGISTRY_USERNAME / ALBA_REGISTRY_PASSWORD "
                f"or `docker login {self.host}`), and that {user} may do this")
        return TargetError(
            f"registry {self.host} requires credentials" + (f" for {what}" if what else ""),
            f"set ALBA_REGISTRY_USERNAME and ALBA_REGISTRY_PASSWORD, or run `docker login {self.host}`")
