"""Platform check of static files: crafted headers for every Go os/arch (and arm variant),
the machine's own binaries, universal Mach-O, PE files; scripts, text and data never refused."""

from __future__ import annotations

import glob
import os
import platform as host
import struct
import sys
from pathlib import Path

import pytest

from alba_action.errors import InputError
from alba_action.platforms import Platform
from alba_action.static.binaries import ARCHES, disagreement, identify_bytes, identify_file, suggested_folder
from alba_action.static.scan import scan

EM = {"386": 3, "amd64": 62, "amd64p32": 62, "arm": 40, "armbe": 40, "arm64": 183, "arm64be": 183,
      "loong64": 258, "mips": 8, "mipsle": 8, "mips64": 8, "mips64le": 8, "mips64p32": 8, "mips64p32le": 8,
      "ppc": 20, "ppc64": 21, "ppc64le": 21, "riscv": 243, "riscv64": 243, "s390": 22, "s390x": 22,
      "sparc": 2, "sparc64": 43}
BITS = {a: 32 if a in ("386", "amd64p32", "arm", "armbe", "mips", "mipsle", "mips64p32", "mips64p32le", "ppc",
                       "riscv", "s390", "sparc") else 64 for a in EM}
BIG = {"armbe", "arm64be", "mips", "mips64", "mips64p32", "ppc", "ppc64", "s390", "s390x", "sparc", "sparc64"}


def elf(arch: str, osabi: int = 0, flags: int = 0, interp: str = "", cpu_arch: int | None = None,
        machine: int | None = None, bits: int | None = None, big: bool | None = None) -> bytes:
    """A minimal ELF: header, a PT_INTERP program header when `interp`, and for ARM an
    .ARM.attributes section holding Tag_CPU_arch when `cpu_arch` is given."""
    bits, big = bits or BITS[arch], (arch in BIG) if big is None else big
    e = ">" if big else "<"
    machine = EM[arch] if machine is None else machine
    ehsize, phsize, shsize = (52, 32, 40) if bits == 32 else (64, 56, 64)
    tail, phs, shs = b"", b"", b""
    phoff = ehsize if interp else 0
    data_at = ehsize + (phsize if interp else 0)
    if interp:
        path = interp.encode() + b"\0"
        phs = (struct.pack(e + "8I", 3, data_at, 0, 0, len(path), len(path), 4, 1) if bits == 32 else
               struct.pack(e + "2I6Q", 3, 4, data_at, 0, 0, len(path), len(path), 1))
        tail += path
    shoff = shnum = 0
    if cpu_arch is not None:
        body = bytes([5]) + b"7-A\0" + bytes([6, cpu_arch, 8, 1])  # Tag_CPU_name "7-A", Tag_CPU_arch, Tag_ARM_ISA_use
        sub = bytes([1]) + struct.pack(e + "I", 5 + len(body)) + body
        attrs = b"A" + struct.pack(e + "I", 4 + 6 + len(sub)) + b"aeabi\0" + sub
        attrs_at = data_at + len(tail)
        tail += attrs
        shoff, shnum = data_at + len(tail), 2
        shs = bytes(40) + struct.pack(e + "10I", 0, 0x70000003, 0, 0, attrs_at, len(attrs), 0, 0, 1, 0)
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 2 if big else 1, 1, osabi]) + bytes(8)
    if bits == 32:
        header = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, machine, 1, 0, phoff, shoff, flags, ehsize,
                                     phsize, 1 if interp else 0, shsize, shnum, 0)
    else:
        header = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, machine, 1, 0, phoff, shoff, flags, ehsize,
                                     phsize, 1 if interp else 0, shsize, shnum, 0)
    return header + phs + tail + shs


CPU = {"386": 7, "amd64": 0x01000007, "arm": 12, "arm64": 0x0100000C, "ppc": 18, "ppc64": 0x01000012}


