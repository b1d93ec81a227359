"""The facts an executable header holds, read with a bounded number of small reads: ELF
(and its interpreter and ARM build attributes), Mach-O thin and universal (and the platform
its load commands name), PE/COFF (machine, subsystem, .NET header). No judgement here:
alba_action/static/binaries.py maps these facts to Go platforms."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

Read = Callable[[int, int], bytes]

EM_SPARC, EM_386, EM_MIPS, EM_SPARC32PLUS, EM_PPC, EM_PPC64, EM_S390 = 2, 3, 8, 18, 20, 21, 22
EM_ARM, EM_SPARCV9, EM_X86_64, EM_AARCH64, EM_RISCV, EM_LOONGARCH = 40, 43, 62, 183, 243, 258
CPU_X86, CPU_X86_64, CPU_ARM, CPU_ARM64, CPU_PPC, CPU_PPC64 = 7, 0x01000007, 12, 0x0100000C, 18, 0x01000012
PT_INTERP, SHT_ARM_ATTRIBUTES = 3, 0x70000003
MACHO_MAGICS = {b"\xce\xfa\xed\xfe": (32, "<"), b"\xcf\xfa\xed\xfe": (64, "<"),
                b"\xfe\xed\xfa\xce": (32, ">"), b"\xfe\xed\xfa\xcf": (64, ">")}
FAT_MAGIC, FAT_MAGIC_64 = b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf"
MAX_FAT_ARCHS = 30  # Java class files share 0xcafebabe; their version there is 45 or more
MAX_TABLE = 256 << 10  # program/section headers and load commands read at most
# Tag_CPU_arch (ARM ABI addenda, build attributes) → the ARM architecture it needs.
ARM_CPU_ARCH_LEVEL = {0: 4, 1: 4, 2: 4, 3: 5, 4: 5, 5: 5, 6: 6, 7: 6, 8: 6, 9: 6, 10: 7, 11: 6, 12: 6, 13: 7}
MACHO_ARM_LEVEL = {7: 5, 6: 6, 9: 7, 11: 7, 12: 7}  # CPU_SUBTYPE_ARM_V5TEJ, V6, V7, V7S, V7K
# LC_VERSION_MIN_* → Mach-O platform numbers, as LC_BUILD_VERSION names them.
MACHO_MIN_VERSION = {0x24: 1, 0x25: 2, 0x2F: 3, 0x30: 4}
LC_BUILD_VERSION = 0x32


@dataclass(frozen=True)
class ElfFacts:
    bits: int
    order: str  # "LE" / "BE"
    osabi: int
    machine: int
    flags: int
    interpreter: str = ""
    arm_cpu_arch: int | None = None  # Tag_CPU_arch, when the file carries .ARM.attributes


@dataclass(frozen=True)
class MachoSlice:
    bits: int
    cputype: int
    cpusubtype: int
    platform: int | None = None  # LC_BUILD_VERSION / LC_VERSION_MIN_*: 1 macOS, 2 iOS, …


@dataclass(frozen=True)
class PeFacts:
    machine: int
    subsystem: int | None
    clr: bool  # a .NET assembly (CLI header present)


def read_elf(read: Read, head: bytes) -> ElfFacts | None:
    if len(head) < 52 or head[4] not in (1, 2) or head[5] not in (1, 2):
        return None
    bits, order = (32, 64)[head[4] - 1], ("LE", "BE")[head[5] - 1]
    e = "<" if order == "LE" else ">"
    machine = struct.unpack_from(e + "H", head, 18)[0]
    if bits == 32:
        phoff, shoff, flags, phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "IIIxxHHHH", head, 28)
    else:
        if len(head) < 64:
            return None
        phoff, shoff, flags, _, phentsize, phnum, shentsize, shnum = struct.unpack_from(e + "QQIHHHHH", head, 32)
    interpreter = _interpreter(read, e, bits, phoff, phentsize, phnum)
    arm = _arm_cpu_arch(read, e, shoff, shentsize, shnum) if machine == EM_ARM and bits == 32 else None
    return ElfFacts(bits, order, head[7], machine, flags, interpreter, arm)


def _table(read: Read, offset: int, entsize: int, count: int, least: int) -> list[bytes]:
    if not offset or entsize < least or not 0 < count * entsize <= MAX_TABLE:
        return []
    data = read(offset, count * entsize)
    return [data[i:i + entsize] for i in range(0, len(data) - entsize + 1, entsize)]


def _interpreter(read: Read, e: str, bits: int, phoff: int, entsize: int, count: int) -> str:
    for ph in _table(read, phoff, entsize, count, 32 if bits == 32 else 56):
        if struct.unpack_from(e + "I", ph)[0] != PT_INTERP:
            continue
        offset, size = struct.unpack_from(e + ("4xI8xI" if bits == 32 else "8xQ16xQ"), ph)
        if 0 < size <= 4096:
            return read(offset, size).split(b"\0", 1)[0].decode("utf-8", "replace")
    return ""


def _arm_cpu_arch(read: Read, e: str, shoff: int, entsize: int, count: int) -> int | None:
    for sh in _table(read, shoff, entsize, count, 40):
        sh_type, offset, size = struct.unpack_from(e + "I8xII", sh, 4)
        if sh_type == SHT_ARM_ATTRIBUTES and 0 < size <= MAX_TABLE:
            return arm_cpu_arch(read(offset, size), e)
    return None


def arm_cpu_arch(data: bytes, e: str = "<") -> int | None:
    """Tag_CPU_arch of the file-wide "aeabi" attributes, or None (absent or malformed)."""
    if data[:1] != b"A":
        return None
    try:
        pos = 1
        while pos + 4 <= len(data):
            length = struct.unpack_from(e + "I", data, pos)[0]
            vendor_end = data.index(b"\0", pos + 4)
            if length < 5:
                return None
            if data[pos + 4:vendor_end] == b"aeabi":
                return _file_attribute(data[vendor_end + 1:pos + length], e, 6)
            pos += length
    except (ValueError, struct.error, IndexError):
        return None
    return None


def _file_attribute(data: bytes, e: str, wanted: int) -> int | None:
    pos = 0
    while pos + 5 <= len(data):
        tag, size = data[pos], struct.unpack_from(e + "I", data, pos + 1)[0]
        if size < 5:
            return None
        if tag == 1:  # Tag_File: attributes of the whole file
            body, i = data[pos + 5:pos + size], 0
            while i < len(body):
                attr, i = _uleb(body, i)
                if attr == wanted:
                    return _uleb(body, i)[0]
                if attr in (4, 5) or (attr > 32 and attr % 2):
                    i = body.index(b"\0", i) + 1  # a NUL-terminated string
                elif attr == 32:  # Tag_compatibility: a number, then a string
                    i = body.index(b"\0", _uleb(body, i)[1]) + 1
                else:
                    i = _uleb(body, i)[1]
        pos += size
    return None


def _uleb(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def is_fat(head: bytes) -> bool:
    if head[:4] not in (FAT_MAGIC, FAT_MAGIC_64) or len(head) < 8:
        return False
    return 0 < struct.unpack_from(">I", head, 4)[0] <= MAX_FAT_ARCHS


def read_macho(read: Read, head: bytes) -> list[MachoSlice]:
    """One slice for a thin file, one per architecture for a universal one."""
    if head[:4] in MACHO_MAGICS:
        thin = _thin(read, 0)
        return [thin] if thin else []
    wide = head[:4] == FAT_MAGIC_64
    count, size = struct.unpack_from(">I", head, 4)[0], 32 if wide else 20
    table = read(8, count * size)
    slices = []
    for i in range(len(table) // size):
        cputype, subtype, offset = struct.unpack_from(">iiQ" if wide else ">iiI", table, i * size)
        thin = _thin(read, offset)
        slices.append(thin or MachoSlice(64 if cputype & 0x01000000 else 32, cputype & 0xFFFFFFFF,
                                         subtype & 0x00FFFFFF))
    return slices


def _thin(read: Read, base: int) -> MachoSlice | None:
    head = read(base, 32)
    if head[:4] not in MACHO_MAGICS or len(head) < 28:
        return None
    bits, e = MACHO_MAGICS[head[:4]]
    cputype, subtype, _, ncmds, sizeofcmds = struct.unpack_from(e + "iiIII", head, 4)
    commands = read(base + (28 if bits == 32 else 32), min(sizeofcmds, MAX_TABLE))
    return MachoSlice(bits, cputype & 0xFFFFFFFF, subtype & 0x00FFFFFF, _platform(commands, e, ncmds))


def _platform(commands: bytes, e: str, ncmds: int) -> int | None:
    pos = 0
    for _ in range(ncmds):
        if pos + 12 > len(commands):
            return None
        cmd, size = struct.unpack_from(e + "II", commands, pos)
        if cmd == LC_BUILD_VERSION:
            return struct.unpack_from(e + "I", commands, pos + 8)[0]
        if cmd in MACHO_MIN_VERSION:
            return MACHO_MIN_VERSION[cmd]
        if size < 8:
            return None
        pos += size
    return None


def read_pe(read: Read, head: bytes) -> PeFacts | None:
    if len(head) < 64:
        return None
    lfanew = struct.unpack_from("<I", head, 0x3C)[0]
    coff = read(lfanew, 24 + 240)
    if len(coff) < 24 or coff[:4] != b"PE\0\0":
        return None  # an MS-DOS program, or not an executable at all
    machine, optional_size = struct.unpack_from("<H", coff, 4)[0], struct.unpack_from("<H", coff, 20)[0]
    optional = coff[24:24 + optional_size]
    if len(optional) < 70:
        return PeFacts(machine, None, False)
    magic, subsystem = struct.unpack_from("<H", optional)[0], struct.unpack_from("<H", optional, 68)[0]
    count_at = 92 if magic == 0x10B else 108
    clr = False
    if len(optional) >= count_at + 4 and struct.unpack_from("<I", optional, count_at)[0] > 14:
        clr_at = count_at + 4 + 14 * 8  # data directory 14: the CLI (.NET) header
        clr = len(optional) >= clr_at + 8 and struct.unpack_from("<II", optional, clr_at) != (0, 0)
    return PeFacts(machine, subsystem, clr)
