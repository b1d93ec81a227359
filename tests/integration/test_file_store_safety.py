"""A file:// store never makes alba touch anything outside it: symbolic links inside the
store are refused (never followed) for deletes, writes and reads, and a corrupt name or
tag document (`../` tags or paths, absolute paths) is reported, never acted on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from servers import run_alba

LAST_LINE = re.compile(r"^[A-Z][A-Za-z]+: .+ — .+$")


def _tree(root: Path) -> Path:
    (root / "df/linux/amd64").mkdir(parents=True)
    (root / "df/linux/amd64/tool").write_text("#!/bin/sh\necho tool\n")
    return root / "df"


def _outside(tmp_path: Path) -> Path:
    """Files outside the store that nothing may touch."""
    out = tmp_path / "precious"
    (out / "linux/amd64").mkdir(parents=True)
    (out / "linux/amd64/tool").write_text("precious\n")
    (out / "keep.txt").write_text("precious\n")
    return out


def _published(tmp_path: Path, *tags: str) -> Path:
    store = tmp_path / "store"
    for tag in tags:
        r = run_alba("static", "push", "-t", f"tool:{tag}", "--no-page", _tree(tmp_path / f"src-{tag}"),
                     f"file://{store}")
        assert r.returncode == 0, r.stderr
    return store


def _clean_failure(r, *words: str) -> None:
    assert r.returncode != 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    last = r.stderr.strip().splitlines()[-1]
    assert LAST_LINE.match(last), last
    for word in words:
        assert word in last, last


def _untouched(outside: Path) -> None:
    assert (outside / "linux/amd64/tool").read_text() == "precious\n"
    assert (outside / "keep.txt").read_text() == "precious\n"


def test_rm_of_a_tag_whose_folder_is_a_symlink_deletes_nothing_outside(tmp_path):
    store = _published(tmp_path, "1", "2")
    outside = _outside(tmp_path)
    folder = store / "df-dist-v1/tool/1"
    doc = (folder / "index.json").read_bytes()
    for p in sorted(folder.rglob("*"), reverse=True):
        p.unlink() if p.is_file() else p.rmdir()
    folder.rmdir()
    folder.symlink_to(outside)
    (outside / "index.json").write_bytes(doc)
    r = run_alba("static", "rm", "-t", "tool:1", f"file://{store}")
    _clean_failure(r, "TargetError", "symbolic link df-dist-v1/tool/1")
    _untouched(outside)
    assert (outside / "index.json").exists()


def test_gc_through_a_symlinked_file_leaves_its_target_alone(tmp_path):
    store = _published(tmp_path, "1", "2", "3")
    outside = _outside(tmp_path)
    victim = store / "df-dist-v1/tool/1/linux/amd64/tool"
    victim.unlink()
    victim.symlink_to(outside / "linux/amd64/tool")
    r = run_alba("static", "gc", "-t", "tool", "--keep", "1", "--grace", "0", f"file://{store}")
    _clean_failure(r, "symbolic link df-dist-v1/tool/1/linux/amd64/tool")
    _untouched(outside)


def test_a_push_never_writes_through_a_symlink(tmp_path):
    store = _published(tmp_path, "1")
    outside = _outside(tmp_path)
    (store / "df-dist-v1/tool/2").symlink_to(outside)
    r = run_alba("static", "push", "-t", "tool:2", "--no-page", _tree(tmp_path / "again"), f"file://{store}")
    _clean_failure(r, "symbolic link df-dist-v1/tool/2")
    _untouched(outside)
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt", "linux"]


def test_verify_refuses_to_read_through_a_symlink(tmp_path):
    store = _published(tmp_path, "1")
    outside = _outside(tmp_path)
    f = store / "df-dist-v1/tool/1/linux/amd64/tool"
    f.unlink()
    f.symlink_to(outside / "linux/amd64/tool")
    r = run_alba("verify", "-t", "tool:1", f"file://{store}")
    _clean_failure(r, "symbolic link df-dist-v1/tool/1/linux/amd64/tool")


@pytest.mark.parametrize("bad", ["../../../precious", "/etc", "..", "a/../../b"])
@pytest.mark.parametrize("command", [["gc", "-t", "tool", "--keep", "0", "--include-releases", "--grace", "0"],
                                     ["page", "-t", "tool"]])
def test_a_corrupt_name_document_is_reported_and_never_acted_on(tmp_path, bad, command):
    store = _published(tmp_path, "1", "2")
    outside = _outside(tmp_path)
    name_doc = store / "df-dist-v1/tool/index.json"
    name_doc.write_text(json.dumps({"name": "tool", "tags": [bad, "2", "1"]}))
    before = sorted(p.relative_to(store).as_posix() for p in store.rglob("*"))
    r = run_alba("static", *command, f"file://{store}")
    _clean_failure(r, "TargetError", "which is not a tag", "delete df-dist-v1/tool")
    _untouched(outside)
    assert sorted(p.relative_to(store).as_posix() for p in store.rglob("*")) == before


@pytest.mark.parametrize("path", ["../../../../precious/keep.txt", "/etc/passwd", "..\\..\\keep.txt", "a//b", "./x"])
def test_verify_reports_a_tag_document_path_that_leaves_its_folder(tmp_path, path):
    store = _published(tmp_path, "1")
    doc_file = store / "df-dist-v1/tool/1/index.json"
    doc = json.loads(doc_file.read_text())
    doc["flavors"][0]["resources"][0]["path"] = path
    doc_file.write_text(json.dumps(doc))
    r = run_alba("verify", "-t", "tool:1", f"file://{store}", "--json")
    _clean_failure(r, "VerifyFailed")
    problems = json.loads(r.stdout)["problems"]
    assert any(f"{path!r} leaves its folder; not fetched" in p for p in problems), problems


def test_verify_reports_a_platform_that_leaves_its_folder(tmp_path):
    store = _published(tmp_path, "1")
    doc_file = store / "df-dist-v1/tool/1/index.json"
    doc = json.loads(doc_file.read_text())
    doc["flavors"][0]["platform"]["os"] = "../../.."
    doc_file.write_text(json.dumps(doc))
    r = run_alba("verify", "-t", "tool:1", f"file://{store}", "--json")
    _clean_failure(r, "VerifyFailed")
    assert any("platform is not os/arch" in p for p in json.loads(r.stdout)["problems"])