def macho(cputype: int, subtype: int = 3, platform: int | None = None, bits: int = 64, big: bool = False) -> bytes:
    """A thin Mach-O: header and, when `platform`, an LC_BUILD_VERSION command."""
    e = ">" if big else "<"
    magic = struct.pack(e + "I", 0xFEEDFACF if bits == 64 else 0xFEEDFACE)
    cmds = struct.pack(e + "6I", 0x32, 24, platform, 0x000E0000, 0x000E0000, 0) if platform else b""
    header = magic + struct.pack(e + "iiIIII", cputype, subtype, 2, 1 if cmds else 0, len(cmds), 0)
    return header + (b"\0\0\0\0" if bits == 64 else b"") + cmds


def fat(*slices: tuple[int, bytes]) -> bytes:
    """A universal Mach-O: the big-endian fat header, each slice at a 4 KiB boundary."""
    table, body, at = b"", b"", 4096
    for cputype, data in slices:
        table += struct.pack(">iiIII", cputype, 3, at + len(body), len(data), 12)
        body += data + bytes(-len(data) % 4096)
    head = struct.pack(">II", 0xCAFEBABE, len(slices)) + table
    return head + bytes(4096 - len(head)) + body


def pe(machine: int, plus: bool = True, subsystem: int = 3, clr: bool = False) -> bytes:
    """An MS-DOS stub pointing at a PE header with an optional header of 16 data directories."""
    dirs = [(0, 0)] * 16
    if clr:
        dirs[14] = (0x2008, 0x48)
    opt = bytearray(112 if plus else 96)
    struct.pack_into("<H", opt, 0, 0x20B if plus else 0x10B)
    struct.pack_into("<H", opt, 68, subsystem)
    struct.pack_into("<I", opt, 108 if plus else 92, 16)
    opt += b"".join(struct.pack("<II", *d) for d in dirs)
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", machine, 1, 0, 0, 0, len(opt), 0x22)
    stub = bytearray(b"MZ" + bytes(0x80 - 2))
    struct.pack_into("<I", stub, 0x3C, 0x80)
    return bytes(stub) + coff + bytes(opt)


def P(text: str) -> Platform:
    return Platform(*text.split("/"))


ELF_ARCHS = [a for a in ARCHES if a != "wasm"]
WRONG_ARCH = {a: "arm64" if a != "arm64" else "amd64" for a in ELF_ARCHS}


@pytest.mark.parametrize("arch", ELF_ARCHS)
def test_every_go_arch_as_elf(arch):
    binary = identify_bytes(elf(arch))
    assert binary.format == "ELF" and arch in binary.archs
    assert disagreement(binary, P(f"linux/{arch}")) is None
    assert disagreement(binary, P(f"linux/{WRONG_ARCH[arch]}")) == f"it runs on {'/'.join(sorted(binary.archs))}"


@pytest.mark.parametrize("arch, what", [
    ("386", "ELF i386"), ("amd64", "ELF x86-64"), ("amd64p32", "ELF x86-64 32-bit"), ("arm", "ELF ARM"),
    ("armbe", "ELF ARM big-endian"), ("arm64", "ELF aarch64"), ("arm64be", "ELF aarch64 big-endian"),
    ("mips", "ELF MIPS 32-bit big-endian"), ("mips64le", "ELF MIPS 64-bit little-endian"),
    ("ppc64", "ELF PowerPC64 big-endian"), ("ppc64le", "ELF PowerPC64 little-endian"),
    ("riscv64", "ELF RISC-V 64-bit"), ("s390x", "ELF S/390"), ("loong64", "ELF LoongArch"),
])
def test_elf_descriptions(arch, what):
    assert identify_bytes(elf(arch)).what == what


@pytest.mark.parametrize("arch, same", [
    ("mips", {"mips", "mips64p32"}), ("mipsle", {"mipsle", "mips64p32le"}), ("s390x", {"s390x"}),
    ("ppc64", {"ppc64"}), ("ppc64le", {"ppc64le"}), ("amd64", {"amd64"}), ("amd64p32", {"amd64p32"}),
])
def test_class_and_byte_order_tell_architectures_apart(arch, same):
    assert identify_bytes(elf(arch)).archs == same


