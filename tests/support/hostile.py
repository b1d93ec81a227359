"""Hostile HTTP servers the tests start on 127.0.0.1: each path answers with a chosen
behaviour (endless, lying, dripping, redirecting, compressed, huge); every request is
recorded with its headers. Loops are bounded (they stop when the client goes or the
server is stopped), so a test never leaves a thread spinning."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MIB = 1 << 20
Behaviour = Callable[[BaseHTTPRequestHandler, "HostileServer"], None]


class HostileServer:
    def __init__(self, routes: dict[str, Behaviour], default: Behaviour | None = None) -> None:
        self.routes, self.default = routes, default or not_found
        self.seen: list[tuple[str, str, dict]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path = self.path.split("?", 1)[0]
                server.seen.append((self.command, self.path, dict(self.headers)))
                try:
                    server.routes.get(path, server.default)(self, server)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: what the test wants

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self) -> "HostileServer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def paths(self) -> list[str]:
        return [p for _, p, _ in self.seen]


def answer(body: bytes, status: int = 200, headers: dict | None = None) -> Behaviour:
    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        h.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(body)), **(headers or {})}.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)
    return behave


def document(doc: dict) -> Behaviour:
    return answer(json.dumps(doc).encode())


def not_found(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
    answer(b"{}", 404)(h, s)


def endless(h: BaseHTTPRequestHandler, s: HostileServer, piece: bytes = b"A" * 65536, most: int = 4 << 30) -> None:
    """No Content-Length, the connection closes the body: it never ends (up to `most`)."""
    h.send_response(200)
    h.send_header("Content-Type", "application/octet-stream")
    h.send_header("Connection", "close")
    h.end_headers()
    sent = 0
    while sent < most and not s.stopping.is_set():
        h.wfile.write(piece)
        sent += len(piece)


def lying_length(announced: int, sent: bytes) -> Behaviour:
    """Announces `announced` bytes, sends `sent`, closes."""
    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(announced))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(sent)
        h.close_connection = True
    return behave


def drip(every: float = 2.0, most: int = 60, announced: int = 100) -> Behaviour:
    """One byte every `every` seconds, of a body announced as `announced` bytes."""
    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(announced))
        h.end_headers()
        for _ in range(most):
            if s.stopping.wait(every):
                return
            h.wfile.write(b"{")
            h.wfile.flush()
    return behave


def redirect(location: str, status: int = 302) -> Behaviour:
    return answer(b"", status, {"Location": location})


def gzip_bomb(inflated: int = 1 << 30) -> Behaviour:
    """A manifest as `Content-Encoding: gzip`: ~1 MiB that inflates to `inflated` bytes."""
    data = gzip.compress(b"\0" * MIB, 9) * (inflated // MIB)  # gzip members, one after another

    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        answer(data, 200, {"Content-Encoding": "gzip",
                           "Content-Type": "application/vnd.oci.image.index.v1+json"})(h, s)
    return behave


def huge(size: int = 300 * MIB) -> Behaviour:
    """A `size`-byte JSON-looking document generated on the fly, with its Content-Length."""
    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(size))
        h.end_headers()
        sent, piece = 0, b" " * 65536
        while sent < size and not s.stopping.is_set():
            h.wfile.write(piece[: size - sent])
            sent += len(piece)
    return behave


def huge_chunked(size: int = 300 * MIB) -> Behaviour:
    """The same without a Content-Length: the reader finds out as it reads."""
    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        endless(h, s, b" " * 65536, size)
    return behave


def junk(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
    """200 and an HTML page for every key, as a misconfigured website answers."""
    answer(b"<!doctype html><title>Welcome</title><p>It works!</p>", 200, {"Content-Type": "text/html"})(h, s)


def unavailable(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
    answer(b'{"errors":[{"code":"UNAVAILABLE","message":"down"}]}', 503)(h, s)


def wait_for(predicate: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def header_drip(every: float = 2.0, most: int = 60) -> Behaviour:
    """The status line and headers themselves, one byte every `every` seconds."""
    def behave(h: BaseHTTPRequestHandler, s: HostileServer) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Slow: " + b"a" * most + b"\r\n\r\n"
        for byte in head[:most]:
            if s.stopping.wait(every):
                return
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
        h.close_connection = True
    return behave
