"""Real docker-registry processes on 127.0.0.1 for tests: open, htpasswd, token auth.

Fixtures (import them into a test module to use them; there is no shared conftest):
  registry_open, registry_htpasswd, registry_token  -> RunningRegistry (module scope; deletes enabled)
  registry_nodelete -> RunningRegistry with `storage: delete: enabled: false` (module scope)
  fault_proxy -> factory(registry, fail_first=("PATCH", "PUT"), reset=False) -> FaultProxy
Missing binaries fail the tests: these helpers never skip.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from servers import free_port, relay
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

USER = "alba"
PASSWORD = "s3cret-Pa55-do-not-print"
ISSUER = "alba-test-issuer"
SERVICE = "alba-test-registry"


def require(binary: str) -> str:
    path = shutil.which(binary)
    assert path, f"{binary} is not installed (apt-get install the Debian package); these tests never skip"
    return path


@dataclass
class RunningRegistry:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    process: subprocess.Popen | None = None
    log: Path | None = None
    token_server: "TokenServer | None" = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, repo: str, tag: str | None = None) -> str:
        """A docker:// target URL for this registry (plain HTTP)."""
        ref = f"{repo}:{tag}" if tag else repo
        return f"docker://{self.address}/{ref}?insecure=true"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        if self.token_server:
            self.token_server.stop()


def _config(root: Path, port: int, auth: dict | None, delete: bool = True) -> str:
    cfg = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": delete}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    if auth:
        cfg["auth"] = auth
    path = root / "config.yml"
    path.write_text(json.dumps(cfg))  # YAML is a superset of JSON
    return str(path)


def start_registry(root: Path, auth: dict | None = None, delete: bool = True, **extra) -> RunningRegistry:
    binary = require("docker-registry")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = root / "registry.log"
    proc = subprocess.Popen(
        [binary, "serve", _config(root, port, auth, delete)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    reg = RunningRegistry("127.0.0.1", port, process=proc, log=log, **extra)
    _wait_until_up(reg)
    return reg


def _wait_until_up(reg: RunningRegistry) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        assert reg.process.poll() is None, f"docker-registry exited: {reg.log.read_text()}"
        try:
            urllib.request.urlopen(f"http://{reg.address}/v2/", timeout=1)
            return
        except urllib.error.HTTPError:
            return  # 401 means it answers
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"docker-registry did not start: {reg.log.read_text()}")


def start_htpasswd_registry(root: Path) -> RunningRegistry:
    require("htpasswd")
    root.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True, text=True)
    (root / "htpasswd").write_text(out.stdout)
    auth = {"htpasswd": {"realm": "alba-test", "path": str(root / "htpasswd")}}
    return start_registry(root, auth, username=USER, password=PASSWORD)


def start_token_registry(root: Path) -> RunningRegistry:
    root.mkdir(parents=True, exist_ok=True)
    tokens = TokenServer({USER: PASSWORD})
    (root / "bundle.pem").write_bytes(tokens.cert_pem)
    auth = {"token": {"realm": tokens.realm, "service": SERVICE, "issuer": ISSUER,
                      "rootcertbundle": str(root / "bundle.pem")}}
    return start_registry(root, auth, username=USER, password=PASSWORD, token_server=tokens)


# --- the bearer-token server -------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alba test token signer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _parse_scope(scope: str) -> dict | None:
    kind, _, rest = scope.partition(":")
    name, _, actions = rest.rpartition(":")
    if kind != "repository" or not name:
        return None
    return {"type": kind, "name": name, "actions": actions.split(",")}


@dataclass
class TokenRequest:
    user: str | None  # None: anonymous
    scopes: list[str]
    granted: list[dict] = field(default_factory=list)


