"""Catalogs users can trust: the name document's order is a function of what is stored, the
same for every concurrent writer, with or without conditional writes; gc shows its grace."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest
from servers import DropConditionalsProxy, run_alba, s3_url
from test_container_static import nix_images

NAME_DOC = r"^/[^/]+/df-dist-v1/[^/]+$"  # GET of a name document (path-style: /BUCKET/KEY)


def tree(root: Path) -> Path:
    for arch in ("amd64", "arm64"):
        (root / "df/linux" / arch).mkdir(parents=True, exist_ok=True)
        (root / "df/linux" / arch / "tool").write_text(f"tool {arch}")
    return root / "df"


def race(url: str, src: Path, tags: list[str]) -> list[subprocess.CompletedProcess]:
    results: list = [None] * len(tags)
    barrier = threading.Barrier(len(tags))

    def one(i: int) -> None:
        barrier.wait()
        results[i] = run_alba("static", "push", "-t", f"tool:{tags[i]}", src, url)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(tags))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def stored_order(moto, bucket: str, tags: list[str]) -> list[str]:
    """The order the stored tag documents give: published, newest first, ties by name."""
    client = moto.client()
    published = {t: json.loads(client.get_object(Bucket=bucket, Key=f"df-dist-v1/tool/{t}")["Body"].read())["published"]
                 for t in tags}
    return sorted(tags, key=lambda t: (published[t], t), reverse=True)


@pytest.fixture
def slow_garage(moto):
    """Garage-like (conditional headers dropped) and name documents read 0.3 s stale."""
    with DropConditionalsProxy(moto.port, delay_reads=NAME_DOC, delay_seconds=0.3) as proxy:
        yield proxy


@pytest.mark.parametrize("store", ["garage-like, stale reads", "honours conditionals"])
@pytest.mark.parametrize("count", [2, 8])
def test_concurrent_publishers_list_every_tag_newest_first(moto, bucket, slow_garage, tmp_path, store, count):
    name, direct = bucket
    url = s3_url(name, slow_garage.port) if store.startswith("garage") else direct
    src = tree(tmp_path)
    assert run_alba("static", "push", "-t", "tool:dev-0", src, url).returncode == 0
    racers = [f"dev-{i}" for i in range(1, count + 1)]
    results = race(url, src, racers)
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    listed = run_alba("static", "ls", "-t", "tool", direct, "--json")
    tags = json.loads(listed.stdout)["tags"]
    assert sorted(tags[:-1]) == sorted(racers) and tags[-1] == "dev-0"  # the older one last
    assert tags == stored_order(moto, name, tags)
    if count == 8:
        r = run_alba("static", "gc", "-t", "tool", "--keep", "8", direct, "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["tags"] == ["dev-0"]
        assert json.loads(run_alba("static", "ls", "-t", "tool", direct, "--json").stdout)["tags"] == tags[:-1]


def test_republish_moves_to_front_and_old_documents_keep_their_order(moto, bucket, tmp_path):
    name, url = bucket
    src = tree(tmp_path)
    client = moto.client()
    legacy = {"flavors": []}  # documents of an earlier alba: no `published`
    for tag in ("b-old", "a-old"):
        client.put_object(Bucket=name, Key=f"df-dist-v1/tool/{tag}", Body=json.dumps(legacy).encode())
    client.put_object(Bucket=name, Key="df-dist-v1/tool", Body=b'{"name":"tool","tags":["b-old","a-old"]}')
    for tag in ("1", "2", "1"):
        assert run_alba("static", "push", "-t", f"tool:{tag}", src, url).returncode == 0
    r = run_alba("static", "ls", "-t", "tool", url)
    assert r.stdout.split() == ["1", "2", "b-old", "a-old"]


def test_container_gc_reports_what_the_grace_keeps(moto, bucket, tmp_path):
    _, url = bucket
    src = nix_images(tmp_path / "docker")
    assert run_alba("container", "push", "-t", "app:1", src, url).returncode == 0
    assert run_alba("container", "rm", "-t", "app:1", url).returncode == 0
    kept = run_alba("container", "gc", "-t", "app", "--keep", "0", url, "--json")
    assert kept.returncode == 0, kept.stderr
    out = json.loads(kept.stdout)
    assert out["deleted_blobs"] == [] and out["kept_young"]["blobs"] > 0 and out["kept_young"]["manifests"] == 3
    assert "younger than the grace period" in kept.stderr
    swept = json.loads(run_alba("container", "gc", "-t", "app", "--keep", "0", "--grace", "0", url, "--json").stdout)
    assert len(swept["deleted_blobs"]) == out["kept_young"]["blobs"] and swept["kept_young"]["blobs"] == 0


def test_static_gc_sweeps_files_no_tag_lists_after_the_grace(moto, bucket, tmp_path):
    name, url = bucket
    src = tree(tmp_path)
    assert run_alba("static", "push", "-t", "tool:1", src, url).returncode == 0
    orphan = "df-dist-v1/tool/2/linux/amd64/tool"  # a push that died before its tag document
    moto.client().put_object(Bucket=name, Key=orphan, Body=b"half")
    kept = json.loads(run_alba("static", "gc", "-t", "tool", "--keep", "5", url, "--json").stdout)
    assert kept["kept_young"] == 1 and orphan not in kept.get("deleted", [])
    swept = json.loads(run_alba("static", "gc", "-t", "tool", "--keep", "5", "--grace", "0s", url, "--json").stdout)
    assert swept["deleted"] == [orphan] and swept["kept_young"] == 0
    assert run_alba("static", "ls", "-t", "tool", url).stdout.split() == ["1"]


@pytest.mark.parametrize("kind", ["static", "container"])
def test_negative_grace_is_refused(kind, bucket):
    _, url = bucket
    r = run_alba(kind, "gc", "-t", "x", "--keep", "1", "--grace", "-1", url)
    assert r.returncode == 2 and "--grace" in r.stderr and "negative" in r.stderr
