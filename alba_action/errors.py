"""One error base: every message names the input at fault and carries the fix."""

from __future__ import annotations


class AlbaError(Exception):
    """An expected failure: printed as `ClassName: message` with its remedy, no traceback."""

    exit_code = 1

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


class InputError(AlbaError):
    """Bad user input (a path, a name, a tag, a URL, a setting)."""

    exit_code = 2


class TargetError(AlbaError):
    """The target store or registry refused or did not answer."""


class ArchiveError(InputError):
    """An image archive that cannot be read safely."""


class ConflictError(TargetError):
    """A conditional write lost a race; the caller retries."""
