"""Real servers the tests start on 127.0.0.1: moto's S3, a Garage-like proxy, helpers to run alba."""

from __future__ import annotations

import atexit
import http.client
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "alba-test-key", "AWS_SECRET_ACCESS_KEY": "alba-test-secret-Zq81", "AWS_DEFAULT_REGION": "us-east-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoS3:
    """moto's S3 over HTTP on a free port, as boto3 would see Garage."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "MotoS3":
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"),
        )


def s3_url(bucket: str, port: int, **extra: str) -> str:
    query = "&".join([f"endpoint=127.0.0.1:{port}", "disableSSL=true", "region=us-east-1"]
                     + [f"{k}={v}" for k, v in extra.items()])
    return f"s3://{bucket}?{query}"


HOP_BY_HOP = ("connection", "transfer-encoding", "content-length")


def relay(handler: BaseHTTPRequestHandler, host: str, port: int, body: bytes | None, drop: tuple[str, ...] = (),
          delay: float = 0.0) -> None:
    """Send the handler's request upstream (without the `drop` headers) and its answer back,
    `delay` seconds after the upstream answered (a stale read)."""
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("connection", *drop)}
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request(handler.command, handler.path, body=body, headers=headers)
    resp = conn.getresponse()
    data = resp.read()
    time.sleep(delay)
    handler.send_response(resp.status)
    for k, v in resp.getheaders():
        if k.lower() not in HOP_BY_HOP:
            handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
    conn.close()


class DropConditionalsProxy:
    """Forwards HTTP to an S3 server without If-Match / If-None-Match: Garage 1.2 ignores them on PutObject.
    With `reject=True` it answers 501 NotImplemented to them instead, as a store without the feature may."""

    def __init__(self, upstream_port: int, reject: bool = False, delay_reads: str | None = None,
                 delay_seconds: float = 0.0) -> None:
        """`delay_reads`: a regular expression; GETs of matching paths are answered `delay_seconds`
        after the store answered, so that concurrent writers act on stale documents."""
        upstream = upstream_port
        slow = re.compile(delay_reads) if delay_reads else None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if reject and ("If-Match" in self.headers or "If-None-Match" in self.headers):
                    return self._not_implemented()
                late = slow and self.command == "GET" and slow.search(self.path.split("?", 1)[0])
                relay(self, "127.0.0.1", upstream, body, drop=("if-match", "if-none-match"),
                      delay=delay_seconds if late else 0.0)

            def _not_implemented(self) -> None:
                data = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
                        b"<Message>conditional writes are not implemented</Message></Error>")
                self.send_response(501)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "DropConditionalsProxy":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# Image cache of the alba processes the tests start: theirs, not the user's ~/.cache.
CACHE_DIR = Path(tempfile.mkdtemp(prefix="alba-test-cache-"))
atexit.register(shutil.rmtree, CACHE_DIR, ignore_errors=True)


def alba_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GITHUB_", "INPUT_", "PLUGIN_", "CI_", "DRONE"))}
    env.update(CREDENTIALS)
    env["ALBA_CACHE_DIR"] = str(CACHE_DIR)
    env.update(extra)
    env["PYTHONPATH"] = str(REPO)
    return env


def run_alba(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: int = 300):
    return subprocess.run(
        [sys.executable, "-m", "alba_action", *map(str, args)],
        env=env or alba_env(), cwd=cwd, capture_output=True, text=True, timeout=timeout,
    )


NGINX_CONF = """
worker_processes 1;
daemon off;
user root;
error_log {root}/error.log warn;
pid {root}/nginx.pid;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      # Garage's website mode: a key ending in / serves its index.html.
      rewrite ^/(.*)/$ /{bucket}/$1/index.html break;
      rewrite ^/(.*)$ /{bucket}/$1 break;
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_buffering off;
    }}
  }}
}}
"""


class NginxWebsite:
    """Debian nginx-light in front of a moto bucket, serving it the way Garage's website mode does."""

    def __init__(self, upstream_port: int, bucket: str, workdir: Path) -> None:
        self.port = free_port()
        self.root = workdir
        self.root.mkdir(parents=True, exist_ok=True)
        conf = NGINX_CONF.format(root=self.root, port=self.port, bucket=bucket, upstream=upstream_port)
        self.conf = self.root / "nginx.conf"
        self.conf.write_text(conf)
        self.host = f"127.0.0.1:{self.port}"

    def __enter__(self) -> "NginxWebsite":
        self.proc = subprocess.Popen(["/usr/sbin/nginx", "-c", str(self.conf), "-p", str(self.root)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port, self.proc)
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def wait_port(port: int, proc: subprocess.Popen | None = None, seconds: float = 20) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"server for port {port} exited: {err}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def public_read(client, bucket: str) -> None:
    """The policy Garage's website mode implies: anyone may GET and HEAD objects."""
    import json

    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:HeadObject"],
                       "Resource": f"arn:aws:s3:::{bucket}/*"}],
    }))
