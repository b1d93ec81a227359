"""Catalogs of thousands of tags written straight into a bucket with boto3 (not through alba,
to stay fast), as a long history of pushes leaves them; and a proxy that counts requests.

`seed` writes, for each tag, a tag document with `published` (tag i published i seconds
after the first) and, with `files`, the one file it lists; then the name document listing
them newest first — with the `published` and `etags` fields alba records (the steady state),
or without (`legacy`: as an earlier alba wrote it) — and, with `page`, the download pages
as alba renders them.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from servers import HOP_BY_HOP

from alba_action.pages.render import NamePage, TagView, index_page, name_page
from alba_action.static import catalog, plan

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
FILE = b"tool linux amd64\n"
DIGEST = "sha256:" + hashlib.sha256(FILE).hexdigest()


def tag_names(count: int) -> list[str]:
    """Oldest first."""
    return [f"0.{i // 1000}.{i % 1000}" for i in range(count)]


def tag_doc(i: int) -> bytes:
    return plan.dumps({"flavors": [{"resources": [{"path": "tool", "size": len(FILE), "digest": DIGEST}],
                                    "platform": {"architecture": "amd64", "os": "linux"}}],
                       "published": plan.iso_micro(START + timedelta(seconds=i))})


def boto3_writer(client, bucket: str):
    """put(key, body, content_type) → ETag, through the S3 API."""
    def put(key: str, body: bytes, content_type: str = plan.JSON) -> str:
        return client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type,
                                 CacheControl=plan.NO_CACHE)["ETag"]
    return put


def moto_writer(bucket: str):
    """put(key, body, content_type) → ETag, straight into the moto server of this process
    (thousands of objects in a fraction of a second)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]  # the partition; buckets are global in it

    def put(key: str, body: bytes, content_type: str = plan.JSON) -> str:
        stored = backend.put_object(bucket, key, body)
        stored.set_metadata({"Content-Type": content_type, "Cache-Control": plan.NO_CACHE}, replace=True)
        return stored.etag
    return put


def moto_reader(bucket: str):
    """key → moto's stored object (`.value`, `.etag`), read in this process."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    return lambda key: backend.get_object(bucket, key)


def seed(put, name: str, count: int, *, files: bool = False, legacy: bool = False,
         page: bool = True, threads: int = 32) -> list[str]:
    """Write the catalog with `put` (boto3_writer, moto_writer); returns its tags, newest first."""
    tags = tag_names(count)
    docs = {t: tag_doc(i) for i, t in enumerate(tags)}
    with ThreadPoolExecutor(threads) as pool:
        etags = dict(zip(tags, pool.map(lambda t: put(plan.tag_key(name, t), docs[t]), tags)))
        if files:
            list(pool.map(lambda t: put(f"{plan.tag_key(name, t)}/linux/amd64/tool", FILE, "application/octet-stream"),
                          tags))
    newest = tags[::-1]
    doc = catalog.NameDoc(tuple(newest), tuple(plan.published_of(docs[t]) for t in newest),
                          tuple(catalog.bare_etag(etags[t]) for t in newest))
    put(plan.name_key(name), plan.dumps(plan.name_document(name, newest) if legacy else doc.to_json(name)))
    if page:
        views = [TagView(t, json.loads(docs[t]), catalog.bare_etag(etags[t])) for t in newest]
        html = "text/html; charset=utf-8"
        put(f"{plan.ROOT}/{name}/index.html", name_page(NamePage(name, views)), html)
        put(f"{plan.ROOT}/index.html", index_page([(name, newest[0] if newest else None, len(newest))]), html)
    return newest


class CountingProxy:
    """Relays HTTP to an S3 server, counting requests by method, optionally `delay` seconds
    each way (a store that far away) and without conditional headers (`drop_conditionals`,
    as Garage 1.2 ignores them)."""

    def __init__(self, upstream_port: int, delay: float = 0.0, drop_conditionals: bool = False) -> None:
        self.counts: Counter = Counter()
        self.paths: list[str] = []
        self.timeline: list[tuple[float, str, str]] = []  # (arrival, method, path), for a trace
        lock = threading.Lock()
        drop = ("connection", "if-match", "if-none-match") if drop_conditionals else ("connection",)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with lock:
                    proxy.counts[self.command] += 1
                    proxy.paths.append(f"{self.command} {self.path}")
                    proxy.timeline.append((time.monotonic(), self.command, self.path))
                threading.Event().wait(delay)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in drop}
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=120)
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                threading.Event().wait(delay)
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                size = resp.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", size or str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]

    def take(self) -> tuple[int, Counter, list[str]]:
        """(requests, by method, each request) since the last take."""
        counts, paths = Counter(self.counts), list(self.paths)
        self.counts.clear()
        self.paths.clear()
        self.timeline.clear()
        return sum(counts.values()), counts, paths

    def tag_document_reads(self, paths: list[str], name: str) -> int:
        """GETs of single tag documents among `paths`."""
        one = re.compile(rf"^GET /[^/]+/{plan.ROOT}/{re.escape(name)}/[^/?]+$")
        return sum(1 for p in paths if one.match(p) and not p.endswith("/index.html"))

    def __enter__(self) -> "CountingProxy":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
