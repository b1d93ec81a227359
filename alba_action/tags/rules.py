"""The `tags` and `flavor` inputs: lines of `key=value,…` fields, as metadata-action reads them."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError
from .template import compile_js

TYPES = ("schedule", "semver", "pep440", "match", "edge", "ref", "raw", "sha")
PRIORITIES = {"schedule": 1000, "semver": 900, "pep440": 900, "match": 800,
              "edge": 700, "ref": 600, "raw": 200, "sha": 100}
DEFAULT_RULES = ("type=schedule", "type=ref,event=branch", "type=ref,event=tag", "type=ref,event=pr")
_COMMON = {"enable", "priority", "prefix", "suffix"}
_ATTRS = {
    "schedule": {"pattern"}, "semver": {"pattern", "value", "match"}, "pep440": {"pattern", "value", "match"},
    "match": {"pattern", "group", "value"}, "edge": {"branch"}, "ref": {"event"},
    "raw": {"value"}, "sha": {"format"},
}
_RULES_FIX = "write one rule a line, e.g. type=semver,pattern={{version}} (see docker/metadata-action's tags input)"


@dataclass(frozen=True)
class Rule:
    type: str
    attrs: dict[str, str]
    source: str  # as the user wrote it: quoted in every error about this rule
    priority: int

    def has(self, key: str) -> bool:
        return key in self.attrs


@dataclass(frozen=True)
class Flavor:
    latest: str = "auto"
    prefix: str = ""
    prefix_latest: bool = False
    suffix: str = ""
    suffix_latest: bool = False
    label_prefix: str = ""


def input_lines(value: list[str] | str | None) -> list[str]:
    """One entry a line; blank lines and `#` comment lines dropped (a `#` mid-line is kept)."""
    raw = value.splitlines() if isinstance(value, str) else list(value or [])
    lines = []
    for item in raw:
        for line in str(item).splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def split_fields(line: str, what: str) -> list[str]:
    """CSV fields of one line: `"…"` quotes a whole field (commas inside), `""` is a quote."""
    fields, pos = [], 0
    while pos <= len(line):
        if line.startswith('"', pos):
            text, pos = _quoted(line, pos, what)
        else:
            end = line.find(",", pos)
            end = len(line) if end < 0 else end
            text = line[pos:end]
            if '"' in text:
                # csv-parse rejects this too; say how to quote instead of guessing.
                raise InputError(f"{what}: a quote inside a field in {line!r}", 'quote the whole field: "pattern=a,b"')
            pos = end
        fields.append(text)
        pos += 1  # skip the comma
    return [f for f in fields if f.strip()]


def _quoted(line: str, pos: int, what: str) -> tuple[str, int]:
    out, i = [], pos + 1
    while i < len(line):
        if line[i] == '"':
            if line.startswith('""', i):
                out.append('"')
                i += 2
                continue
            if i + 1 < len(line) and line[i + 1] != ",":
                raise InputError(f"{what}: text after a closing quote in {line!r}", 'quote the whole field: "pattern=a,b"')
            return "".join(out), i + 1
        out.append(line[i])
        i += 1
    raise InputError(f"{what}: unclosed quote in {line!r}", "close the quote at the end of the field")


def _key_value(field: str) -> tuple[str, str] | tuple[None, str]:
    # Split at the first "=" only: values such as {{date 'X' tz='Asia/Tokyo'}} contain more.
    if "=" not in field:
        return None, field.strip()
    key, value = field.split("=", 1)
    return key.strip().lower(), value.strip()


def parse_rules(tags: list[str] | str | None) -> list[Rule]:
    """Rules sorted by priority, highest first (stable: equal priorities keep input order)."""
    lines = input_lines(tags) or list(DEFAULT_RULES)
    rules = [rule for line in lines for rule in _parse_line(line)]
    return sorted(rules, key=lambda r: -r.priority)


def _parse_line(line: str) -> list[Rule]:
    groups: list[list[tuple[str | None, str]]] = [[]]
    for field in split_fields(line, "tags"):
        key, value = _key_value(field)
        # Woodpecker and Drone comma-join list settings: a second type= starts a new rule.
        if key == "type" and any(k == "type" for k, _ in groups[-1]):
            groups.append([])
        groups[-1].append((key, value))
    source = line if len(groups) == 1 else None
    return [_rule(pairs, source or _join(pairs)) for pairs in groups if pairs]


def _join(pairs: list[tuple[str | None, str]]) -> str:
    return ",".join(f"{k}={v}" if k else v for k, v in pairs)


def _rule(pairs: list[tuple[str | None, str]], source: str) -> Rule:
    kind, attrs = "raw", {}
    for key, value in pairs:
        if key == "type":
            if value not in TYPES:
                raise InputError(f"tags: unknown type {value!r} in rule {source!r}", f"use one of: {', '.join(TYPES)}")
            kind = value
        else:
            attrs[key or "value"] = value
    unknown = sorted(set(attrs) - _COMMON - _ATTRS[kind])
    if unknown:
        allowed = ", ".join(sorted(_COMMON | _ATTRS[kind]))
        raise InputError(f"tags: unknown attribute {unknown[0]!r} for type={kind} in rule {source!r}", f"use one of: {allowed}")
    _check(kind, attrs, source)
    attrs.setdefault("enable", "true")
    return Rule(kind, attrs, source, _priority(kind, attrs, source))


def _require(attrs: dict, key: str, source: str, example: str) -> None:
    if key not in attrs:
        raise InputError(f"tags: missing {key} attribute in rule {source!r}", f"add it, e.g. {example}")


def _check(kind: str, attrs: dict, source: str) -> None:
    """Required attributes, allowed values and defaults, per type (metadata-action's tag.ts)."""
    if kind == "schedule":
        attrs.setdefault("pattern", "nightly")
    elif kind in ("semver", "pep440"):
        _require(attrs, "pattern", source, f"type={kind},pattern={{{{version}}}}")
        attrs.setdefault("value", "")
        attrs.setdefault("match", "")
        if attrs["match"]:
            # Upstream reads match= as `new RegExp(text)` and takes its first group.
            regex, _ = compile_js(attrs["match"], source, literal_form=False)
            if regex.groups < 1:
                raise InputError(f"tags: match={attrs['match']!r} in rule {source!r} has no group",
                                 "put the version in parentheses, e.g. match=v(\\d+\\.\\d+\\.\\d+)$")
    elif kind == "match":
        _require(attrs, "pattern", source, "type=match,pattern=v(.*),group=1")
        attrs.setdefault("group", "0")
        attrs.setdefault("value", "")
        if not attrs["group"].isdigit():
            raise InputError(f"tags: invalid match group {attrs['group']!r} in rule {source!r}", "group= takes a group number")
        compile_js(attrs["pattern"], source)  # fail on a bad regex even when no tag is being built
    elif kind == "edge":
        attrs.setdefault("branch", "")
    elif kind == "ref":
        _require(attrs, "event", source, "type=ref,event=branch")
        if attrs["event"] not in ("branch", "tag", "pr"):
            raise InputError(f"tags: invalid event {attrs['event']!r} in rule {source!r}", "use event=branch, event=tag or event=pr")
        if attrs["event"] == "pr":
            attrs.setdefault("prefix", "pr-")
    elif kind == "raw":
        _require(attrs, "value", source, "type=raw,value=stable")
    elif kind == "sha":
        attrs.setdefault("prefix", "sha-")
        attrs.setdefault("format", "short")
        if attrs["format"] not in ("short", "long"):
            raise InputError(f"tags: invalid format {attrs['format']!r} in rule {source!r}", "use format=short or format=long")


def _priority(kind: str, attrs: dict, source: str) -> int:
    text = attrs.get("priority", str(PRIORITIES[kind]))
    try:
        return int(text)
    except ValueError:
        raise InputError(f"tags: priority {text!r} is not a number in rule {source!r}", "use a whole number, e.g. priority=1000") from None


def parse_flavor(flavor: list[str] | str | None) -> Flavor:
    values: dict = {}
    for line in input_lines(flavor):
        target = ""  # which of prefix/suffix a following onlatest= applies to
        for field in split_fields(line, "flavor"):
            key, value = _key_value(field)
            target = _flavor_field(values, key, value, target, line)
    return Flavor(**values)


def _flavor_field(values: dict, key: str | None, value: str, target: str, line: str) -> str:
    if key == "latest":
        if value not in ("auto", "true", "false"):
            raise InputError(f"flavor: invalid latest={value!r} in {line!r}", "use latest=auto, latest=true or latest=false")
        values["latest"] = value
    elif key in ("prefix", "suffix"):
        values[key] = value
        return key
    elif key == "onlatest":
        if value not in ("true", "false"):
            raise InputError(f"flavor: invalid onlatest={value!r} in {line!r}", "use onlatest=true or onlatest=false")
        if target:
            values[f"{target}_latest"] = value == "true"
    elif key == "labelprefix":
        values["label_prefix"] = value
    else:
        raise InputError(f"flavor: unknown entry {line!r}", "use latest=, prefix=, suffix= and onlatest=")
    return target
