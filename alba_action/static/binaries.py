"""What an executable file is, read from its header, and whether it fits its platform folder.

ELF (class, byte order, OS ABI, machine; the interpreter's path; for ARM the build
attributes), Mach-O (thin and universal; the platform its load commands name) and PE/COFF
(machine; .NET and UEFI images) are read; every other file (scripts, text, data, archives)
is no binary and never refused. A binary is refused only for what is certain: its machine is
a Go architecture other than the folder's, its OS ABI, interpreter or Mach-O platform names
another system, or it is a format the folder's OS never runs. Machines that are no Go
architecture (eBPF, GPU code objects, AVR…) count as data. docs/formats.md repeats the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alba_action.platforms import Platform
from alba_action.static import binary_formats as bf


@dataclass(frozen=True)
class ArchHeader:
    """How one GOARCH shows in each header: ELF (class bits, byte order, e_machine values),
    Mach-O cputype values, PE machine values."""

    elf: tuple[int, str, tuple[int, ...]] | None = None
    macho: tuple[int, ...] = ()
    pe: tuple[int, ...] = ()


# Go's GOARCH → header values (docs/formats.md, "Platform check of static files").
ARCHES: dict[str, ArchHeader] = {
    "386": ArchHeader((32, "LE", (bf.EM_386,)), (bf.CPU_X86,), (0x014C,)),
    "amd64": ArchHeader((64, "LE", (bf.EM_X86_64,)), (bf.CPU_X86_64,), (0x8664,)),
    "amd64p32": ArchHeader((32, "LE", (bf.EM_X86_64,))),
    "arm": ArchHeader((32, "LE", (bf.EM_ARM,)), (bf.CPU_ARM,), (0x01C0, 0x01C4)),
    "armbe": ArchHeader((32, "BE", (bf.EM_ARM,))),
    "arm64": ArchHeader((64, "LE", (bf.EM_AARCH64,)), (bf.CPU_ARM64,), (0xAA64, 0xA64E)),
    "arm64be": ArchHeader((64, "BE", (bf.EM_AARCH64,))),
    "loong64": ArchHeader((64, "LE", (bf.EM_LOONGARCH,)), (), (0x6264,)),
    "mips": ArchHeader((32, "BE", (bf.EM_MIPS,))),
    "mipsle": ArchHeader((32, "LE", (bf.EM_MIPS,))),
    "mips64": ArchHeader((64, "BE", (bf.EM_MIPS,))),
    "mips64le": ArchHeader((64, "LE", (bf.EM_MIPS,))),
    "mips64p32": ArchHeader((32, "BE", (bf.EM_MIPS,))),  # n32 is a 32-bit ELF, as o32 `mips` is
    "mips64p32le": ArchHeader((32, "LE", (bf.EM_MIPS,))),
    "ppc": ArchHeader((32, "BE", (bf.EM_PPC,)), (bf.CPU_PPC,)),
    "ppc64": ArchHeader((64, "BE", (bf.EM_PPC64,)), (bf.CPU_PPC64,)),
    "ppc64le": ArchHeader((64, "LE", (bf.EM_PPC64,))),
    "riscv": ArchHeader((32, "LE", (bf.EM_RISCV,)), (), (0x5032,)),
    "riscv64": ArchHeader((64, "LE", (bf.EM_RISCV,)), (), (0x5064,)),
    "s390": ArchHeader((32, "BE", (bf.EM_S390,))),
    "s390x": ArchHeader((64, "BE", (bf.EM_S390,))),
    "sparc": ArchHeader((32, "BE", (bf.EM_SPARC, bf.EM_SPARC32PLUS))),
    "sparc64": ArchHeader((64, "BE", (bf.EM_SPARCV9,))),
    "wasm": ArchHeader(),  # WebAssembly modules have no machine
}
# The format each GOOS runs; an OS not listed (zos) is never judged by format.
ELF_OSES = frozenset("android dragonfly freebsd hurd illumos linux nacl netbsd openbsd solaris".split())
OS_FORMAT = {**{os: "ELF" for os in ELF_OSES}, "darwin": "Mach-O", "ios": "Mach-O", "windows": "PE",
             "aix": "XCOFF", "plan9": "Plan 9 a.out", "js": "WebAssembly", "wasip1": "WebAssembly"}
# EI_OSABI values that name a system (1–63; 0 is System V, which every ELF OS runs, and 64–255
# are processor-specific), with the GOOSes that run it; an empty set: no Go OS does.
ELF_OSABI = {2: ("NetBSD", {"netbsd"}), 3: ("GNU/Linux", {"linux", "android", "hurd"}), 4: ("GNU/Hurd", {"hurd"}),
             6: ("Solaris", {"solaris", "illumos"}), 9: ("FreeBSD", {"freebsd"}), 12: ("OpenBSD", {"openbsd"}),
             1: ("HP-UX", set()), 8: ("IRIX", set()), 10: ("Tru64", set()), 13: ("OpenVMS", set())}
MACHO_PLATFORM = {1: ("macOS", {"darwin"}), 2: ("iOS", {"ios"}), 3: ("tvOS", set()), 4: ("watchOS", set()),
                  5: ("bridgeOS", set()), 6: ("Mac Catalyst", {"darwin"}), 7: ("iOS simulator", {"ios"}),
                  8: ("tvOS simulator", set()), 9: ("watchOS simulator", set()), 10: ("DriverKit", {"darwin"}),
                  11: ("visionOS", set()), 12: ("visionOS simulator", set())}
FORMAT_HOME = {"ELF": "linux", "Mach-O": "darwin", "PE": "windows"}  # where a file of the wrong format may belong
ARM_VARIANT_LEVEL = {"v5": 5, "v6": 6, "v7": 7}  # the oldest ARM architecture a folder's variant runs on
ELF_NAMES = {bf.EM_386: "i386", bf.EM_X86_64: "x86-64", bf.EM_ARM: "ARM", bf.EM_AARCH64: "aarch64",
             bf.EM_LOONGARCH: "LoongArch", bf.EM_MIPS: "MIPS", bf.EM_PPC: "PowerPC", bf.EM_PPC64: "PowerPC64",
             bf.EM_RISCV: "RISC-V", bf.EM_S390: "S/390", bf.EM_SPARC: "SPARC", bf.EM_SPARC32PLUS: "SPARC32PLUS",
             bf.EM_SPARCV9: "SPARC V9", 247: "eBPF", 224: "AMDGPU", 190: "CUDA", 83: "AVR", 94: "Xtensa"}
MACHO_NAMES = {bf.CPU_X86: "i386", bf.CPU_X86_64: "x86_64", bf.CPU_ARM: "arm", bf.CPU_ARM64: "arm64",
               0x0200000C: "arm64_32", bf.CPU_PPC: "ppc", bf.CPU_PPC64: "ppc64"}
PE_NAMES = {0x014C: "i386", 0x8664: "x86-64", 0x01C0: "ARM", 0x01C4: "ARMv7 Thumb-2", 0xAA64: "arm64",
            0xA64E: "arm64x", 0x5032: "RISC-V 32", 0x5064: "RISC-V 64", 0x6264: "LoongArch64", 0x0200: "IA-64"}
PE_EFI_SUBSYSTEMS = {10, 11, 12, 13}


@dataclass(frozen=True)
class Binary:
    """What a header says. `archs`: the GOARCHes it runs on (None: any, e.g. .NET IL; empty:
    no Go architecture); `oses`: the GOOSes it may run on, when the file names a system;
    `portable`: runs on no OS in particular (WebAssembly, .NET, UEFI); `arm_level`: the ARM
    architecture its build attributes require."""

    format: str  # ELF, Mach-O, PE, WebAssembly
    what: str  # e.g. "ELF x86-64", "Mach-O universal (x86_64, arm64)", "PE i386"
    archs: frozenset[str] | None
    oses: frozenset[str] | None = None
    portable: bool = False
    arm_level: int | None = None


def identify(read: bf.Read) -> Binary | None:
    """The binary the bytes read are, or None for anything else (scripts, text, data)."""
    head = read(0, 64)
    if head.startswith(b"\x7fELF"):
        facts = bf.read_elf(read, head)
        return _elf(facts) if facts else None
    if head[:4] in bf.MACHO_MAGICS or bf.is_fat(head):
        slices = bf.read_macho(read, head)
        return _macho(slices, fat=head[:4] not in bf.MACHO_MAGICS) if slices else None
    if head.startswith(b"MZ"):
        facts = bf.read_pe(read, head)
        return _pe(facts) if facts else None
    if head.startswith(b"\0asm\x01\0\0\0"):
        return Binary("WebAssembly", "WebAssembly module", None, portable=True)
    return None


def identify_file(path: Path) -> Binary | None:
    with open(path, "rb") as f:
        def read(offset: int, size: int) -> bytes:
            f.seek(offset)
            return f.read(size)

        return identify(read)


def identify_bytes(data: bytes) -> Binary | None:
    return identify(lambda offset, size: data[offset:offset + size])


def disagreement(binary: Binary | None, platform: Platform) -> str | None:
    """Why `binary` cannot be what the folder `platform` offers; None when it may be."""
    if binary is None or binary.archs == frozenset():
        return None
    runs = OS_FORMAT.get(platform.os)
    if not binary.portable and runs and runs != binary.format:
        return f"{platform.os} runs {runs} files, not {binary.format}"
    if binary.oses is not None and platform.os not in binary.oses:
        return f"it is built for {' or '.join(sorted(binary.oses)) or 'a system Go does not target'}"
    if binary.archs is not None and platform.architecture not in binary.archs:
        return f"it runs on {'/'.join(sorted(binary.archs))}"
    level = ARM_VARIANT_LEVEL.get(platform.variant or "")
    if platform.architecture == "arm" and level and binary.arm_level and binary.arm_level > level:
        return f"it needs ARMv{binary.arm_level}, newer than {platform.variant}"
    return None


def suggested_folder(binary: Binary, platform: Platform) -> str:
    """`OS/ARCH/` where the header says the file belongs, when it says so; else ''."""
    archs = sorted(binary.archs or ())
    if len(archs) != 1:
        return ""
    if binary.oses:
        os_ = platform.os if platform.os in binary.oses else min(binary.oses)
    elif binary.portable or OS_FORMAT.get(platform.os, binary.format) == binary.format:
        os_ = platform.os
    else:
        os_ = FORMAT_HOME.get(binary.format, "")
    return f"{os_}/{archs[0]}/" if os_ else ""


def _elf(f: bf.ElfFacts) -> Binary:
    archs = frozenset(a for a, h in ARCHES.items() if h.elf and h.elf[:2] == (f.bits, f.order) and f.machine in h.elf[2])
    name = ELF_NAMES.get(f.machine, f"machine {f.machine}")
    if f.machine in (bf.EM_MIPS, bf.EM_RISCV) or (f.machine == bf.EM_X86_64 and f.bits == 32):
        name += f" {f.bits}-bit"
    if f.machine in (bf.EM_MIPS, bf.EM_PPC64) or (f.order == "BE" and f.machine in (bf.EM_ARM, bf.EM_AARCH64)):
        name += " big-endian" if f.order == "BE" else " little-endian"
    level = bf.ARM_CPU_ARCH_LEVEL.get(f.arm_cpu_arch, 8) if f.arm_cpu_arch is not None else None
    if f.machine == bf.EM_ARM:
        name += _arm_flags(f.flags) + (f" ARMv{level}" if level else "")
    oses, notes = None, []
    if f.osabi in ELF_OSABI:
        label, oses = ELF_OSABI[f.osabi][0], frozenset(ELF_OSABI[f.osabi][1])
        notes.append(label)
    by_interpreter = interpreter_oses(f.interpreter)
    if by_interpreter is not None:
        oses = by_interpreter if oses is None else oses & by_interpreter
        notes.append(f"interpreter {f.interpreter}")
    return Binary("ELF", f"ELF {name}" + (f" ({', '.join(notes)})" if notes else ""), archs, oses, arm_level=level)


def _arm_flags(flags: int) -> str:
    eabi = flags >> 24
    out = f" EABI{eabi}" if eabi else ""
    if flags & 0x400:
        out += " hard-float"
    elif flags & 0x200:
        out += " soft-float"
    return out


def interpreter_oses(path: str) -> frozenset[str] | None:
    """The GOOSes whose dynamic loader has this path, for paths only one system uses."""
    base, folder = path.rsplit("/", 1)[-1], path.rsplit("/", 1)[0] if "/" in path else ""
    if base.startswith(("ld-linux", "ld-musl-")):
        return frozenset({"linux"})
    known = {"ld-elf.so.1": "freebsd", "ld-elf32.so.1": "freebsd", "ld-elf.so.2": "dragonfly",
             "ld.elf_so": "netbsd"}
    if base in known:
        return frozenset({known[base]})
    if path == "/usr/libexec/ld.so":
        return frozenset({"openbsd"})
    if base in ("linker", "linker64") and folder.endswith("/system/bin"):
        return frozenset({"android"})
    if base == "ld.so.1" and folder.endswith(("/amd64", "/64", "/sparcv9")):
        return frozenset({"solaris", "illumos"})
    return None


def _macho(slices: list[bf.MachoSlice], fat: bool) -> Binary:
    archs: set[str] = set()
    names, oses, platforms, level = [], set(), [], None
    for s in slices:
        archs |= {a for a, h in ARCHES.items() if s.cputype in h.macho}
        names.append(MACHO_NAMES.get(s.cputype, f"cputype {s.cputype:#x}"))
        if s.cputype == bf.CPU_ARM:
            level = bf.MACHO_ARM_LEVEL.get(s.cpusubtype)
        if s.platform in MACHO_PLATFORM:
            label, runs = MACHO_PLATFORM[s.platform]
            platforms.append(label)
            oses |= runs
    known = len(platforms) == len(slices)  # a slice that names no platform may run anywhere
    what = f"Mach-O universal ({', '.join(names)})" if fat else f"Mach-O {names[0]}"
    if platforms:
        what += f" ({', '.join(dict.fromkeys(platforms))})"
    return Binary("Mach-O", what, frozenset(archs), frozenset(oses) if known else None,
                  arm_level=level if len(slices) == 1 else None)


def _pe(f: bf.PeFacts) -> Binary:
    name = PE_NAMES.get(f.machine, f"machine {f.machine:#x}")
    if f.clr:  # .NET: the runtime compiles it on any system (ReadyToRun images too)
        return Binary("PE", f"PE .NET assembly ({name})", None, portable=True)
    archs = frozenset(a for a, h in ARCHES.items() if f.machine in h.pe)
    level = 7 if f.machine == 0x01C4 else None
    if f.subsystem in PE_EFI_SUBSYSTEMS:  # UEFI: run by firmware, whatever the OS
        return Binary("PE", f"PE {name} UEFI image", archs, portable=True, arm_level=level)
    return Binary("PE", f"PE {name}", archs, arm_level=level)
