"""SBOMs alba makes: Nix store paths split as parseDrvName does, read from Nix-style archives
(gzip, zstd and plain layers); Debian/Alpine databases; whiteouts; static releases; SPDX 2.3
and CycloneDX 1.5 documents checked entry by entry and against their schemas."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from imagefixtures import make_layer_tar, write_nix_archive

from alba_action.attest import packages as pk, plan as attest_plan, sbom_make
from alba_action.attest.layer_contents import LayerContents, image_contents, read_layer, stack
from alba_action.attest.sbom import Sbom
from alba_action.errors import InputError
from alba_action.images.load import load_images
from alba_action.platforms import Platform
from alba_action.context.model import Context
from alba_action.request import ImageOptions, PublishRequest
from alba_action.static.scan import scan

SCHEMAS = Path(__file__).parents[1] / "fixtures" / "sbom-schemas"
H = ["0c7c96gikmzv87i7lv3vq5s1cmfjd6zf", "1rz4g4znpzjwh1xymhjpm42vipw92pr7", "2a8m7nlc2d6b0bfzpnrm3rwvaxwq7zf5",
     "3b2qsdg0vgcmvn4bw1icp0jlvywy0g2b", "4fkjpxnnhqw7mgaj4qvxh1w6bi1ybw5d", "5kchsdbd7czwzrw8cbxrb54qrbzhhqhz"]
AMD64 = Platform("linux", "amd64")


@pytest.mark.parametrize("store_name, name, version", [
    ("hello-2.12.1", "hello", "2.12.1"),
    ("glibc-2.38-44", "glibc", "2.38-44"),
    ("bash-interactive-5.2p26", "bash-interactive", "5.2p26"),
    ("source", "source", ""),
    ("python3.11-requests-2.31.0", "python3.11-requests", "2.31.0"),
    ("openssl-3.0.13-dev", "openssl", "3.0.13-dev"),  # outputs stay in the version, as in Nix
    ("util-linux-minimal-2.39.3-lib", "util-linux-minimal", "2.39.3-lib"),
    ("hello-unstable-2024-01-01", "hello-unstable", "2024-01-01"),
    ("nix-shell", "nix-shell", ""),
    ("foo-_bar", "foo", "_bar"),  # Nix: the first dash *not followed by a letter*
    ("foo-", "foo-", ""),
    ("etc-os-release", "etc-os-release", ""),
])
def test_parse_drv_name(store_name, name, version):
    assert pk.parse_drv_name(store_name) == (name, version)


@pytest.mark.parametrize("member, path", [
    (f"nix/store/{H[0]}-hello-2.12.1/bin/hello", f"/nix/store/{H[0]}-hello-2.12.1"),
    (f"./nix/store/{H[0]}-hello-2.12.1/", f"/nix/store/{H[0]}-hello-2.12.1"),
    (f"/nix/store/{H[1]}-source", f"/nix/store/{H[1]}-source"),
    ("nix/store", None), ("nix/store/.links/abcd", None),
    (f"nix/store/{H[0][:31]}-short", None),  # 31 characters: no store hash
    ("nix/store/0e7c96gikmzv87i7lv3vq5s1cmfjd6zf-bad", None),  # `e` is not in Nix's base-32
    (f"usr/nix/store/{H[0]}-x", None),
])
def test_store_path_of_a_member(member, path):
    assert pk.store_path_of(pk.normalise(member)) == path


def nix_layers() -> list[bytes]:
    return [
        make_layer_tar({f"nix/store/{H[0]}-glibc-2.38-44/lib/libc.so.6": b"\x7fELF libc",
                        f"nix/store/{H[0]}-glibc-2.38-44/lib/ld-linux-x86-64.so.2": b"\x7fELF ld"}),
        make_layer_tar({f"nix/store/{H[1]}-bash-interactive-5.2p26/bin/bash": b"\x7fELF bash",
                        f"nix/store/{H[2]}-source": b"a store path that is a file"}),
        make_layer_tar({f"nix/store/{H[3]}-hello-2.12.1/bin/hello": b"\x7fELF hello",
                        f"nix/store/{H[4]}-python3.11-requests-2.31.0/lib/python3.11/requests/__init__.py": b"",
                        "etc/passwd": b"root:x:0:0::/:\n"}),
    ]


EXPECTED = [  # (hash, name, version, layer index)
    (H[0], "glibc", "2.38-44", 0), (H[1], "bash-interactive", "5.2p26", 1), (H[2], "source", "", 1),
    (H[3], "hello", "2.12.1", 2), (H[4], "python3.11-requests", "2.31.0", 2),
]


def load(tmp_path: Path, layers: list[bytes], compression: str, platform: Platform = AMD64, archive: str = "gz"):
    src = tmp_path / f"src-{compression}"
    src.mkdir(exist_ok=True)
    stem = ".".join(p for p in (platform.os, platform.architecture, platform.variant) if p)
    write_nix_archive(src / f"{stem}.tar.{archive}", platform, layers, compression=archive)
    return load_images(src, compression=compression, workdir=tmp_path / f"work-{compression}", log=lambda _: None)


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_a_nix_image_lists_exactly_its_store_paths(tmp_path, compression):
    image = load(tmp_path, nix_layers(), compression)[0]
    contents = image_contents(image.layers)
    digests = [layer.digest for layer in image.layers]
    assert contents.layers == tuple(digests)
    assert [(s.path, s.name, s.version, layers) for s, layers in contents.store_paths] == [
        (f"/nix/store/{h}-{name}" + (f"-{version}" if version else ""), name, version, (digests[i],))
        for h, name, version, i in sorted(EXPECTED)]
    assert contents.packages == ()  # no package database: nothing else is claimed


def test_spdx_of_a_nix_image_entry_by_entry(tmp_path):
    image = load(tmp_path, nix_layers(), "gzip")[0]
    subject = sbom_make.Subject("albatros", "0.9", AMD64, image.manifest.digest, licenses="MIT")
    doc = json.loads(sbom_make.image_document(subject, image_contents(image.layers), "2024-05-01T12:00:00.5Z"))
    assert doc["spdxVersion"] == "SPDX-2.3" and doc["creationInfo"]["created"] == "2024-05-01T12:00:00Z"
    assert doc["creationInfo"]["creators"] == [f"Tool: {sbom_make.TOOL}"]
    by_id = {p["SPDXID"]: p for p in doc["packages"]}
    assert by_id["SPDXRef-Image"]["checksums"] == [{"algorithm": "SHA256", "checksumValue": image.manifest.digest[7:]}]
    assert by_id["SPDXRef-Image"]["licenseDeclared"] == "MIT" and by_id["SPDXRef-Image"]["versionInfo"] == "0.9"
    layers = [p for p in doc["packages"] if p.get("primaryPackagePurpose") == "ARCHIVE"]
    assert [p["name"] for p in layers] == [layer.digest for layer in image.layers]
    layer_id = {p["name"]: p["SPDXID"] for p in layers}
    contains = {(r["spdxElementId"], r["relatedSpdxElement"]) for r in doc["relationships"]
                if r["relationshipType"] == "CONTAINS"}
    nix_packages = [p for p in doc["packages"] if "packageFileName" in p]
    assert len(nix_packages) == len(EXPECTED) and len(doc["packages"]) == 1 + 3 + len(EXPECTED)
    for (h, name, version, i), package in zip(sorted(EXPECTED), nix_packages):
        path = f"/nix/store/{h}-{name}" + (f"-{version}" if version else "")
        assert package["name"] == name and package.get("versionInfo") == (version or None)
        assert package["packageFileName"] == path and package["SPDXID"] == f"SPDXRef-Nix-{h}"
        assert package["sourceInfo"] == f"Nix store path {path}, in layer {image.layers[i].digest}"
        assert (layer_id[image.layers[i].digest], package["SPDXID"]) in contains
    assert ("SPDXRef-DOCUMENT", "SPDXRef-Image") in {(r["spdxElementId"], r["relatedSpdxElement"])
                                                       for r in doc["relationships"]}


def test_cyclonedx_of_a_nix_image(tmp_path):
    image = load(tmp_path, nix_layers(), "zstd")[0]
    subject = sbom_make.Subject("albatros", "", AMD64, image.manifest.digest)
    doc = json.loads(sbom_make.image_document(subject, image_contents(image.layers), "2024-05-01T12:00:00Z",
                                              sbom_make.CYCLONEDX))
    assert doc["metadata"]["component"]["hashes"] == [{"alg": "SHA-256", "content": image.manifest.digest[7:]}]
    libraries = {c["bom-ref"]: c for c in doc["components"] if c["type"] == "library"}
    assert len(libraries) == len(EXPECTED)
    for h, name, version, i in EXPECTED:
        path = f"/nix/store/{h}-{name}" + (f"-{version}" if version else "")
        c = libraries[path]
        assert c["name"] == name and c.get("version") == (version or None)
        assert {p["name"]: p["value"] for p in c["properties"]} == {
            "alba:nix:storePath": path, "alba:layer": image.layers[i].digest}
    assert doc["serialNumber"].startswith("urn:uuid:")


DPKG = b"""Package: libc6
Status: install ok installed
Architecture: amd64
Source: glibc (2.36-9)
Version: 2.36-9+deb12u4
Description: GNU C Library
 continuation line: Package: not-a-package

