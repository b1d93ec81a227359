"""Shared bench helpers: a moto server in its own process, timing with peak RSS of a command."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CREDS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto() -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("moto server did not start")


def s3_client(port: int):
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id=CREDS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=CREDS["AWS_SECRET_ACCESS_KEY"],
                        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required"))


def timed(cmd: list[str], env: dict | None = None, cwd: Path | None = None,
          must_pass: bool = True) -> tuple[float, float, float] | None:
    """(wall seconds, peak RSS MB, CPU seconds) of one command and its children; None when a
    peer (must_pass=False) fails."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.monotonic(); r = subprocess.run(sys.argv[1:])\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([time.monotonic() - t, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime, r.returncode]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *cmd], env=env or os.environ, cwd=cwd,
                         stdout=subprocess.PIPE, text=True)
    import json

    wall, rss, cpu, rc = json.loads(out.stdout.strip().splitlines()[-1])
    if rc != 0:
        if must_pass:
            raise SystemExit(f"command failed ({rc}): {' '.join(cmd)}")
        print(f"  (peer failed, exit {rc}: {' '.join(cmd[:3])} …)")
        return None
    return wall, rss, cpu


def process_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds a running process (e.g. the moto server) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def bench_env(**extra: str) -> dict:
    """The environment of a normal install: Python may keep compiled modules (pip writes them
    at install time; a shell with PYTHONDONTWRITEBYTECODE would recompile alba on every run)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(CREDS)
    env.update(extra)
    env["PYTHONPATH"] = str(REPO)
    return env


class LatencyProxy:
    """An HTTP proxy in front of moto that waits `delay_ms` before forwarding each request and
    again before returning its answer (a store that far away), and counts requests by method."""

    def __init__(self, upstream_port: int, delay_ms: float) -> None:
        import http.client
        import threading
        from collections import Counter
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.counts: Counter = Counter()
        lock = threading.Lock()
        delay = delay_ms / 1000
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = self._chunked()
                with lock:
                    proxy.counts[self.command] += 1
                time.sleep(delay)  # on the way there
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=300)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "transfer-encoding")}
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                time.sleep(delay)  # and back
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                # A HEAD answer carries the object's length, not its own (empty) body's.
                length = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _chunked(self) -> bytes:
                out = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0], 16)
                    if size == 0:
                        self.rfile.readline()
                        return out
                    out += self.rfile.read(size)
                    self.rfile.readline()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def take_counts(self) -> dict:
        counts = dict(self.counts)
        self.counts.clear()
        return counts

    def stop(self) -> None:
        self.server.shutdown()