@pytest.mark.parametrize("header, folder, refused", [
    # Go writes ELFOSABI_FREEBSD/NETBSD/OPENBSD for those systems, and 0 (System V) elsewhere.
    (elf("amd64", osabi=9), "freebsd/amd64", None),
    (elf("amd64", osabi=9), "linux/amd64", "it is built for freebsd"),
    (elf("arm64", osabi=2), "netbsd/arm64", None),
    (elf("arm64", osabi=2), "openbsd/arm64", "it is built for netbsd"),
    (elf("amd64", osabi=12), "openbsd/amd64", None),
    (elf("amd64", osabi=12), "dragonfly/amd64", "it is built for openbsd"),
    # System V: every ELF OS (Go's linux, android, dragonfly, solaris, illumos; musl; Nix).
    *[(elf("amd64"), f"{os}/amd64", None)
      for os in ("linux", "android", "freebsd", "netbsd", "openbsd", "dragonfly", "solaris", "illumos", "hurd")],
    # GNU (IFUNC, unique symbols: glibc builds): Linux, Android's kernel and the Hurd run it.
    (elf("amd64", osabi=3), "linux/amd64", None),
    (elf("arm64", osabi=3), "android/arm64", None),
    (elf("amd64", osabi=3), "freebsd/amd64", "it is built for android or hurd or linux"),
    (elf("amd64", osabi=6), "illumos/amd64", None),
    (elf("amd64", osabi=1), "linux/amd64", "it is built for a system Go does not target"),
    (elf("arm", osabi=97), "linux/arm", None),  # processor-specific values say nothing of the OS
    (elf("arm", osabi=64), "netbsd/arm", None),
    # The interpreter path, where one system alone uses it.
    (elf("amd64", interp="/lib64/ld-linux-x86-64.so.2"), "linux/amd64", None),
    (elf("amd64", interp="/nix/store/0c7c96gikmzv87i7lv3vq5s1cmfjd6zf-glibc-2.38-44/lib/ld-linux-x86-64.so.2"),
     "linux/amd64", None),
    (elf("amd64", interp="/lib64/ld-linux-x86-64.so.2"), "freebsd/amd64", "it is built for linux"),
    (elf("arm64", interp="/lib/ld-musl-aarch64.so.1"), "netbsd/arm64", "it is built for linux"),
    (elf("amd64", interp="/libexec/ld-elf.so.1"), "linux/amd64", "it is built for freebsd"),
    (elf("amd64", interp="/usr/libexec/ld-elf.so.2"), "dragonfly/amd64", None),
    (elf("amd64", interp="/usr/libexec/ld.elf_so"), "netbsd/amd64", None),
    (elf("amd64", interp="/usr/libexec/ld.so"), "linux/amd64", "it is built for openbsd"),
    (elf("arm64", interp="/system/bin/linker64"), "android/arm64", None),
    (elf("arm64", interp="/system/bin/linker64"), "linux/arm64", "it is built for android"),
    (elf("amd64", interp="/lib/amd64/ld.so.1"), "solaris/amd64", None),
    (elf("ppc64", interp="/lib64/ld64.so.1"), "linux/ppc64", None),  # Linux's, but not only: no verdict
    (elf("ppc64", interp="/lib64/ld64.so.1"), "freebsd/ppc64", None),
    # A format the folder's OS never runs.
    (elf("amd64"), "darwin/amd64", "darwin runs Mach-O files, not ELF"),
    (elf("amd64"), "windows/amd64", "windows runs PE files, not ELF"),
    (elf("ppc64"), "aix/ppc64", "aix runs XCOFF files, not ELF"),
    (elf("amd64"), "plan9/amd64", "plan9 runs Plan 9 a.out files, not ELF"),
    (elf("amd64"), "js/wasm", "js runs WebAssembly files, not ELF"),
    (elf("s390x"), "zos/s390x", None),  # no known format: judged by machine only
    # Machines that are no Go architecture: data for this check (eBPF objects, GPU code).
    (elf("amd64", machine=247), "linux/arm64", None),
    (elf("amd64", machine=224), "darwin/arm64", None),
])
def test_os_abi_interpreter_and_format(header, folder, refused):
    assert disagreement(identify_bytes(header), P(folder)) == refused


