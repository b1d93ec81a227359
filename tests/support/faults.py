"""A proxy that injects the faults real stores show, in front of moto or docker-registry.

Faults, each for the requests whose method and path match a rule:
  503       503 Service Unavailable (S3's XML error; registries only read the status)
  slowdown  503 SlowDown with Retry-After: 1, as S3 and Garage throttle
  reset     the connection is closed without an answer
  silent    the request is read and never answered (the connection stays open)
  cut       the request reaches the store, its answer stops halfway
A rule fails the first `count` matching requests (None: every one), or each with
`probability` (seeded, so a run is repeatable). Every request is recorded.
"""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}
KINDS = ("503", "slowdown", "reset", "silent", "cut")


@dataclass
class Rule:
    kind: str
    path: re.Pattern
    methods: frozenset
    count: int | None = 2
    probability: float | None = None
    hits: int = 0


@dataclass
class FaultProxy:
    upstream_port: int
    rules: list[Rule] = field(default_factory=list)
    silence: float = 30.0
    seed: int = 7

    def __post_init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.injected: list[tuple[str, str, str]] = []
        self.lock = threading.Lock()
        self.random = random.Random(self.seed)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, kind: str, path: str, methods: str = "PUT,POST,PATCH", count: int | None = 2,
            probability: float | None = None) -> "FaultProxy":
        assert kind in KINDS, kind
        self.rules.append(Rule(kind, re.compile(path), frozenset(methods.split(",")), count, probability))
        return self

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _fault_for(self, method: str, path: str) -> str | None:
        with self.lock:
            self.seen.append((method, path))
            for rule in self.rules:
                if method not in rule.methods or not rule.path.search(path.split("?", 1)[0]):
                    continue
                if rule.probability is not None:
                    hit = self.random.random() < rule.probability
                else:
                    hit = rule.count is None or rule.hits < rule.count
                if hit:
                    rule.hits += 1
                    self.injected.append((rule.kind, method, path))
                    return rule.kind
        return None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy._fault_for(self.command, self.path)
                if fault in ("503", "slowdown"):
                    return self._unavailable(fault)
                if fault == "reset":
                    self.close_connection = True
                    return
                if fault == "silent":
                    time.sleep(proxy.silence)
                    self.close_connection = True
                    return
                self._relay(body, cut=fault == "cut")

            def _unavailable(self, fault: str) -> None:
                code = "SlowDown" if fault == "slowdown" else "ServiceUnavailable"
                data = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                        f"<Message>injected {fault}</Message></Error>").encode()
                self.send_response(503)
                self.send_header("Content-Type", "application/xml")
                if fault == "slowdown":
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _relay(self, body: bytes | None, cut: bool) -> None:
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                # A cut answer announces more than it sends (an empty one announces 64 bytes).
                self.send_header("Content-Length", str(len(data) if not cut or data else 64))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data[: len(data) // 2] if cut else data)
                if cut:
                    self.close_connection = True

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        return Handler
