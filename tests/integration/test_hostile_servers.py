"""`alba verify` against servers that lie, drip, never end, redirect in circles or compress
on their own: each case ends within the retry budget (ALBA_RETRY_BUDGET_SECONDS=4), with
a non-zero exit, one clean last line (`ErrorClass: … — fix`), no traceback, and (where a
server sends hundreds of megabytes) bounded memory."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time

import pytest
from hostile import (
    MIB, HostileServer, answer, document, drip, endless, gzip_bomb, header_drip, huge, huge_chunked, junk, lying_length,
    redirect,
    unavailable,
)
from servers import alba_env

BODY = b"#!/bin/sh\necho tool\n"
TAG_KEY = "/df-dist-v1/tool/1"
FILE_KEY = "/df-dist-v1/tool/1/linux/amd64/tool"
LAST_LINE = re.compile(r"^[A-Z][A-Za-z]+: .+ — .+$")
WALL = 20.0
RSS_LIMIT_KIB = 150 * 1024


def tag_doc(path: str = "tool", size: int = len(BODY), digest: str | None = None) -> dict:
    digest = digest or "sha256:" + hashlib.sha256(BODY).hexdigest()
    return {"flavors": [{"resources": [{"path": path, "size": size, "digest": digest}],
                         "platform": {"architecture": "amd64", "os": "linux"}}]}


def verify(source: str, *extra: str) -> tuple[subprocess.CompletedProcess, float, int]:
    """Run `alba verify` under /usr/bin/time: (result, wall seconds, peak RSS in KiB)."""
    env = alba_env(ALBA_RETRY_BUDGET_SECONDS="4", ALBA_REQUEST_TIMEOUT_SECONDS="4")
    started = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "alba_action", "verify", "-t", "tool:1", source,
                        *extra], env=env, capture_output=True, text=True, timeout=90)
    wall = time.monotonic() - started
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    r.stderr = re.sub(r"(Command exited with non-zero status \d+\n)?\tCommand being timed.*", "", r.stderr, flags=re.S)
    return r, wall, rss


def assert_clean_failure(r: subprocess.CompletedProcess, wall: float, rss: int, *words: str) -> str:
    assert r.returncode != 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert LAST_LINE.match(last), last
    assert wall < WALL, f"{wall:.1f} s: {r.stderr}"
    assert rss < RSS_LIMIT_KIB, f"peak RSS {rss} KiB"
    for word in words:
        assert word in r.stderr, r.stderr
    return last


@pytest.mark.parametrize("case, routes, words", [
    ("endless file", {FILE_KEY: endless}, ["goes on, longer than the 20 bytes its document declares"]),
    ("endless document", {TAG_KEY: endless}, ["past the 4 MiB a document may have"]),
    ("file longer than declared", {FILE_KEY: answer(BODY * 1000)}, ["announces 20000 bytes, longer than the 20"]),
    ("300 MB document", {TAG_KEY: huge(300 * MIB)}, ["announces 314572800 bytes, past the 4 MiB"]),
    ("300 MB chunked document", {TAG_KEY: huge_chunked(300 * MIB)}, ["goes on, past the 4 MiB"]),
    ("redirect loop", {TAG_KEY: redirect(TAG_KEY)}, ["more than 5 redirects"]),
    ("redirect to file:", {TAG_KEY: redirect("file:///etc/passwd")}, ["which is not an http(s) URL"]),
    ("gzip bomb as a manifest", {TAG_KEY: answer(b"", 404), "/v2/tool/manifests/1": gzip_bomb()},
     ["Content-Encoding gzip"]),
    ("traversal in a tag document", {TAG_KEY: document(tag_doc("../../../../etc/passwd"))},
     ["'../../../../etc/passwd' leaves its folder; not fetched"]),
    ("absolute path in a tag document", {TAG_KEY: document(tag_doc("/etc/passwd"))}, ["leaves its folder"]),
    ("backslashes in a tag document", {TAG_KEY: document(tag_doc("..\\..\\x"))}, ["leaves its folder"]),
])
def test_verify_reports_what_a_lying_website_sends(case, routes, words):
    routes = {TAG_KEY: document(tag_doc()), FILE_KEY: answer(BODY), **routes}
    with HostileServer(routes) as server:
        r, wall, rss = verify(server.url, "--json")
        last = assert_clean_failure(r, wall, rss, *words)
    assert last.startswith("VerifyFailed: tool:1"), last
    assert not any("passwd" in p or ".." in p for p in server.paths()), server.paths()


@pytest.mark.parametrize("case, routes, words", [
    ("lying Content-Length", {FILE_KEY: lying_length(len(BODY), BODY[:5])}, ["stopped at 5 of its 20 bytes",
                                                                             "retry budget 4 s"]),
    ("slow drip of a document", {TAG_KEY: drip(2.0)}, ["slower than"]),
    ("slow drip of a file", {FILE_KEY: drip(2.0, announced=len(BODY))}, ["slower than"]),
    ("slow drip of the headers", {TAG_KEY: header_drip(2.0)}, ["no complete answer after 8 s"]),
    ("503 for everything", {}, ["answered 503", "retry budget 4 s"]),
])
def test_a_stalling_or_failing_website_ends_within_the_budget(case, routes, words):
    default = unavailable if case.startswith("503") else None
    base = {} if default else {TAG_KEY: document(tag_doc()), FILE_KEY: answer(BODY)}
    with HostileServer({**base, **routes}, default) as server:
        r, wall, rss = verify(server.url)
        last = assert_clean_failure(r, wall, rss, *words)
    assert last.startswith(("TargetError", "TooSlow")), last


def test_a_website_that_answers_200_with_junk_for_every_key_gives_a_clean_report():
    with HostileServer({}, junk) as server:
        r, wall, rss = verify(server.url, "--json")
        assert_clean_failure(r, wall, rss)
    problems = json.loads(r.stdout)["problems"]
    assert problems == ["df-dist-v1/tool/1: not a tag document",
                        "manifest tool:1: not a manifest or an index"], problems


def _registry(routes: dict, default=None) -> HostileServer:
    return HostileServer({"/v2/": answer(b"{}"), **routes}, default)


def test_a_registry_answering_503_for_everything_ends_within_the_budget():
    with HostileServer({}, unavailable) as server:
        r, wall, rss = verify(f"docker://127.0.0.1:{server.port}/tool?insecure=true")
        last = assert_clean_failure(r, wall, rss, "answered 503", "retry budget 4 s")
    assert last.startswith("TargetError"), last


@pytest.mark.parametrize("case, behaviour, words", [
    ("gzip bomb as a manifest", gzip_bomb(), ["Content-Encoding gzip"]),
    ("endless manifest", endless, ["past the 4 MiB"]),
    ("200 MB manifest", huge(200 * MIB), ["announces 209715200 bytes, past the 4 MiB"]),
    ("redirect to file:", redirect("file:///etc/passwd"), ["not http(s)"]),
    ("redirect loop", redirect("/v2/tool/manifests/1"), ["redirected too often"]),
    ("slow drip", drip(2.0), ["slower than"]),
])
def test_verify_reports_what_a_lying_registry_sends(case, behaviour, words):
    with _registry({"/v2/tool/manifests/1": behaviour}) as server:
        r, wall, rss = verify(f"docker://127.0.0.1:{server.port}/tool?insecure=true", "--json")
        assert_clean_failure(r, wall, rss, *words)