@pytest.mark.parametrize("cpu_arch, folder, refused", [
    (None, "linux/arm/v5", None), (None, "linux/arm/v6", None), (None, "linux/arm/v7", None),  # Go: no attributes
    (4, "linux/arm/v5", None), (4, "linux/arm/v7", None),  # v5TE runs on v5 and later
    (6, "linux/arm/v6", None), (6, "linux/arm/v5", "it needs ARMv6, newer than v5"),
    (10, "linux/arm/v7", None), (10, "linux/arm/v6", "it needs ARMv7, newer than v6"),
    (10, "linux/arm", None),  # no variant: any ARM
    (14, "linux/arm/v7", "it needs ARMv8, newer than v7"),
])
def test_arm_variants_from_build_attributes(cpu_arch, folder, refused):
    binary = identify_bytes(elf("arm", flags=0x05000400, cpu_arch=cpu_arch))
    assert binary.what.startswith("ELF ARM EABI5 hard-float")
    assert disagreement(binary, P(folder)) == refused


def test_go_arm_flags_carry_no_float_abi():
    # Go's linker writes 0x5000002 (EABI5, has entry point) and no float ABI flag.
    assert identify_bytes(elf("arm", flags=0x5000002)).what == "ELF ARM EABI5"
    assert identify_bytes(elf("arm", flags=0x5000200)).what == "ELF ARM EABI5 soft-float"


@pytest.mark.parametrize("arch", sorted(CPU))
def test_every_go_arch_as_macho(arch):
    binary = identify_bytes(macho(CPU[arch], bits=64 if arch in ("amd64", "arm64", "ppc64") else 32,
                                  big=arch.startswith("ppc")))
    assert binary.format == "Mach-O" and binary.archs == {arch}
    assert disagreement(binary, P(f"darwin/{arch}")) is None
    assert disagreement(binary, P(f"ios/{arch}")) is None  # no platform command: either system
    assert disagreement(binary, P(f"darwin/{WRONG_ARCH[arch]}")) == f"it runs on {arch}"
    assert disagreement(binary, P(f"linux/{arch}")) == "linux runs ELF files, not Mach-O"


@pytest.mark.parametrize("platform_, folder, refused", [
    (1, "darwin/arm64", None), (1, "ios/arm64", "it is built for darwin"),
    (2, "ios/arm64", None), (2, "darwin/arm64", "it is built for ios"),
    (7, "ios/amd64", None), (6, "darwin/arm64", None),
    (3, "darwin/arm64", "it is built for a system Go does not target"),
])
def test_macho_platform(platform_, folder, refused):
    arch = folder.split("/")[1]
    binary = identify_bytes(macho(CPU[arch], platform=platform_))
    assert disagreement(binary, P(folder)) == refused


def test_macho_descriptions():
    assert identify_bytes(macho(CPU["arm64"])).what == "Mach-O arm64"
    assert identify_bytes(macho(CPU["amd64"], platform=1)).what == "Mach-O x86_64 (macOS)"
    assert identify_bytes(macho(CPU["arm"], subtype=9, bits=32)).arm_level == 7