Package: old-thing
Status: deinstall ok config-files
Version: 1.0

Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5
"""
APK = b"P:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nT:the musl c library\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\n"


def test_package_databases():
    deb = pk.parse_database(pk.DPKG_STATUS, DPKG, "sha256:aa")
    assert [(p.name, p.version, p.architecture, p.source) for p in deb] == [
        ("base-files", "12.4+deb12u5", "amd64", ""), ("libc6", "2.36-9+deb12u4", "amd64", "glibc")]
    assert deb[0].database == "/var/lib/dpkg/status" and deb[0].layer == "sha256:aa"
    apk = pk.parse_database(pk.APK_INSTALLED, APK)
    assert [(p.name, p.version, p.architecture, p.license, p.source) for p in apk] == [
        ("busybox", "1.36.1-r5", "x86_64", "GPL-2.0-only", ""), ("musl", "1.2.4-r2", "x86_64", "MIT", "musl")]


def layer(files: dict[str, bytes]) -> LayerContents:
    return read_layer(io.BytesIO(make_layer_tar(files)), "sha256:" + hashlib.sha256(repr(files).encode()).hexdigest())


def test_layers_stack_with_whiteouts():
    low = layer({pk.DPKG_STATUS: DPKG, pk.APK_INSTALLED: APK, f"nix/store/{H[0]}-glibc-2.38-44/lib/x": b"",
                 f"nix/store/{H[1]}-hello-2.12.1/bin/hello": b""})
    high = layer({"var/lib/dpkg/.wh.status": b"", f"nix/store/.wh.{H[0]}-glibc-2.38-44": b"",
                  f"nix/store/{H[1]}-hello-2.12.1/share/doc": b""})
    both = stack([low, high])
    assert [(s.name, layers) for s, layers in both.store_paths] == [("hello", (low.digest, high.digest))]
    assert [p.kind for p in both.packages] == ["apk", "apk"]
    opaque = layer({"nix/store/.wh..wh..opq": b"", f"nix/store/{H[2]}-source": b""})
    assert [s.name for s, _ in stack([low, opaque]).store_paths] == ["source"]
    assert len(stack([low]).packages) == 4


def test_image_with_a_debian_database(tmp_path):
    layers = [make_layer_tar({pk.DPKG_STATUS: DPKG, "etc/debian_version": b"12.5\n"}),
              make_layer_tar({"usr/local/bin/app": b"\x7fELF"})]
    image = load(tmp_path, layers, "gzip")[0]
    doc = json.loads(sbom_make.image_document(sbom_make.Subject("app", "1", AMD64, image.manifest.digest),
                                              image_contents(image.layers), "2024-01-01T00:00:00Z"))
    debs = [p for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-deb-")]
    assert [(p["name"], p["versionInfo"]) for p in debs] == [("base-files", "12.4+deb12u5"), ("libc6", "2.36-9+deb12u4")]
    assert debs[1]["sourceInfo"] == (f"deb database /var/lib/dpkg/status in layer {image.layers[0].digest}, "
                                     "architecture amd64, source glibc")
    assert not [p for p in doc["packages"] if "packageFileName" in p]  # no Nix store: no Nix packages


def static_folders(tmp_path: Path):
    src = tmp_path / "df"
    for folder, files in {"linux/amd64": {"albatros": b"\x7fELF\x02\x01\x01", "README.md": b"# albatros\n"},
                          "linux/arm64": {"albatros": b"#!/bin/sh\necho arm\n"}}.items():
        (src / folder).mkdir(parents=True)
        for name, data in files.items():
            (src / folder / name).write_bytes(data)
    return src, scan(src)


def test_static_release_sbom_lists_every_file(tmp_path):
    src, folders = static_folders(tmp_path)
    amd64 = folders[0]
    files = [sbom_make.PublishedFile(r.path, r.size, r.digest, hashlib.sha1(r.source.read_bytes()).hexdigest())
             for r in amd64.resources]
    doc = json.loads(sbom_make.static_document(sbom_make.Subject("albatros", "0.9", amd64.platform), files,
                                               "2026-12-03T02:13:28.123456Z"))
    assert doc["creationInfo"]["created"] == "2026-12-03T02:13:28Z"
    assert [f["fileName"] for f in doc["files"]] == ["./README.md", "./albatros"]
    for entry, r in zip(doc["files"], amd64.resources):
        data = r.source.read_bytes()
        assert {c["algorithm"]: c["checksumValue"] for c in entry["checksums"]} == {
            "SHA1": hashlib.sha1(data).hexdigest(), "SHA256": hashlib.sha256(data).hexdigest()}
    (package,) = doc["packages"]
    assert package["hasFiles"] == [f["SPDXID"] for f in doc["files"]] and package["versionInfo"] == "0.9"
    code = hashlib.sha1("".join(sorted(hashlib.sha1(r.source.read_bytes()).hexdigest()
                                       for r in amd64.resources)).encode()).hexdigest()
    assert package["packageVerificationCode"] == {"packageVerificationCodeValue": code}


def test_documents_are_deterministic_and_named_by_content(tmp_path):
    _, folders = static_folders(tmp_path)
    files = [sbom_make.PublishedFile(r.path, r.size, r.digest, "0" * 40) for r in folders[0].resources]
    subject = sbom_make.Subject("albatros", "0.9", AMD64)
    one = sbom_make.static_document(subject, files, "2024-01-01T00:00:00Z")
    assert one == sbom_make.static_document(subject, files, "2024-01-01T00:00:00+00:00")
    other = json.loads(sbom_make.static_document(subject, files[:1], "2024-01-01T00:00:00Z"))
    assert json.loads(one)["documentNamespace"] != other["documentNamespace"]
    assert sbom_make.first_time("", "not a time", "2024-01-01T01:00:00+01:00") == "2024-01-01T00:00:00Z"
    assert sbom_make.first_time("") == "1970-01-01T00:00:00Z"
    with pytest.raises(InputError):
        sbom_make.format_of("syft")


def request(tmp_path: Path, **kw) -> PublishRequest:
    if "image" in kw:
        return PublishRequest("albatros", ("0.9",), container_dir=tmp_path, container_targets=("file:///x",), **kw)
    return PublishRequest("albatros", ("0.9",), static_dir=tmp_path, static_targets=("file:///x",), **kw)


def test_static_attachments_use_the_builds_sbom_first(tmp_path):
    src, folders = static_folders(tmp_path)
    own = tmp_path / "linux.amd64.spdx.json"
    own.write_text(json.dumps({"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT"}))
    given = [Sbom(AMD64, own, sbom_make.FORMATS["spdx"][1])]
    # Provenance off: only SBOMs. Created at the commit's time (never the clock).
    commit = Context("local", commit_date="2026-12-03T02:13:28.123456Z")
    made = attest_plan.static_attachments(request(src, context=commit, provenance=False), folders, given)("0.9")
    assert [(a.path, a.fields.get("generator")) for a in made] == [
        ("_alba/linux.amd64.spdx.json", None), ("_alba/linux.arm64.spdx.json", sbom_make.TOOL)]
    assert made[0].data == own.read_bytes()
    doc = json.loads(made[1].data)
    assert doc["creationInfo"]["created"] == "2026-12-03T02:13:28Z" and doc["files"][0]["fileName"] == "./albatros"
    cdx = attest_plan.static_attachments(request(src), folders, [], sbom_format="cyclonedx-json",
                                         created="2020-01-01T00:00:00Z")("0.9")
    assert [a.path for a in cdx] == ["_alba/linux.amd64.cdx.json", "_alba/linux.arm64.cdx.json"]
    assert json.loads(cdx[0].data)["metadata"]["timestamp"] == "2020-01-01T00:00:00Z"
    assert attest_plan.static_attachments(request(src), folders, [], make_sbom=False)("0.9") == []


def test_image_referrers_attach_an_sbom_per_platform(tmp_path):
    images = load(tmp_path, nix_layers(), "gzip")
    images += load(tmp_path, nix_layers()[:1], "gzip", Platform("linux", "arm64"))
    annotations = {"org.opencontainers.image.created": "2024-02-03T04:05:06Z",
                   "org.opencontainers.image.version": "0.9", "org.opencontainers.image.licenses": "Apache-2.0"}
    req = request(tmp_path, image=ImageOptions(annotations=annotations))
    out = attest_plan.image_referrers(req, images, None, ["0.9", "latest"], [])
    assert [subject["digest"] for subject, _ in out] == [i.manifest.digest for i in images]
    for (subject, (attachment,)), image in zip(out, images):
        assert attachment.annotations == {"org.opencontainers.image.title": f"linux.{image.platform.architecture}.spdx.json",
                                          attest_plan.GENERATOR: sbom_make.TOOL}
        doc = json.loads(attachment.data)
        assert doc["creationInfo"]["created"] == "2024-02-03T04:05:06Z"
        assert doc["packages"][0]["versionInfo"] == "0.9" and doc["packages"][0]["licenseDeclared"] == "Apache-2.0"
    # the same bytes whatever the tags: a push under another tag attaches nothing new
    assert attest_plan.image_referrers(req, images, None, ["other"], []) == out
    own = tmp_path / "linux.amd64.spdx.json"
    own.write_text("{}")
    given = attest_plan.image_referrers(req, images, None, ["0.9"], [Sbom(AMD64, own, "application/spdx+json")])
    assert [a.data for _, (a,) in given][0] == b"{}" and len(given) == 2
    dry = request(tmp_path, image=ImageOptions(annotations=annotations), dry_run=True)
    assert attest_plan.image_referrers(dry, images, None, ["0.9"], []) == []


def test_without_created_the_image_config_time_is_used(tmp_path):
    images = load(tmp_path, nix_layers()[:1], "gzip")
    out = attest_plan.image_referrers(request(tmp_path, image=ImageOptions()), images, None, ["1"], [])
    assert json.loads(out[0][1][0].data)["creationInfo"]["created"] == "1970-01-01T00:00:00Z"


def test_documents_are_valid_against_their_schemas(tmp_path):
    image = load(tmp_path, nix_layers() + [make_layer_tar({pk.APK_INSTALLED: APK, pk.DPKG_STATUS: DPKG})],
                 "gzip")[0]
    contents = image_contents(image.layers)
    _, folders = static_folders(tmp_path)
    files = [sbom_make.PublishedFile(r.path, r.size, r.digest, "1" * 40) for r in folders[0].resources]
    subject = sbom_make.Subject("team/albatros", "0.9", AMD64, image.manifest.digest, "MIT OR Apache-2.0", "a tool")
    written = {}
    for fmt in (sbom_make.SPDX, sbom_make.CYCLONEDX):
        for kind, data in (("image", sbom_make.image_document(subject, contents, "2024-01-01T00:00:00Z", fmt)),
                           ("static", sbom_make.static_document(subject, files, "2024-01-01T00:00:00Z", fmt))):
            path = tmp_path / f"{kind}{sbom_make.FORMATS[fmt][0]}"
            path.write_bytes(data)
            written.setdefault(fmt, []).append(str(path))
    for fmt, schema in ((sbom_make.SPDX, "spdx-schema.json"), (sbom_make.CYCLONEDX, "bom-1.5.schema.json")):
        check = subprocess.run([str(Path(sys.executable).with_name("check-jsonschema")), "--schemafile",
                                str(SCHEMAS / schema), "--base-uri", (SCHEMAS / schema).as_uri(), *written[fmt]],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
    broken = json.loads(Path(written[sbom_make.SPDX][0]).read_text())
    del broken["packages"][0]["downloadLocation"]
    Path(written[sbom_make.SPDX][0]).write_text(json.dumps(broken))
    check = subprocess.run([str(Path(sys.executable).with_name("check-jsonschema")), "--schemafile",
                            str(SCHEMAS / "spdx-schema.json"), written[sbom_make.SPDX][0]], capture_output=True, text=True)
    assert check.returncode == 1 and "downloadLocation" in check.stdout  # the schema does bite
