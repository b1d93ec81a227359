"""Rules + context → version and tag values, following docker/metadata-action v5's meta.ts.

Pure: no environment, no clock (the context carries `now`), no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..context.model import HEADS, TAGS, Context, parse_iso
from ..errors import InputError
from .rules import Flavor, Rule
from .template import date_helper, js_match, render
from .versions import parse_pep440, parse_semver

_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]+")
_PR_SUFFIX = re.compile(r"/(?:merge|head)$")


def sanitize(value: str) -> str:
    """metadata-action's own clean-up: runs of disallowed characters become one `-`."""
    return _UNSAFE.sub("-", value)


@dataclass
class Version:
    """metadata-action's Version: the main value, the others, and whether `latest` applies."""

    main: str | None = None
    partial: list[str] = field(default_factory=list)
    latest: bool | None = None

    def add(self, value: str, latest: bool) -> None:
        if not value:
            return
        value = sanitize(value)
        if self.main is None:
            self.main = value
        elif value != self.main and value not in self.partial:
            self.partial.append(value)
        if self.latest is None:
            self.latest = latest  # decided by the highest-priority rule that produced a value


class Evaluator:
    def __init__(self, ctx: Context, flavor: Flavor) -> None:
        self.ctx = ctx
        self.flavor = flavor
        commit = parse_iso(ctx.commit_date) if ctx.commit_date else None
        self.commit_date = commit or ctx.now

    def run(self, rules: list[Rule]) -> Version:
        version = Version()
        handlers = {
            "schedule": self._schedule, "semver": self._semver, "pep440": self._pep440,
            "match": self._match, "edge": self._edge, "ref": self._ref, "raw": self._raw, "sha": self._sha,
        }
        for rule in rules:
            if self._enabled(rule):
                produced = handlers[rule.type](rule)
                if produced is not None:
                    value, auto_latest = produced
                    version.add(self._affix(value, rule), self._latest(auto_latest))
        version.latest = bool(version.latest)
        return version

    # -- the parts of meta.ts shared by every type -------------------------------------
    def _latest(self, auto: bool) -> bool:
        return auto if self.flavor.latest == "auto" else self.flavor.latest == "true"

    def _enabled(self, rule: Rule) -> bool:
        enabled = self.expand(rule.attrs["enable"], rule)
        if enabled not in ("true", "false"):
            raise InputError(f"tags: enable={enabled!r} in rule {rule.source!r}", "enable= must give true or false")
        return enabled == "true"

    def _affix(self, value: str, rule: Rule) -> str:
        """A rule's own prefix=/suffix= (even empty) wins over the flavor's."""
        prefix = rule.attrs["prefix"] if rule.has("prefix") else self.flavor.prefix
        suffix = rule.attrs["suffix"] if rule.has("suffix") else self.flavor.suffix
        return f"{self.expand(prefix, rule)}{value}{self.expand(suffix, rule)}"

    def expand(self, text: str, rule: Rule | None = None) -> str:
        """The global expressions: {{branch}}, {{tag}}, {{sha}}, {{date 'F'}}, …"""
        return render(text, self.global_scope(rule), self._where(rule))

    def _where(self, rule: Rule | None) -> str:
        return f"tags: rule {rule.source!r}" if rule else "flavor"

    def global_scope(self, rule: Rule | None) -> dict:
        ctx, where = self.ctx, self._where(rule)
        return {
            "branch": lambda p, h: ctx.ref[len(HEADS):] if ctx.is_branch else "",
            "tag": lambda p, h: ctx.ref[len(TAGS):] if ctx.is_tag else "",
            "sha": lambda p, h: self.short_sha(),
            "base_ref": lambda p, h: ctx.base_ref if (ctx.is_tag or ctx.is_pull_request) else "",
            "is_default_branch": lambda p, h: "true" if self.is_default_branch() else "false",
            "is_not_default_branch": lambda p, h: "false" if self.is_default_branch() else "true",
            "date": date_helper(ctx.now, where),
            "commit_date": date_helper(self.commit_date, where),
        }

    def short_sha(self) -> str:
        return self.ctx.sha[: self.ctx.short_sha_length]

    def is_default_branch(self) -> bool:
        ctx = self.ctx
        branch = ctx.ref.removeprefix(HEADS)
        if not branch:
            return False
        if ctx.default_branch and branch == ctx.default_branch:
            return True
        # These GitHub events always run on the default branch's last commit.
        return any(word in ctx.event for word in ("create", "discussion", "issues", "schedule"))

    def _tag_name(self) -> str:
        return self.ctx.ref[len(TAGS):]

    # -- one method per type: (value, latest-when-auto) or None when not applicable --------
    def _schedule(self, rule: Rule):
        if "schedule" not in self.ctx.event:
            return None
        where = self._where(rule)
        scope = {"date": date_helper(self.ctx.now, where), "commit_date": date_helper(self.commit_date, where)}
        return render(rule.attrs["pattern"], scope, where), False

    def _version_input(self, rule: Rule, keep_slashes: bool = False) -> str | None:
        if rule.attrs["value"]:
            return self.expand(rule.attrs["value"], rule)
        if not self.ctx.is_tag:
            return None
        name = self._tag_name()
        return name if keep_slashes else name.replace("/", "-")

    def _matched_version(self, rule: Rule) -> str | None:
        """semver/pep440 input: the value or the git tag, narrowed by match= to its first group
        (kept whole when it does not match, as upstream only warns), then `/` → `-`."""
        raw = self._version_input(rule, keep_slashes=True)
        if raw is not None and rule.attrs.get("match"):
            groups = js_match(rule.attrs["match"], raw, rule.source, literal_form=False)
            if groups is not None:
                raw = groups[1] or ""
        return raw.replace("/", "-") if raw is not None else None

    def _semver(self, rule: Rule):
        raw = self._matched_version(rule)
        parsed = parse_semver(raw) if raw is not None else None
        if parsed is None:
            return None
        pattern, where = rule.attrs["pattern"], self._where(rule)
        if parsed.prerelease:
            # A pre-release never gets the short tags: only {{version}} (or an explicit {{raw}}).
            return render(pattern if is_raw_statement(pattern) else "{{version}}", parsed.fields(), where), False
        return render(pattern, parsed.fields(), where), True

    def _pep440(self, rule: Rule):
        raw = self._matched_version(rule)
        parsed = parse_pep440(raw) if raw is not None else None
        if parsed is None:
            return None
        if parsed.is_prerelease or parsed.is_postrelease:
            return (raw if is_raw_statement(rule.attrs["pattern"]) else parsed.normalized()), False
        fields = {"raw": raw, "version": parsed.normalized(), "major": parsed.part(0),
                  "minor": parsed.part(1), "patch": parsed.part(2)}
        return render(rule.attrs["pattern"], fields, self._where(rule)), True

    def _match(self, rule: Rule):
        raw = self._version_input(rule, keep_slashes=True)
        if raw is None:
            return None
        groups = js_match(rule.attrs["pattern"], raw, rule.source)
        index = int(rule.attrs["group"])
        if groups is None or index >= len(groups) or groups[index] is None:
            return None
        return groups[index], True

    def _edge(self, rule: Rule):
        if not self.ctx.is_branch:
            return None
        branch = rule.attrs["branch"] or self.ctx.default_branch
        return ("edge", False) if branch == self.ctx.ref[len(HEADS):] else None

    def _ref(self, rule: Rule):
        ctx, event = self.ctx, rule.attrs["event"]
        if event == "branch" and ctx.is_branch:
            return ctx.ref[len(HEADS):], False
        if event == "tag" and ctx.is_tag:
            return self._tag_name(), True
        if event == "pr" and ctx.is_pull_request:
            # metadata-action strips only /merge; Forgejo, Woodpecker and Drone use /head.
            return _PR_SUFFIX.sub("", ctx.ref[len("refs/pull/"):]), False
        return None

    def _raw(self, rule: Rule):
        return self.expand(rule.attrs["value"], rule), False

    def _sha(self, rule: Rule):
        if not self.ctx.sha:
            return None
        return (self.short_sha() if rule.attrs["format"] == "short" else self.ctx.sha), False


def is_raw_statement(pattern: str) -> bool:
    """True when the pattern is exactly one `{{raw}}` (spaces allowed, triple-stash too)."""
    return re.fullmatch(r"\{\{\s*raw\s*\}\}|\{\{\{\s*raw\s*\}\}\}", pattern) is not None
