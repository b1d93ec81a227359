"""Workflow commands (add-mask, group, error, warning) for GitHub/Forgejo, plain lines elsewhere.

Woodpecker and Drone do not read `::…::` commands: there `::add-mask::SECRET` would
print the secret itself, so outside Actions we never emit commands at all.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, TextIO

# Below this length a "secret" is more likely a placeholder; masking it would hide
# ordinary words (and digits) everywhere in the log.
MIN_SECRET = 4


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


class CiLog:
    """Everything the action prints goes through here, so secrets can be redacted in one place."""

    def __init__(self, stream: TextIO | None = None, commands: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.commands = commands
        self.secrets: list[str] = []

    def mask(self, value: str | None) -> None:
        """Register a secret; on Actions also tell the runner (each line too: it masks line by line)."""
        if not value or len(value) < MIN_SECRET or value in self.secrets:
            return
        parts = [value] + [line for line in value.splitlines() if len(line) >= MIN_SECRET and line != value]
        for part in parts:
            if part not in self.secrets:
                self.secrets.append(part)
                if self.commands:
                    self._write(f"::add-mask::{escape_data(part)}")
        # Longest first, so a secret containing another is replaced whole.
        self.secrets.sort(key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def line(self, text: str) -> None:
        self._write(self.redact(text))

    def error(self, message: str, title: str = "") -> None:
        message = self.redact(message)
        if self.commands:
            props = f" title={escape_property(self.redact(title))}" if title else ""
            self._write(f"::error{props}::{escape_data(message)}")
        else:
            self._write(f"error: {title + ': ' if title else ''}{message}")

    def warning(self, message: str) -> None:
        message = self.redact(message)
        self._write(f"::warning::{escape_data(message)}" if self.commands else f"warning: {message}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        title = self.redact(title)
        self._write(f"::group::{escape_data(title)}" if self.commands else f"── {title} ──")
        try:
            yield
        finally:
            if self.commands:
                self._write("::endgroup::")

    def _write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)


class RedactingStream:
    """A text stream for the Reporter: lines pass through CiLog.redact on their way out."""

    def __init__(self, log: CiLog) -> None:
        self.log = log

    def write(self, text: str) -> int:
        self.log.stream.write(self.log.redact(text))
        return len(text)

    def flush(self) -> None:
        self.log.stream.flush()

    def isatty(self) -> bool:
        return False  # CI logs: one plain line per object, no live redraws
