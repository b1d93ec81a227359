"""alba_action.static.plan and .checksums: df-dist-v1 keys, tag and name documents,
publication times, SHA256SUMS lines and the objects written beside the files."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from alba_action.errors import InputError
from alba_action.platforms import Platform
from alba_action.static.checksums import CHECKSUMS, TEXT, check_signable, checksums_text, extras
from alba_action.static.plan import (
    dumps, file_key, iso_micro, name_document, name_key, publication_times, published_files, published_of,
    tag_document, tag_key, tag_of, uploads,
)
from alba_action.static.scan import PlatformFolder, Resource

DA, DB, DC = ("sha256:" + c * 64 for c in "abc")


def res(path: str, size: int = 1, digest: str = DA, root: Path = Path("/src")) -> Resource:
    return Resource(path, root / path, size, digest)


AMD64 = PlatformFolder(Platform("linux", "amd64"), Path("/src/linux/amd64"),
                       (res("albatros", 12, DA), res("doc/README", 3, DB)))
ARMV7 = PlatformFolder(Platform("linux", "arm", "v7"), Path("/src/linux/arm/v7"), (res("albatros", 10, DC),))
WIN = PlatformFolder(Platform("windows", "amd64"), Path("/src/windows/amd64"), (res("albatros.exe", 7, DB),))


# -- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "got, expected",
    [
        pytest.param(name_key("albatros"), "df-dist-v1/albatros", id="name"),
        pytest.param(tag_key("albatros", "0.9"), "df-dist-v1/albatros/0.9", id="tag"),
        pytest.param(file_key("albatros", "0.9", AMD64, "albatros"), "df-dist-v1/albatros/0.9/linux/amd64/albatros",
                     id="file"),
        pytest.param(file_key("albatros", "0.9", ARMV7, "albatros"), "df-dist-v1/albatros/0.9/linux/arm/v7/albatros",
                     id="file-variant"),
        pytest.param(file_key("a", "1", AMD64, "doc/README"), "df-dist-v1/a/1/linux/amd64/doc/README", id="file-nested"),
    ],
)
def test_keys(got: str, expected: str) -> None:
    assert got == expected


@pytest.mark.parametrize(
    "key, expected",
    [
        pytest.param("df-dist-v1/a/1", "1", id="tag-document"),
        pytest.param("df-dist-v1/a/latest", "latest", id="tag-latest"),
        pytest.param("df-dist-v1/a/1/linux", None, id="below-a-tag"),
        pytest.param("df-dist-v1/a/index.html", None, id="download-page"),
        pytest.param("df-dist-v1/ab/1", None, id="other-name-same-prefix"),
        pytest.param("df-dist-v1/a", None, id="name-document"),
        pytest.param("x/df-dist-v1/a/1", None, id="under-a-prefix"),
        pytest.param("df-dist-v1/a/", "", id="folder-marker-gives-empty-tag"),
    ],
)
def test_tag_of(key: str, expected) -> None:
    assert tag_of(key, "a") == expected


# -- documents --------------------------------------------------------------------------------


def test_tag_document_bytes_original_layout() -> None:
    assert dumps(tag_document([AMD64, ARMV7])) == (
        '{"flavors":[{"resources":[{"path":"albatros","size":12,"digest":"' + DA + '"},'
        '{"path":"doc/README","size":3,"digest":"' + DB + '"}],"platform":{"architecture":"amd64","os":"linux"}},'
        '{"resources":[{"path":"albatros","size":10,"digest":"' + DC + '"}],'
        '"platform":{"architecture":"arm","os":"linux","variant":"v7"}}]}'
    ).encode()


def test_tag_document_optional_fields_come_after_flavors() -> None:
    doc = tag_document([ARMV7], published="2026-12-03T02:13:28.123456Z",
                       extra={"checksums": {"path": CHECKSUMS}}, signed=True)
    assert list(doc) == ["flavors", "published", "checksums"]
    assert doc["flavors"][0]["resources"] == [
        {"path": "albatros", "size": 10, "digest": DC, "signature": "albatros.minisig"}]


@pytest.mark.parametrize(
    "kwargs, keys",
    [
        pytest.param({}, ["flavors"], id="plain"),
        pytest.param({"published": ""}, ["flavors"], id="empty-published-left-out"),
        pytest.param({"published": None, "extra": {"attachments": []}}, ["flavors", "attachments"], id="extra-only"),
    ],
)
def test_tag_document_fields(kwargs, keys) -> None:
    assert list(tag_document([AMD64], **kwargs)) == keys


def test_signed_nested_resource_signature_is_beside_it() -> None:
    resources = tag_document([AMD64], signed=True)["flavors"][0]["resources"]
    assert [r["signature"] for r in resources] == ["albatros.minisig", "doc/README.minisig"]


@pytest.mark.parametrize(
    "name, tags, expected",
    [
        pytest.param("albatros", ["0.9", "0.8"], b'{"name":"albatros","tags":["0.9","0.8"]}', id="two"),
        pytest.param("a", [], b'{"name":"a","tags":[]}', id="empty"),
    ],
)
def test_name_document(name: str, tags, expected: bytes) -> None:
    assert dumps(name_document(name, tags)) == expected


# -- publication times ------------------------------------------------------------------------


def test_publication_times_count_down_in_microseconds() -> None:
    now = datetime(2026, 12, 3, 2, 13, 28, tzinfo=timezone.utc)
    assert publication_times(["1.0", "latest", "x"], now) == {
        "1.0": "2026-12-03T02:13:28.000000Z",
        "latest": "2026-12-03T02:13:27.999999Z",
        "x": "2026-12-03T02:13:27.999998Z",
    }


def test_publication_times_in_utc() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    assert publication_times(["a"], now) == {"a": "2025-12-31T22:00:00.000000Z"}


@pytest.mark.parametrize(
    "moment, expected",
    [
        pytest.param(datetime(2026, 1, 1, tzinfo=timezone.utc), "2026-01-01T00:00:00.000000Z", id="midnight"),
        pytest.param(datetime(2026, 12, 3, 2, 13, 28, 123456, tzinfo=timezone.utc), "2026-12-03T02:13:28.123456Z",
                     id="micro"),
        pytest.param(datetime(2026, 6, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=-5))),
                     "2026-06-01T17:00:00.000005Z", id="offset"),
    ],
)
def test_iso_micro_is_fixed_width(moment: datetime, expected: str) -> None:
    assert iso_micro(moment) == expected
    assert len(iso_micro(moment)) == 27


@pytest.mark.parametrize(
    "doc, expected",
    [
        pytest.param(b'{"published":"2026-12-03T02:13:28.123456Z"}', "2026-12-03T02:13:28.123456Z", id="dated"),
        pytest.param(b"{}", None, id="absent"),
        pytest.param(b"not json", None, id="not-json"),
        pytest.param(b"[1]", None, id="a-list"),
        pytest.param(b"null", None, id="null"),
        pytest.param(b'"x"', None, id="a-string"),
        pytest.param(b'{"published":"2026-12-03T02:13:28Z"}', None, id="no-microseconds"),
        pytest.param(b'{"published":"2026-12-03T02:13:28.123456+00"}', None, id="no-Z"),
        pytest.param(b'{"published":5}', None, id="a-number"),
    ],
)
def test_published_of(doc: bytes, expected) -> None:
    assert published_of(doc) == expected


# -- reading an existing tag document ---------------------------------------------------------


def test_published_files_round_trip() -> None:
    assert published_files(dumps(tag_document([AMD64, ARMV7]))) == {
        ("linux/amd64", "albatros"): (12, DA),
        ("linux/amd64", "doc/README"): (3, DB),
        ("linux/arm/v7", "albatros"): (10, DC),
    }


@pytest.mark.parametrize(
    "doc, expected",
    [
        pytest.param(b"x", {}, id="not-json"),
        pytest.param(b'{"flavors":[{"platform":{}}]}', {}, id="broken-flavor"),
        pytest.param(b'{"flavors":[{"platform":{"os":"linux","architecture":"amd64"},"resources":[{"path":"a"}]}]}',
                     {("linux/amd64", "a"): (None, None)}, id="original-layout-no-size"),
        pytest.param(b'{"name":"a"}', {}, id="no-flavors"),
        pytest.param(b"[]", {}, id="a-list"),
    ],
)
def test_published_files_tolerates(doc: bytes, expected) -> None:
    assert published_files(doc) == expected


def test_uploads_every_tag_every_file_in_order() -> None:
    plan = uploads("a", ["1", "2"], [AMD64, ARMV7])
    assert [(u.tag, u.key, u.size, u.digest, u.source, u.path) for u in plan] == [
        ("1", "df-dist-v1/a/1/linux/amd64/albatros", 12, DA, "/src/albatros", "albatros"),
        ("1", "df-dist-v1/a/1/linux/amd64/doc/README", 3, DB, "/src/doc/README", "doc/README"),
        ("1", "df-dist-v1/a/1/linux/arm/v7/albatros", 10, DC, "/src/albatros", "albatros"),
        ("2", "df-dist-v1/a/2/linux/amd64/albatros", 12, DA, "/src/albatros", "albatros"),
        ("2", "df-dist-v1/a/2/linux/amd64/doc/README", 3, DB, "/src/doc/README", "doc/README"),
        ("2", "df-dist-v1/a/2/linux/arm/v7/albatros", 10, DC, "/src/albatros", "albatros"),
    ]
    assert plan[2].flavor is ARMV7


# -- SHA256SUMS -------------------------------------------------------------------------------


def test_checksums_lines_as_sha256sum_prints_them() -> None:
    assert checksums_text([AMD64, ARMV7]) == (
        f"{'a' * 64}  linux/amd64/albatros\n{'b' * 64}  linux/amd64/doc/README\n{'c' * 64}  linux/arm/v7/albatros\n"
    ).encode()


def test_checksums_lines_are_sorted_as_whole_lines() -> None:
    # Today the lines sort as text, so by digest first (not by path).
    folder = PlatformFolder(Platform("linux", "amd64"), Path("/s"), (res("a", 1, DC), res("b", 1, DA)))
    assert checksums_text([folder]) == f"{'a' * 64}  linux/amd64/b\n{'c' * 64}  linux/amd64/a\n".encode()
    assert checksums_text([WIN, AMD64]) == checksums_text([AMD64, WIN])


def test_checksums_of_nothing_is_one_newline() -> None:
    assert checksums_text([]) == b"\n"


def test_extras_unsigned() -> None:
    objects, fields = extras("a", "1", [AMD64], None)
    text = checksums_text([AMD64])
    assert [(o.key, o.data, o.content_type) for o in objects] == [("df-dist-v1/a/1/SHA256SUMS", text, TEXT)]
    assert TEXT == "text/plain; charset=utf-8"
    assert fields == {"checksums": {"path": "SHA256SUMS", "size": len(text),
                                    "digest": "sha256:" + hashlib.sha256(text).hexdigest()}}
    assert json.dumps(fields["checksums"]["size"]) == "176"


class FakeSigner:
    """Stands in for MinisignSigner: records what it signs, returns readable bytes."""

    def sign(self, data, trusted_comment: str) -> bytes:
        body = data if isinstance(data, bytes) else data.read()
        return f"SIG[{trusted_comment}]".encode() + hashlib.sha256(body).hexdigest()[:8].encode()


def test_extras_signed_keys_and_trusted_comments(tmp_path: Path) -> None:
    (tmp_path / "albatros").write_bytes(b"binary")
    folder = PlatformFolder(Platform("linux", "arm", "v7"), tmp_path, (res("albatros", 6, DA, tmp_path),))
    objects, fields = extras("app", "0.9", [folder], FakeSigner())
    assert [o.key for o in objects] == [
        "df-dist-v1/app/0.9/SHA256SUMS",
        "df-dist-v1/app/0.9/SHA256SUMS.minisig",
        "df-dist-v1/app/0.9/linux/arm/v7/albatros.minisig",
    ]
    assert objects[1].data.startswith(b"SIG[name:app tag:0.9 file:SHA256SUMS]")
    assert objects[2].data == (b"SIG[name:app tag:0.9 platform:linux/arm/v7 file:albatros]"
                               + hashlib.sha256(b"binary").hexdigest()[:8].encode())
    assert fields["checksums"]["signature"] == "SHA256SUMS.minisig"


@pytest.mark.parametrize(
    "path, ok",
    [
        pytest.param("albatros", True, id="plain"),
        pytest.param("albatros.minisig.txt", True, id="minisig-inside-name"),
        pytest.param("albatros.minisig", False, id="minisig-suffix"),
        pytest.param("doc/x.minisig", False, id="nested-minisig"),
    ],
)
def test_check_signable(path: str, ok: bool) -> None:
    folder = PlatformFolder(Platform("linux", "amd64"), Path("/s"), (res(path),))
    if ok:
        assert check_signable([folder]) is None
    else:
        with pytest.raises(InputError) as err:
            check_signable([folder])
        assert err.value.message.startswith(f"linux/amd64/{path}: a file named *.minisig cannot be signed")
        assert "publish without --minisign-key" in err.value.fix
