"""alba_action.platforms and images/inputs.py: platform names from file names, default variants, and the
scan of SRC_DIR for one image per platform (on tmp folders of empty files: nothing is read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from alba_action.errors import InputError
from alba_action.images.inputs import EXPECTED, find_archives
from alba_action.platforms import Platform, parse_platform, same_platform


@pytest.mark.parametrize(
    "text, expected",
    [
        pytest.param("linux.amd64", Platform("linux", "amd64"), id="linux-amd64"),
        pytest.param("linux.arm.v7", Platform("linux", "arm", "v7"), id="arm-v7"),
        pytest.param("linux.arm64.v8.2", Platform("linux", "arm64", "v8.2"), id="dotted-variant"),
        pytest.param("linux.arm64.v8.2.1", Platform("linux", "arm64", "v8.2.1"), id="two-dot-variant"),
        pytest.param("linux.amd64.v3", Platform("linux", "amd64", "v3"), id="amd64-v3"),
        pytest.param("linux.arm.7", Platform("linux", "arm", "7"), id="digit-variant"),
        pytest.param("windows.amd64", Platform("windows", "amd64"), id="windows"),
        pytest.param("darwin.arm64", Platform("darwin", "arm64"), id="darwin"),
        pytest.param("plan9.386", Platform("plan9", "386"), id="plan9-386"),
        pytest.param("linux.riscv64", Platform("linux", "riscv64"), id="riscv64"),
    ],
)
def test_parse_platform(text: str, expected: Platform) -> None:
    assert parse_platform(text, "W") == expected


@pytest.mark.parametrize(
    "text, message, fix_start",
    [
        pytest.param("Linux.amd64", "W: unknown os 'Linux'", "use a Go GOOS name (aix, android, darwin", id="os-case"),
        pytest.param("macos.arm64", "W: unknown os 'macos'", "use a Go GOOS name (", id="os-unknown"),
        pytest.param("linux.x86_64", "W: unknown architecture 'x86_64'", "use a Go GOARCH name (386, amd64",
                     id="arch-unknown"),
        pytest.param("linux.aarch64", "W: unknown architecture 'aarch64'", "use a Go GOARCH name (", id="aarch64"),
        pytest.param("linux.arm.V7", "W: bad variant 'V7'", "use a variant such as v7, v8 or v8.2", id="variant-case"),
        pytest.param("linux.arm.v7.x", "W: bad variant 'v7.x'", "use a variant such as v7, v8 or v8.2",
                     id="variant-letters-after-dot"),
        pytest.param("linux.amd64.", "W: bad variant ''", "use a variant such as v7, v8 or v8.2", id="variant-empty"),
    ],
)
def test_parse_platform_refuses(text: str, message: str, fix_start: str) -> None:
    with pytest.raises(InputError) as err:
        parse_platform(text, "W")
    assert err.value.message == message
    assert err.value.fix.startswith(fix_start)


@pytest.mark.parametrize(
    "a, b, same",
    [
        pytest.param(Platform("linux", "arm64"), Platform("linux", "arm64", "v8"), True, id="arm64-default-v8"),
        pytest.param(Platform("linux", "arm"), Platform("linux", "arm", "v7"), True, id="arm-default-v7"),
        pytest.param(Platform("linux", "amd64"), Platform("linux", "amd64", "v1"), True, id="amd64-default-v1"),
        pytest.param(Platform("linux", "amd64"), Platform("linux", "amd64"), True, id="identical"),
        pytest.param(Platform("linux", "386"), Platform("linux", "386"), True, id="no-default-variant"),
        pytest.param(Platform("linux", "arm"), Platform("linux", "arm", "v6"), False, id="arm-v6-not-default"),
        pytest.param(Platform("linux", "arm64", "v8"), Platform("linux", "arm64", "v8.2"), False, id="v8-vs-v8.2"),
        pytest.param(Platform("linux", "amd64"), Platform("linux", "amd64", "v3"), False, id="amd64-v3"),
        pytest.param(Platform("linux", "amd64"), Platform("windows", "amd64"), False, id="other-os"),
        pytest.param(Platform("linux", "amd64"), Platform("linux", "arm64"), False, id="other-arch"),
        pytest.param(Platform("linux", "386"), Platform("linux", "386", "v1"), False, id="386-has-no-default"),
    ],
)
def test_same_platform(a: Platform, b: Platform, same: bool) -> None:
    assert same_platform(a, b) is same
    assert same_platform(b, a) is same


def test_platform_key_orders_variant_none_first() -> None:
    platforms = [Platform("linux", "arm", "v7"), Platform("linux", "arm"), Platform("darwin", "arm64")]
    assert sorted(platforms, key=Platform.sort_key) == [
        Platform("darwin", "arm64"), Platform("linux", "arm"), Platform("linux", "arm", "v7")]


# -- find_archives ----------------------------------------------------------------------------


def layout(folder: Path, name: str, with_marker: bool = True) -> None:
    (folder / name).mkdir()
    if with_marker:
        (folder / name / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')


@pytest.mark.parametrize(
    "files, layouts, expected",
    [
        pytest.param(["linux.amd64.tar.gz", "linux.arm.v7.tar", "linux.arm64.v8.2.tar.zst"], [],
                     [("linux/amd64", "linux.amd64.tar.gz"), ("linux/arm/v7", "linux.arm.v7.tar"),
                      ("linux/arm64/v8.2", "linux.arm64.v8.2.tar.zst")], id="three-compressions"),
        pytest.param(["windows.amd64.tar", "darwin.arm64.tar.gz"], [],
                     [("darwin/arm64", "darwin.arm64.tar.gz"), ("windows/amd64", "windows.amd64.tar")],
                     id="sorted-by-platform"),
        pytest.param(["linux.arm.v6.tar", "linux.arm.v7.tar"], [],
                     [("linux/arm/v6", "linux.arm.v6.tar"), ("linux/arm/v7", "linux.arm.v7.tar")],
                     id="two-arm-variants"),
        pytest.param(["linux.arm.tar", "linux.arm.v6.tar"], [],
                     [("linux/arm", "linux.arm.tar"), ("linux/arm/v6", "linux.arm.v6.tar")],
                     id="arm-and-v6-differ"),
        pytest.param([".DS_Store", ".hidden.tar", "linux.amd64.tar"], [], [("linux/amd64", "linux.amd64.tar")],
                     id="hidden-ignored"),
        pytest.param(["linux.amd64.spdx.json", "linux.amd64.cdx.json", "linux.amd64.tar"], [],
                     [("linux/amd64", "linux.amd64.tar")], id="sboms-ignored"),
        pytest.param([], ["linux.riscv64"], [("linux/riscv64", "linux.riscv64")], id="oci-layout-folder"),
        pytest.param(["linux.amd64.tar"], ["linux.arm64.v8"],
                     [("linux/amd64", "linux.amd64.tar"), ("linux/arm64/v8", "linux.arm64.v8")],
                     id="archive-and-layout"),
        pytest.param(["linux.amd64.tar.tar"], [], [("linux/amd64/tar", "linux.amd64.tar.tar")],
                     id="double-tar-read-as-variant"),
    ],
)
def test_find_archives(tmp_path: Path, files, layouts, expected) -> None:
    for name in files:
        (tmp_path / name).write_bytes(b"")
    for name in layouts:
        layout(tmp_path, name)
    found = find_archives(tmp_path)
    assert [(str(p), path.name) for p, path in found] == expected
    assert all(path.parent == tmp_path for _, path in found)


@pytest.mark.parametrize(
    "files, layouts, message, fix",
    [
        pytest.param([], [], "{d}: no image archive found", f"put one archive per platform there, named {EXPECTED}",
                     id="empty"),
        pytest.param([".DS_Store"], [], "{d}: no image archive found", None, id="only-hidden"),
        pytest.param(["linux.amd64.spdx.json"], [], "{d}: no image archive found", None, id="only-sbom"),
        pytest.param(["README.md"], [], "{d}/README.md: this file fits no image name pattern", f"name it {EXPECTED}",
                     id="stray-file"),
        pytest.param(["linux.amd64.tgz"], [], "{d}/linux.amd64.tgz: this file fits no image name pattern", None,
                     id="tgz-suffix"),
        pytest.param(["linux.amd64.tar.xz"], [], "{d}/linux.amd64.tar.xz: this file fits no image name pattern", None,
                     id="xz-suffix"),
        pytest.param(["linux.tar"], [], "{d}/linux.tar: this file fits no image name pattern", None, id="no-arch"),
        pytest.param(["amd64.linux.tar"], [], "{d}/amd64.linux.tar: unknown os 'amd64'", None, id="swapped"),
        pytest.param(["linux.x86_64.tar"], [], "{d}/linux.x86_64.tar: unknown architecture 'x86_64'", None,
                     id="unknown-arch"),
        pytest.param(["linux.amd64.v3.tar.gz.tar"], [], "{d}/linux.amd64.v3.tar.gz.tar: bad variant 'v3.tar.gz'", None,
                     id="bad-variant"),
        pytest.param(["linux.amd64.tar", "linux.amd64.tar.gz"], [],
                     "{d}/linux.amd64.tar.gz and {d}/linux.amd64.tar: two images for platform linux/amd64",
                     "keep one archive per platform", id="same-platform-two-compressions"),
        pytest.param(["linux.arm64.tar", "linux.arm64.v8.tar.gz"], [],
                     "{d}/linux.arm64.v8.tar.gz and {d}/linux.arm64.tar: two images for platform linux/arm64/v8",
                     None, id="default-variant-twin"),
        pytest.param(["linux.arm.tar"], ["linux.arm.v7"],
                     "{d}/linux.arm.v7 and {d}/linux.arm.tar: two images for platform linux/arm/v7", None,
                     id="layout-twin-of-archive"),
        pytest.param([], ["!linux.amd64"],
                     "{d}/linux.amd64: this folder (no oci-layout file inside) fits no image name pattern",
                     f"name it {EXPECTED}", id="folder-without-marker"),
        # "weird" has an oci-layout file: only its name is wrong, yet the message says there is none.
        pytest.param([], ["weird"], "{d}/weird: this folder (no oci-layout file inside) fits no image name pattern",
                     None, id="layout-with-bad-name"),
    ],
)
def test_find_archives_refuses(tmp_path: Path, files, layouts, message: str, fix) -> None:
    for name in files:
        (tmp_path / name).write_bytes(b"")
    for name in layouts:
        bare = name.startswith("!")  # a folder without an oci-layout file
        layout(tmp_path, name.lstrip("!"), with_marker=not bare)
    with pytest.raises(InputError) as err:
        find_archives(tmp_path)
    assert err.value.message == message.format(d=tmp_path)
    if fix is not None:
        assert err.value.fix == fix


def test_find_archives_needs_a_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(InputError) as err:
        find_archives(missing)
    assert err.value.message == f"{missing}: not a directory"
    assert err.value.fix == "give the folder that holds one image archive per platform"
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(InputError, match="not a directory"):
        find_archives(tmp_path / "file")