def test_universal_macho():
    binary = identify_bytes(fat((CPU["amd64"], macho(CPU["amd64"], platform=1)),
                                (CPU["arm64"], macho(CPU["arm64"], platform=1))))
    assert binary.what == "Mach-O universal (x86_64, arm64) (macOS)"
    assert binary.archs == {"amd64", "arm64"}
    assert disagreement(binary, P("darwin/amd64")) is None
    assert disagreement(binary, P("darwin/arm64")) is None
    assert disagreement(binary, P("darwin/386")) == "it runs on amd64/arm64"
    assert disagreement(binary, P("ios/arm64")) == "it is built for darwin"
    assert disagreement(binary, P("linux/amd64")) == "linux runs ELF files, not Mach-O"


def test_java_class_is_not_universal_macho():
    assert identify_bytes(b"\xca\xfe\xba\xbe\x00\x00\x00\x34" + bytes(200)) is None


@pytest.mark.parametrize("machine, arch, what", [
    (0x014C, "386", "PE i386"), (0x8664, "amd64", "PE x86-64"), (0xAA64, "arm64", "PE arm64"),
    (0x01C4, "arm", "PE ARMv7 Thumb-2"), (0x5064, "riscv64", "PE RISC-V 64"), (0x6264, "loong64", "PE LoongArch64"),
])
def test_every_go_arch_as_pe(machine, arch, what):
    for plus in (False, True):
        binary = identify_bytes(pe(machine, plus=plus))
        assert binary.what == what and binary.archs == {arch}
        assert disagreement(binary, P(f"windows/{arch}")) is None
        assert disagreement(binary, P(f"windows/{WRONG_ARCH[arch]}")) == f"it runs on {arch}"
        assert disagreement(binary, P(f"linux/{arch}")) == "linux runs ELF files, not PE"


def test_pe_kinds_that_run_anywhere():
    dotnet = identify_bytes(pe(0x014C, plus=False, clr=True))
    assert dotnet.what == "PE .NET assembly (i386)"
    assert disagreement(dotnet, P("linux/arm64")) is None
    efi = identify_bytes(pe(0xAA64, subsystem=10))
    assert efi.what == "PE arm64 UEFI image"
    assert disagreement(efi, P("linux/arm64")) is None
    assert disagreement(efi, P("linux/amd64")) == "it runs on arm64"
    assert disagreement(identify_bytes(pe(0x01C4)), P("windows/arm/v6")) == "it needs ARMv7, newer than v6"


def test_webassembly_runs_anywhere_but_wasm_folders_need_it():
    module = identify_bytes(b"\0asm\x01\0\0\0" + bytes(20))
    assert module.what == "WebAssembly module"
    for folder in ("js/wasm", "wasip1/wasm", "linux/amd64"):
        assert disagreement(module, P(folder)) is None
    assert disagreement(identify_bytes(pe(0x8664)), P("wasip1/wasm")) == "wasip1 runs WebAssembly files, not PE"


@pytest.mark.parametrize("data", [
    b"#!/bin/sh\necho hello\n", b"#!/usr/bin/env python3\n", "héllo wörld\n".encode(), b"", b"\x7fELF",
    b"\x7fELF\x02\x01\x01" + bytes(9), b"MZ" + bytes(100), b"MZ\x90\0" + bytes(0x3A) + b"\xff\xff\xff\x7f",
    b"PK\x03\x04" + bytes(60), b"\x1f\x8b\x08\0" + bytes(40), bytes(range(256)) * 4, b"\0asm\x02\0\0\0",
])
def test_scripts_text_and_data_are_never_binaries(data):
    assert identify_bytes(data) is None
    for folder in ("linux/amd64", "darwin/arm64", "windows/386", "js/wasm"):
        assert disagreement(identify_bytes(data), P(folder)) is None


HOST = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(host.machine().lower())


