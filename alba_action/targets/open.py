"""One entry point: a target URL becomes a Store."""

from __future__ import annotations

from alba_action.targets.localdir import LocalDirStore
from alba_action.targets.s3 import S3Store
from alba_action.targets.url import FileUrl, parse_target


def open_store(url: str):
    target = parse_target(url)
    return LocalDirStore(target) if isinstance(target, FileUrl) else S3Store(target)
