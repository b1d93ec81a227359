"""One copy of each small grammar alba accepts: OCI names and tags, booleans, sizes,
durations, and the compact JSON every document is written in.

ASCII only, as the OCI distribution spec writes them: Python's `\\w` and `\\d` match
non-ASCII letters and digits, so no pattern here uses them.
"""

from __future__ import annotations

import json
import re
from typing import Any

_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
COMPONENT_RE = re.compile(_COMPONENT)
NAME_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
TAG_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
MAX_TAG = 128
DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}")
TAG_RULE = "up to 128 characters of A-Z, a-z, 0-9, '.', '_' or '-', not starting with '.' or '-'"

TRUE = frozenset({"true", "1", "yes", "on"})
FALSE = frozenset({"false", "0", "no", "off"})

_SIZE = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)I?B?", re.IGNORECASE)
_DURATION = re.compile(r"(-?[0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)?", re.IGNORECASE)
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def is_tag(text: str) -> bool:
    return TAG_RE.fullmatch(text) is not None


def is_name(text: str, single: bool = False) -> bool:
    return (COMPONENT_RE if single else NAME_RE).fullmatch(text) is not None and len(text) <= 255


def is_digest(text: object) -> bool:
    """`sha256:` and 64 lower-case hex digits: the only digests alba writes or follows."""
    return isinstance(text, str) and DIGEST_RE.fullmatch(text) is not None


def is_relative_path(text: object) -> bool:
    """A path that stays in its folder: `/`-separated, no empty, `.` or `..` part, no
    leading `/`, no backslash, NUL or control character (what documents may name)."""
    if not isinstance(text, str) or not text or len(text) > 4096:
        return False
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        return False
    return all(part not in ("", ".", "..") for part in text.split("/"))


def parse_bool(value: Any) -> bool:
    """true/false, 1/0, yes/no, on/off in any case; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"{value!r} is not a boolean; write true or false")


def parse_size(value: Any) -> int | None:
    """`512M`, `16G`, `1.5GiB`, `4096` → bytes; empty → None; ValueError otherwise."""
    if value is None or isinstance(value, int) or str(value).strip() == "":
        return value or None
    match = _SIZE.fullmatch(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a size; write e.g. 512M or 16G")
    number, unit = match.groups()
    return int(float(number) * 1024 ** "_KMGT".index(unit.upper() or "_"))


def parse_duration(value: Any) -> float:
    """`90`, `90s`, `15m`, `1h`, `2d`, `0` → seconds (never negative); ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip())
        if not match:
            raise ValueError(f"{value!r} is not a duration; write e.g. 0, 90s, 15m or 1h")
        number, unit = match.groups()
        seconds = float(number) * _SECONDS[(unit or "s").lower()]
    if seconds < 0:
        raise ValueError(f"{value!r} is negative; write 0 or more, e.g. 0, 90s or 1h")
    return seconds


def compact_json(doc: Any) -> bytes:
    """The bytes every JSON document alba writes is made of: no spaces, UTF-8, key order kept."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