@pytest.mark.parametrize("path", ["/bin/ls", "/bin/sh", os.path.realpath(sys.executable)])
def test_the_machines_own_binaries(path):
    # The project runs on Linux x86-64 or aarch64 (its CI's kind of machine): another host fails here.
    assert sys.platform == "linux" and HOST is not None, f"not a Linux x86-64/aarch64 host: {host.machine()}"
    binary = identify_file(Path(path))
    assert binary.format == "ELF" and binary.archs == {HOST}
    assert binary.what.startswith({"amd64": "ELF x86-64", "arm64": "ELF aarch64"}[HOST])
    assert disagreement(binary, P(f"linux/{HOST}")) is None
    assert disagreement(binary, P(f"linux/{WRONG_ARCH[HOST]}")) == f"it runs on {HOST}"
    assert disagreement(binary, P(f"darwin/{HOST}")) == "darwin runs Mach-O files, not ELF"


# pip vendors distlib's Windows launchers (i386, x86-64, arm64) into every virtualenv.
REAL_PE = sorted(glob.glob(os.path.join(sys.prefix, "lib", "python3*", "site-packages", "pip", "_vendor", "distlib",
                                        "*.exe")))


def test_real_pe_launchers():
    assert REAL_PE, "pip's launcher .exe files are missing from the virtualenv (.ci/setup installs pip there)"
    seen = {}
    for path in REAL_PE:
        binary = identify_file(Path(path))
        name = Path(path).name
        arch = "arm64" if "arm" in name else "386" if "32" in name else "amd64"
        assert binary.archs == {arch}, name
        assert disagreement(binary, P(f"windows/{arch}")) is None
        assert disagreement(binary, P(f"linux/{arch}")) == "linux runs ELF files, not PE"
        seen[arch] = binary.what
    assert seen.get("386") == "PE i386"


@pytest.mark.parametrize("header, folder, suggested", [
    (elf("amd64"), "linux/arm64", "linux/amd64/"), (elf("amd64", osabi=9), "linux/amd64", "freebsd/amd64/"),
    (pe(0x8664), "linux/amd64", "windows/amd64/"), (macho(CPU["arm64"], platform=2), "darwin/arm64", "ios/arm64/"),
    (macho(CPU["arm64"]), "linux/arm64", "darwin/arm64/"), (elf("mips"), "linux/arm", ""),  # mips or mips64p32
])
def test_suggested_folder(header, folder, suggested):
    assert suggested_folder(identify_bytes(header), P(folder)) == suggested


def test_scan_refuses_a_wrong_architecture_before_hashing(tmp_path):
    src = tmp_path / "df"
    (src / "linux" / "arm64").mkdir(parents=True)
    (src / "linux" / "amd64").mkdir(parents=True)
    (src / "linux" / "arm64" / "albatros").write_bytes(elf("amd64"))
    (src / "linux" / "arm64" / "install.sh").write_bytes(b"#!/bin/sh\n")
    (src / "linux" / "amd64" / "albatros").write_bytes(elf("arm64"))
    with pytest.raises(InputError) as err:
        scan(src)
    assert err.value.message == ("df/linux/amd64/albatros: ELF aarch64, but its folder is linux/amd64: "
                                 "it runs on arm64 (and 1 more file)")
    assert err.value.fix.startswith("move it to df/linux/arm64/, or publish without this check (--no-platform-check")
    folders = scan(src, platform_check=False)
    assert [str(f.platform) for f in folders] == ["linux/amd64", "linux/arm64"]
    assert all(r.digest.startswith("sha256:") for f in folders for r in f.resources)


def test_scan_accepts_matching_binaries_and_other_files(tmp_path):
    src = tmp_path / "df"
    for folder, data in (("linux/amd64", elf("amd64", interp="/lib64/ld-linux-x86-64.so.2")),
                         ("freebsd/arm64", elf("arm64", osabi=9)), ("darwin/arm64", macho(CPU["arm64"], platform=1)),
                         ("windows/386", pe(0x014C, plus=False)), ("linux/arm/v7", elf("arm", cpu_arch=10))):
        (src / folder).mkdir(parents=True)
        (src / folder / "app").write_bytes(data)
        (src / folder / "README.md").write_text("# app\n")
    assert len(scan(src)) == 5
