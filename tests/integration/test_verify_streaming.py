"""`alba verify` streams: files at several depths, signed with minisign, verified from a
folder, a bucket and a website where the push wrote their signatures; a large file is
hashed as it arrives (peak RSS bounded, measured with /usr/bin/time -v)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hostile import HostileServer
from servers import alba_env, run_alba

FILES = {"linux/amd64/tool": b"tool\n" * 40, "linux/amd64/share/man/man1/hello.1": b".TH HELLO 1\n",
         "linux/amd64/share/doc/README": b"read me\n", "linux/arm64/tool": b"arm tool\n" * 30,
         "linux/arm64/a/b/c/d/deep.txt": b"deep\n"}


@pytest.fixture(scope="module")
def minisign_keys(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("minisign")
    subprocess.run([shutil.which("minisign"), "-G", "-W", "-p", d / "m.pub", "-s", d / "m.key", "-f"], check=True,
                   capture_output=True)
    return d


def _push(src: Path, target: str, keys: Path, files: dict[str, bytes] = FILES, tag: str = "1") -> None:
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    r = run_alba("static", "push", "-t", f"tool:{tag}", "--minisign-key", keys / "m.key", "--no-page",
                 "--no-platform-check", src, target)
    assert r.returncode == 0, r.stderr


def _folder_website(root: Path) -> HostileServer:
    """The folder served as a website: `<key>/index.json` for documents, 404 elsewhere."""
    def serve(h, s):
        path = root / h.path.lstrip("/")
        path = path / "index.json" if path.is_dir() else path
        if not path.is_file():
            h.send_response(404)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.send_response(200)
        h.send_header("Content-Length", str(path.stat().st_size))
        h.end_headers()
        with open(path, "rb") as f:
            shutil.copyfileobj(f, h.wfile, 1 << 20)
    return HostileServer({}, serve)


def _verify(source: str, keys: Path) -> tuple[int, list[str], str]:
    r = run_alba("verify", "-t", "tool:1", source, "--key", keys / "m.pub", "--json")
    return r.returncode, json.loads(r.stdout)["problems"] if r.stdout else [], r.stderr


def test_signatures_of_files_in_sub_folders_are_found_where_the_push_wrote_them(tmp_path, minisign_keys, bucket):
    store = tmp_path / "store"
    _push(tmp_path / "src", f"file://{store}", minisign_keys)
    _push(tmp_path / "src", bucket[1], minisign_keys)
    base = store / "df-dist-v1/tool/1"
    for rel in FILES:
        assert (base / f"{rel}.minisig").is_file(), rel
    with _folder_website(store) as site:
        for source in (f"file://{store}", bucket[1], site.url):
            code, problems, stderr = _verify(source, minisign_keys)
            assert (code, problems) == (0, []), (source, stderr)
            assert "5 files, 0 manifests, 0 blobs, 6 signatures checked" in stderr, stderr


def test_a_tampered_deep_file_is_named(tmp_path, minisign_keys):
    store = tmp_path / "store"
    _push(tmp_path / "src", f"file://{store}", minisign_keys)
    deep = store / "df-dist-v1/tool/1/linux/arm64/a/b/c/d/deep.txt"
    deep.write_bytes(b"DEEP\n")
    code, problems, _ = _verify(f"file://{store}", minisign_keys)
    assert code == 1
    assert any("a/b/c/d/deep.txt: sha256 differs" in p for p in problems), problems
    assert any("a/b/c/d/deep.txt.minisig: does not verify" in p for p in problems), problems


def test_a_large_file_is_hashed_as_it_arrives(tmp_path, minisign_keys):
    """256 MiB from a website: peak RSS stays far below the file's size."""
    big = tmp_path / "src/linux/amd64/big.bin"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as f:
        f.truncate(256 << 20)
    store = tmp_path / "store"
    _push(tmp_path / "src", f"file://{store}", minisign_keys, files={})
    with _folder_website(store) as site:
        r = subprocess.run(["/usr/bin/time", "-v", sys.executable, "-m", "alba_action", "verify", "-t", "tool:1",
                            site.url, "--key", minisign_keys / "m.pub"], env=alba_env(), capture_output=True,
                           text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    assert rss_kib < 120 * 1024, f"peak RSS {rss_kib} KiB for a 256 MiB file"
