"""The JavaScript that metadata-action's rules lean on: Handlebars, moment.js, RegExp.

`{{name}}` looks a name up (unknown names render as "", as Handlebars does);
`{{helper 'arg' key='v'}}` calls a helper. Dates use moment.js format tokens;
match patterns are JavaScript regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InputError

Helper = Callable[[list, dict], str]
Scope = Mapping[str, "str | Helper"]

_MUSTACHE = re.compile(r"\{\{\{(.*?)\}\}\}|\{\{(.*?)\}\}", re.S)
_ARG = re.compile(r"""\s*(?:([A-Za-z_][\w-]*)=)?(?:'([^']*)'|"([^"]*)"|([^\s'"=]+))""")
_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
_JS_REGEX = re.compile(r"^/(.+)/(.*)$", re.S)
_JS_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}


def render(template: str, scope: Scope, where: str) -> str:
    """Expand every `{{…}}` in template; `where` names the rule for error messages."""
    return _MUSTACHE.sub(lambda m: _expand(m.group(1) or m.group(2) or "", scope, where), template)


def _expand(expr: str, scope: Scope, where: str) -> str:
    expr = expr.strip().strip("~").strip()  # whitespace-control marks change nothing here
    if expr.startswith("!"):
        return ""  # a Handlebars comment
    name, params, hash_ = _parse(expr, where)
    value = scope.get(name)
    if callable(value):
        return value([_param(p, scope) for p in params], hash_)
    if params or hash_:
        raise InputError(
            f"{where}: unknown expression {{{{{expr}}}}}",
            f"use one of: {', '.join(k for k, v in scope.items() if callable(v))}",
        )
    return "" if value is None else str(value)


def _parse(expr: str, where: str) -> tuple[str, list, dict]:
    head, _, rest = expr.partition(" ")
    if not _NAME.match(head):
        raise InputError(
            f"{where}: unsupported expression {{{{{expr}}}}}",
            "block helpers and sub-expressions are not supported; use a plain {{name}}",
        )
    params: list = []
    hash_: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _ARG.match(rest, pos)
        if not m or m.end() == pos:
            raise InputError(f"{where}: cannot parse {{{{{expr}}}}}", "quote arguments: {{date 'YYYYMMDD'}}")
        key, single, double, bare = m.groups()
        quoted = single if single is not None else double
        if key:
            hash_[key] = quoted if quoted is not None else bare
        else:
            # An unquoted word is a lookup, as in Handlebars: usually undefined.
            params.append(("str", quoted) if quoted is not None else ("path", bare))
        pos = m.end()
    return head, params, hash_


def _param(param: tuple, scope: Scope):
    kind, text = param
    if kind == "str":
        return text
    value = scope.get(text)
    return None if value is None or callable(value) else str(value)


def date_helper(moment: datetime, where: str) -> Helper:
    """`{{date 'FORMAT' tz='Area/City'}}` over a fixed instant."""

    def helper(params: list, hash_: dict) -> str:
        tz = "UTC"
        for key, value in hash_.items():
            if key != "tz":
                raise InputError(f"{where}: unknown {key} attribute in a date expression", "only tz='Area/City' is allowed")
            tz = value
        return format_moment(moment, params[0] if params else None, tz, where)

    return helper


def format_moment(moment: datetime, fmt: str | None, tz: str, where: str = "tags") -> str:
    try:
        local = moment.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"{where}: unknown time zone {tz!r}", "use an IANA zone name such as tz='Europe/Paris'") from exc
    if fmt is None:
        # moment's default format: a literal Z at offset zero, else the offset.
        fmt = "YYYY-MM-DDTHH:mm:ss[Z]" if local.utcoffset() == timedelta(0) else "YYYY-MM-DDTHH:mm:ssZ"
    return _TOKENS.sub(lambda m: _token(m.group(0), local), fmt)


_TOKENS = re.compile(
    r"\[[^\[]*\]|YYYY|YY|Q|MMMM|MMM|MM|M|DDDD|DDD|Do|DD|D|dddd|ddd|d|HH|H|hh|h|mm|m|ss|s|SSS|SS|S|A|a|ZZ|Z|X|x"
)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _offset(t: datetime, sep: str) -> str:
    minutes = int(t.utcoffset().total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{sep}{mins:02d}"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _token(tok: str, t: datetime) -> str:
    if tok.startswith("["):
        return tok[1:-1]
    hour12 = t.hour % 12 or 12
    table = {
        "YYYY": f"{t.year:04d}", "YY": f"{t.year % 100:02d}", "Q": str((t.month - 1) // 3 + 1),
        "MMMM": _MONTHS[t.month - 1], "MMM": _MONTHS[t.month - 1][:3],
        "MM": f"{t.month:02d}", "M": str(t.month),
        "DDDD": f"{t.timetuple().tm_yday:03d}", "DDD": str(t.timetuple().tm_yday),
        "Do": _ordinal(t.day), "DD": f"{t.day:02d}", "D": str(t.day),
        "dddd": _DAYS[t.weekday()], "ddd": _DAYS[t.weekday()][:3], "d": str(t.isoweekday() % 7),
        "HH": f"{t.hour:02d}", "H": str(t.hour), "hh": f"{hour12:02d}", "h": str(hour12),
        "mm": f"{t.minute:02d}", "m": str(t.minute), "ss": f"{t.second:02d}", "s": str(t.second),
        "SSS": f"{t.microsecond // 1000:03d}", "SS": f"{t.microsecond // 10000:02d}", "S": str(t.microsecond // 100000),
        "A": "AM" if t.hour < 12 else "PM", "a": "am" if t.hour < 12 else "pm",
        "ZZ": _offset(t, ""), "Z": _offset(t, ":"),
        "X": str(int(t.timestamp())), "x": str(int(t.timestamp() * 1000)),
    }
    return table[tok]


def compile_js(pattern: str, source: str, literal_form: bool = True) -> tuple[re.Pattern, bool]:
    """A JavaScript regex (`/re/flags` or bare) as a Python one, and whether it is global.
    `literal_form=False`: the text is the body only, as `new RegExp(text)` reads it."""
    literal = _JS_REGEX.match(pattern) if literal_form else None
    body, flags = (literal.group(1), literal.group(2)) if literal else (pattern, "")
    body = re.sub(r"\(\?<(?![=!])", "(?P<", body)  # JS named groups
    try:
        # JS classes such as \d and \w are ASCII-only.
        return re.compile(body, re.ASCII | _flag_bits(flags, source)), "g" in flags
    except re.error as exc:
        raise InputError(f"tags: invalid pattern {pattern!r} in rule {source!r}: {exc}", "fix the regular expression") from None


def js_match(pattern: str, text: str, source: str, literal_form: bool = True) -> list[str | None] | None:
    """JavaScript's `text.match(pattern)`: groups of the first match; with g, all matches."""
    regex, is_global = compile_js(pattern, source, literal_form)
    if is_global:
        return [m.group(0) for m in regex.finditer(text)] or None
    m = regex.search(text)
    return [m.group(0), *m.groups()] if m else None


def _flag_bits(flags: str, source: str) -> int:
    bits = 0
    for flag in flags:
        if flag not in _JS_FLAGS and flag not in "gyu":
            raise InputError(f"tags: unknown regex flag {flag!r} in rule {source!r}", "use the flags i, m, s or g")
        bits |= _JS_FLAGS.get(flag, 0)
    return bits