class TokenServer:
    """Issues ES256 JWTs the registry trusts (the cert is in its rootcertbundle).

    Anonymous callers get pull only; known users get what they ask for; a wrong
    password gets 401. Every request is recorded in `requests` for assertions.
    """

    def __init__(self, users: dict[str, str]) -> None:
        self.users = users
        self.requests: list[TokenRequest] = []
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = _self_signed(self.key)
        self.cert_pem = self.cert.public_bytes(serialization.Encoding.PEM)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _user(self, header: str | None) -> tuple[bool, str | None]:
        """(accepted, user): no header is anonymous; a bad password is refused."""
        if not header:
            return True, None
        user, _, password = base64.b64decode(header.split(" ", 1)[1]).decode().partition(":")
        return self.users.get(user) == password, user

    def issue(self, user: str | None, scopes: list[str]) -> str:
        access = []
        for scope in scopes:
            grant = _parse_scope(scope)
            if grant and user is None:
                grant["actions"] = [a for a in grant["actions"] if a == "pull"]
            if grant:
                access.append(grant)
        self.requests.append(TokenRequest(user, scopes, access))
        now = int(time.time())
        claims = {"iss": ISSUER, "sub": user or "", "aud": SERVICE, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": secrets.token_hex(8), "access": access}
        der = self.cert.public_bytes(serialization.Encoding.DER)
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(der).decode()]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
                ok, user = server._user(self.headers.get("Authorization"))
                if not ok:
                    self._reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]})
                    return
                token = server.issue(user, query.get("scope", []))
                self._reply(200, {"token": token, "access_token": token, "expires_in": 300})

            def _reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler


# --- a fault-injecting, request-counting proxy --------------------------------------


class FaultProxy:
    """Forwards to a registry; answers 503 to the first request of each listed method
    on a blob upload URL (or drops the connection, with reset=True), and records every
    (method, path, has_authorization)."""

    def __init__(self, target: RunningRegistry, fail_first: tuple[str, ...] = (),
                 reset: bool = False, always: bool = False) -> None:
        self.target = target
        self.reset = reset
        self.always = always  # fail every matching request, not only the first
        self.pending_faults = set(fail_first)
        self.seen: list[tuple[str, str, bool]] = []
        self.faults: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, repo: str, tag: str | None = None) -> str:
        ref = f"{repo}:{tag}" if tag else repo
        return f"docker://{self.address}/{ref}?insecure=true"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy.lock:
                    proxy.seen.append((self.command, self.path, "Authorization" in self.headers))
                if proxy._inject_only(self.command, self.path):
                    return self._fault()
                relay(self, proxy.target.host, proxy.target.port, body)

            def _fault(self):
                if proxy.reset:
                    self.close_connection = True  # no answer at all: the client sees a reset
                    return
                data = b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}'
                self.send_response(503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args):
                pass

        return Handler

    def _inject_only(self, method: str, path: str) -> bool:
        with self.lock:
            if "/blobs/uploads/" in path and method in self.pending_faults:
                if not self.always:
                    self.pending_faults.discard(method)
                self.faults.append((method, path))
                return True
        return False


# --- pytest fixtures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry_open(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("registry-open"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def registry_nodelete(tmp_path_factory):
    """distribution's default: `storage: delete: enabled: false` (DELETE answers 405)."""
    reg = start_registry(tmp_path_factory.mktemp("registry-nodelete"), delete=False)
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def registry_htpasswd(tmp_path_factory):
    reg = start_htpasswd_registry(tmp_path_factory.mktemp("registry-htpasswd"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def registry_token(tmp_path_factory):
    reg = start_token_registry(tmp_path_factory.mktemp("registry-token"))
    yield reg
    reg.stop()


@pytest.fixture
def fault_proxy():
    proxies: list[FaultProxy] = []

    def make(target: RunningRegistry, fail_first: tuple[str, ...] = (), reset: bool = False,
             always: bool = False) -> FaultProxy:
        proxies.append(FaultProxy(target, fail_first, reset, always))
        return proxies[-1]

    yield make
    for p in proxies:
        p.stop()
