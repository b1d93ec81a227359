"""df-dist-v1 publishing against moto's S3 server and local folders."""

from __future__ import annotations

import json
import re
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from servers import alba_env, free_port, run_alba, s3_url, wait_port

GOLDEN = Path(__file__).parents[1] / "golden"


def make_tree(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("->"):
            path.symlink_to(content[2:])
        else:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root


SEED = {
    "df/linux/386/albatros": b"386 binary",
    "df/linux/amd64/albatros": b"amd64 binary",
    "df/linux/arm/albatros": b"arm binary",
    "df/linux/arm64/albatros": b"arm64 binary",
}


def keys(moto, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in moto.client().list_objects_v2(Bucket=bucket).get("Contents", []))


def get(moto, bucket: str, key: str):
    return moto.client().get_object(Bucket=bucket, Key=key)


def test_push_writes_the_seed_layout_and_trace(moto, bucket, tmp_path):
    name, url = bucket
    make_tree(tmp_path, SEED)
    r = run_alba("static", "push", "-t", "albatros:0.9", tmp_path / "df", url)
    assert r.returncode == 0, r.stderr
    lines = r.stderr.splitlines()
    for plat in ("386", "amd64", "arm", "arm64"):
        assert any(l.startswith(f"df/linux/{plat}/albatros -> df-dist-v1/albatros/0.9/linux/{plat}/albatros (") for l in lines)
    assert lines[-5:] == ["tag -> df-dist-v1/albatros/0.9", "manifest -> df-dist-v1/albatros",
                          "page -> df-dist-v1/albatros/index.html", "page -> df-dist-v1/index.html", "✅ push succeeded"]
    assert "\x1b" not in r.stderr and "\r" not in r.stderr  # CI logs: no control characters
    tag_doc = get(moto, name, "df-dist-v1/albatros/0.9")
    assert tag_doc["ContentType"] == "application/json" and tag_doc["CacheControl"] == "no-cache"
    assert_golden_tag_document(tag_doc["Body"].read())
    name_doc = get(moto, name, "df-dist-v1/albatros")
    body = name_doc["Body"].read()  # the original fields' bytes first, then what alba records
    assert body.startswith(b'{"name":"albatros","tags":["0.9"],"published":["')
    assert json.loads(body)["etags"] == [tag_doc["ETag"].strip('"')]
    assert name_doc["ContentType"] == "application/json" and name_doc["CacheControl"] == "no-cache"
    binary = get(moto, name, "df-dist-v1/albatros/0.9/linux/amd64/albatros")
    assert binary["ContentType"] == "application/octet-stream" and binary["Body"].read() == b"amd64 binary"


def assert_golden_tag_document(data: bytes) -> None:
    """The golden bytes, then only alba's optional fields after them (`published`,
    `checksums`, `attachments`: alba's SBOM of each platform): readers of the original
    layout see the same fields in the same order."""
    golden = (GOLDEN / "static_tag_0.9.json").read_bytes().strip()
    assert data.startswith(golden[:-1] + b',"published":"'), data
    doc = json.loads(data)
    assert list(doc) == ["flavors", "published", "checksums", "attachments"]
    assert [a["path"] for a in doc["attachments"]] == [f"_alba/{p}.spdx.json" for p in
                                                      ("linux.386", "linux.amd64", "linux.arm", "linux.arm64")]
    assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z", doc["published"])
    assert doc["checksums"]["path"] == "SHA256SUMS" and doc["checksums"]["digest"].startswith("sha256:")


def test_file_target_matches_golden_bytes(tmp_path):
    make_tree(tmp_path, SEED)
    r = run_alba("static", "push", "-t", "albatros:0.9", "df", "file://./out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out/df-dist-v1/albatros"
    assert_golden_tag_document((out / "0.9/index.json").read_bytes())
    name_doc = json.loads((out / "index.json").read_bytes())
    assert (out / "index.json").read_bytes().startswith(b'{"name":"albatros","tags":["0.9"],"published":["')
    assert name_doc["published"] == [json.loads((out / "0.9/index.json").read_bytes())["published"]]
    assert (out / "0.9/linux/arm/albatros").read_bytes() == b"arm binary"


def test_tags_newest_first_and_republish_moves_to_front(bucket, tmp_path):
    _, url = bucket
    make_tree(tmp_path, SEED)
    for tag in ("0.8", "0.9", "0.8"):
        assert run_alba("static", "push", "-t", f"albatros:{tag}", tmp_path / "df", url).returncode == 0
    r = run_alba("static", "ls", "-t", "albatros", url)
    assert r.stdout.split() == ["0.8", "0.9"]
    r = run_alba("static", "ls", "-t", "albatros", "--json", url)
    assert json.loads(r.stdout)["tags"] == ["0.8", "0.9"]


def test_multiple_tags_publish_the_same_content(moto, bucket, tmp_path):
    name, url = bucket
    make_tree(tmp_path, SEED)
    r = run_alba("static", "push", "-t", "albatros:1.0.0", "-t", "albatros:latest", tmp_path / "df", url, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(get(moto, name, "df-dist-v1/albatros")["Body"].read())["tags"] == ["1.0.0", "latest"]
    a = json.loads(get(moto, name, "df-dist-v1/albatros/1.0.0")["Body"].read())
    b = json.loads(get(moto, name, "df-dist-v1/albatros/latest")["Body"].read())
    assert a["flavors"] == b["flavors"]  # the same content; each tag its own publication time
    assert a["published"] > b["published"]  # the first -t tag counts as the newest
    out = json.loads(r.stdout)
    assert len(out["files"]) == 8 and all(f["digest"].startswith("sha256:") for f in out["files"])


def test_variants_and_nested_files_and_content_types(moto, bucket, tmp_path):
    name, url = bucket
    make_tree(tmp_path, {
        "d/linux/arm/v6/app": b"v6", "d/linux/arm/v7/app": b"v7",
        "d/windows/amd64/app.exe": b"exe", "d/windows/amd64/docs/README.txt": b"read me",
    })
    assert run_alba("static", "push", "-t", "app:1", tmp_path / "d", url).returncode == 0
    doc = json.loads(get(moto, name, "df-dist-v1/app/1")["Body"].read())
    assert [f["platform"] for f in doc["flavors"]] == [
        {"architecture": "arm", "os": "linux", "variant": "v6"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
        {"architecture": "amd64", "os": "windows"},
    ]
    assert [r["path"] for r in doc["flavors"][2]["resources"]] == ["app.exe", "docs/README.txt"]
    assert get(moto, name, "df-dist-v1/app/1/linux/arm/v7/app")["Body"].read() == b"v7"
    assert get(moto, name, "df-dist-v1/app/1/windows/amd64/docs/README.txt")["ContentType"].startswith("text/plain")


def test_dry_run_prints_plan_and_writes_nothing(moto, bucket, tmp_path):
    name, url = bucket
    make_tree(tmp_path, SEED)
    r = run_alba("static", "push", "--dry-run", "-t", "albatros:0.9", tmp_path / "df", url)
    assert r.returncode == 0, r.stderr
    assert "would upload df/linux/386/albatros -> df-dist-v1/albatros/0.9/linux/386/albatros" in r.stderr
    assert "would write manifest -> df-dist-v1/albatros" in r.stderr
    assert keys(moto, name) == []


BAD_INPUTS = [
    # (case, files, argv tail builder, expected fragment of the last stderr line)
    ("missing SRC_DIR", {}, lambda d, u: ["-t", "a:1", d / "nope", u], "does not exist"),
    ("empty SRC_DIR", {"df/": None}, lambda d, u: ["-t", "a:1", d / "df", u], "is empty"),
    ("arch without os (the seed's df/arm64)", {"df/linux/amd64/a": b"x", "df/arm64/albatros": b"x"},
     lambda d, u: ["-t", "a:1", d / "df", u], "df/arm64: 'arm64' is an architecture where an os folder was expected"),
    ("unknown os", {"df/linus/amd64/a": b"x"}, lambda d, u: ["-t", "a:1", d / "df", u], "did you mean 'linux'"),
    ("unknown arch", {"df/linux/x86_64/a": b"x"}, lambda d, u: ["-t", "a:1", d / "df", u], "'x86_64' is not a known architecture"),
    ("file at os level", {"df/README": b"x"}, lambda d, u: ["-t", "a:1", d / "df", u], "df/README is a file where an <os> folder"),
    ("empty platform", {"df/linux/amd64/": None}, lambda d, u: ["-t", "a:1", d / "df", u], "df/linux/amd64 is empty"),
    ("symlink out of SRC_DIR", {"df/linux/amd64/a": "->/etc/hostname"}, lambda d, u: ["-t", "a:1", d / "df", u],
     "is a link leading out of SRC_DIR"),
    ("invalid name", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "Albatros:1", d / "df", u], "'Albatros': not a valid name"),
    ("invalid tag", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a:-1", d / "df", u], "tag '-1': not a valid tag"),
    ("missing tag", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a", d / "df", u], "has no tag"),
    ("two names", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a:1", "-t", "b:1", d / "df", u], "names several images"),
    ("malformed URL", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a:1", d / "df", "s3:/bucket"], "is not a URL alba knows"),
    ("unknown query key", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a:1", d / "df", u + "&endpiont=x"],
     "unknown query key 'endpiont'"),
    ("bad boolean", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a:1", d / "df", u.replace("disableSSL=true", "disableSSL=maybe")],
     "disableSSL='maybe' is not a boolean"),
    ("file URL with host", {"df/linux/amd64/a": b"x"}, lambda d, u: ["-t", "a:1", d / "df", "file://out"], "would be read as a host name"),
]


@pytest.mark.parametrize("case,files,argv,expected", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_fails_clearly_and_writes_nothing(moto, bucket, tmp_path, case, files, argv, expected):
    name, url = bucket
    for rel, content in files.items():
        if content is None:
            (tmp_path / rel).mkdir(parents=True, exist_ok=True)
        else:
            make_tree(tmp_path, {rel: content})
    r = run_alba("static", "push", *argv(tmp_path, url))
    assert r.returncode != 0
    last = r.stderr.strip().splitlines()[-1]
    assert expected in last, r.stderr
    assert " — " in last  # every error carries its fix
    assert "Traceback" not in r.stderr
    assert keys(moto, name) == []


def test_missing_bucket(moto, aws_env, tmp_path):
    make_tree(tmp_path, SEED)
    r = run_alba("static", "push", "-t", "a:1", tmp_path / "df", s3_url("no-such-bucket", moto.port))
    assert r.returncode != 0
    assert "bucket 'no-such-bucket' does not exist" in r.stderr.splitlines()[-1]


def test_wrong_credentials_never_print_the_secret(tmp_path):
    """A moto server with authentication on refuses unknown keys."""
    port = free_port()
    env = alba_env(INITIAL_NO_AUTH_ACTION_COUNT="0")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, server)
        make_tree(tmp_path, SEED)
        secret = "wrong-secret-Xy7Qp2"
        env = alba_env(AWS_ACCESS_KEY_ID="AKIAWRONGWRONG", AWS_SECRET_ACCESS_KEY=secret)
        r = run_alba("static", "push", "-t", "a:1", tmp_path / "df", s3_url("bkt", port), env=env)
        assert r.returncode != 0
        assert "refused the credentials" in r.stderr.splitlines()[-1]
        assert secret not in r.stderr + r.stdout
    finally:
        server.terminate()
        server.wait()


@pytest.mark.parametrize("mode", ["refused", "silent"])
def test_endpoint_that_does_not_answer_fails_fast(aws_env, tmp_path, mode):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    if mode == "silent":
        listener.listen(16)  # accepts connections, never answers
    port = listener.getsockname()[1]
    if mode == "refused":
        listener.close()
    make_tree(tmp_path, SEED)
    start = time.monotonic()
    r = run_alba("static", "push", "-t", "a:1", tmp_path / "df", s3_url("bkt", port))
    elapsed = time.monotonic() - start
    listener.close()
    assert r.returncode != 0
    assert "does not answer" in r.stderr.splitlines()[-1]
    assert elapsed < 25


def test_rm_removes_list_entry_then_objects(moto, bucket, tmp_path):
    name, url = bucket
    make_tree(tmp_path, SEED)
    for tag in ("0.8", "0.9"):
        assert run_alba("static", "push", "-t", f"albatros:{tag}", tmp_path / "df", url).returncode == 0
    r = run_alba("static", "rm", "--dry-run", "-t", "albatros:0.8", url)
    assert "would delete df-dist-v1/albatros/0.8/linux/386/albatros" in r.stderr
    assert any(k.startswith("df-dist-v1/albatros/0.8") for k in keys(moto, name))
    r = run_alba("static", "rm", "-t", "albatros:0.8", url)
    assert r.returncode == 0, r.stderr
    assert not any(k.startswith("df-dist-v1/albatros/0.8") for k in keys(moto, name))
    assert json.loads(get(moto, name, "df-dist-v1/albatros")["Body"].read())["tags"] == ["0.9"]
    r = run_alba("static", "rm", "-t", "albatros:0.7", url)
    assert r.returncode != 0 and "no such tag" in r.stderr


@pytest.mark.parametrize("include_releases,expected", [
    (False, ["dev-4", "dev-3", "1.0.0", "0.9.0"]),
    (True, ["dev-4", "dev-3"]),
])
def test_gc_keeps_newest_and_releases(moto, bucket, tmp_path, include_releases, expected):
    name, url = bucket
    make_tree(tmp_path, {"df/linux/amd64/a": b"x"})
    for tag in ("0.9.0", "dev-1", "1.0.0", "dev-2", "dev-3", "dev-4"):
        assert run_alba("static", "push", "-t", f"a:{tag}", tmp_path / "df", url).returncode == 0
    extra = ["--include-releases"] if include_releases else []
    r = run_alba("static", "gc", "-t", "a", "--keep", "2", *extra, url, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(get(moto, name, "df-dist-v1/a")["Body"].read())["tags"] == expected
    left = {k.split("/")[2] for k in keys(moto, name) if k.count("/") >= 2 and not k.endswith("index.html")}
    assert left == set(expected)


def _concurrent_pushes(url: str, tmp_path: Path, count: int) -> list[subprocess.CompletedProcess]:
    make_tree(tmp_path, SEED)
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def one(i: int) -> None:
        barrier.wait()
        results[i] = run_alba("static", "push", "-t", f"albatros:c{i}", tmp_path / "df", url)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_concurrent_pushes_all_listed_with_conditional_writes(moto, bucket, tmp_path):
    name, url = bucket
    results = _concurrent_pushes(url, tmp_path, 4)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    tags = json.loads(get(moto, name, "df-dist-v1/albatros")["Body"].read())["tags"]
    assert sorted(tags) == ["c0", "c1", "c2", "c3"]


def test_concurrent_pushes_converge_when_conditionals_are_ignored(moto, bucket, garage_like, tmp_path):
    """Garage 1.2 ignores If-Match/If-None-Match: the proxy drops them, the list must still converge."""
    name, _ = bucket
    url = s3_url(name, garage_like.port)
    results = _concurrent_pushes(url, tmp_path, 4)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    tags = json.loads(get(moto, name, "df-dist-v1/albatros")["Body"].read())["tags"]
    assert sorted(tags) == ["c0", "c1", "c2", "c3"]


def test_large_file_goes_multipart_and_streams(moto, bucket, tmp_path):
    name, url = bucket
    big = tmp_path / "df/linux/amd64/big.bin"
    big.parent.mkdir(parents=True)
    with open(big, "wb") as f:
        for i in range(140):
            f.write(os.urandom(1024 * 1024))
    r = run_alba("static", "push", "-t", "big:1", tmp_path / "df", url, env=alba_env(ALBA_MULTIPART_THRESHOLD="128M"))
    assert r.returncode == 0, r.stderr
    head = moto.client().head_object(Bucket=name, Key="df-dist-v1/big/1/linux/amd64/big.bin")
    assert head["ContentLength"] == 140 * 1024 * 1024
    assert head["ETag"].strip('"').endswith("-9")  # nine 16 MiB parts: s3transfer's multipart path above 128 MiB


def test_the_garage_like_proxy_really_ignores_conditional_writes(moto, bucket, garage_like):
    """Guard for the test above: through the proxy, If-None-Match no longer stops an overwrite."""
    import boto3
    from botocore.config import Config

    name, _ = bucket
    direct = moto.client()
    direct.put_object(Bucket=name, Key="k", Body=b"1")
    with pytest.raises(direct.exceptions.ClientError):
        direct.put_object(Bucket=name, Key="k", Body=b"2", IfNoneMatch="*")
    proxied = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{garage_like.port}", region_name="us-east-1",
                           config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required"))
    proxied.put_object(Bucket=name, Key="k", Body=b"3", IfNoneMatch="*")
    assert direct.get_object(Bucket=name, Key="k")["Body"].read() == b"3"


def test_concurrent_pushes_converge_on_a_folder(tmp_path):
    """A folder honours conditional writes (under a lock on the folder): 6 writers, all listed."""
    results = _concurrent_pushes(f"file://{tmp_path / 'out'}", tmp_path, 6)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    doc = json.loads((tmp_path / "out/df-dist-v1/albatros/index.json").read_text())
    assert sorted(doc["tags"]) == [f"c{i}" for i in range(6)]
    assert not [p for p in (tmp_path / "out").rglob("*") if p.name.startswith(".alba")]  # nothing left beside


def test_folder_store_honours_conditional_writes(tmp_path):
    from alba_action.errors import ConflictError
    from alba_action.targets.base import Body
    from alba_action.targets.stores.converge import probe_conditionals
    from alba_action.targets.stores.folder import LocalDirStore
    from alba_action.targets.url import parse_target

    store = LocalDirStore(parse_target(f"file://{tmp_path / 'out'}"))
    store.put("a/doc", Body(data=b"1"), "application/json", if_none_match=True)
    first = store.head("a/doc").etag
    with pytest.raises(ConflictError):
        store.put("a/doc", Body(data=b"2"), "application/json", if_none_match=True)
    store.put("a/doc", Body(data=b"2"), "application/json", if_match=first)
    with pytest.raises(ConflictError):  # same size, same second: the ETag still changed
        store.put("a/doc", Body(data=b"3"), "application/json", if_match=first)
    with pytest.raises(ConflictError):
        store.put("a/missing", Body(data=b"3"), "application/json", if_match=first)
    assert store.get("a/doc")[0] == b"2"
    assert probe_conditionals(store, "a/doc", b"2") == "honoured"


def test_store_that_rejects_conditional_headers_still_publishes(moto, bucket, tmp_path):
    """Some S3-compatible stores answer 501 to If-Match / If-None-Match: alba then sends none."""
    from servers import DropConditionalsProxy

    name, _ = bucket
    with DropConditionalsProxy(moto.port, reject=True) as proxy:
        url = s3_url(name, proxy.port)
        make_tree(tmp_path, SEED)
        for tag in ("0.8", "0.9"):
            r = run_alba("static", "push", "-t", f"albatros:{tag}", tmp_path / "df", url)
            assert r.returncode == 0, r.stderr
    assert json.loads(get(moto, name, "df-dist-v1/albatros")["Body"].read())["tags"] == ["0.9", "0.8"]


def test_republishing_the_same_tag_skips_unchanged_files(moto, bucket, tmp_path):
    name, url = bucket
    make_tree(tmp_path, SEED)
    assert run_alba("static", "push", "-t", "albatros:0.9", tmp_path / "df", url).returncode == 0
    (tmp_path / "df/linux/arm/albatros").write_bytes(b"arm binary, rebuilt")
    moto.client().delete_object(Bucket=name, Key="df-dist-v1/albatros/0.9/linux/386/albatros")
    r = run_alba("static", "push", "-t", "albatros:0.9", tmp_path / "df", url, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    # amd64 and arm64 are as published; arm changed; 386 went missing at the target.
    assert sorted(out["unchanged"]) == ["df-dist-v1/albatros/0.9/linux/amd64/albatros",
                                        "df-dist-v1/albatros/0.9/linux/arm64/albatros"]
    assert "df/linux/amd64/albatros -> df-dist-v1/albatros/0.9/linux/amd64/albatros unchanged" in r.stderr
    assert get(moto, name, "df-dist-v1/albatros/0.9/linux/arm/albatros")["Body"].read() == b"arm binary, rebuilt"
    assert get(moto, name, "df-dist-v1/albatros/0.9/linux/386/albatros")["Body"].read() == b"386 binary"
