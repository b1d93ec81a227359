"""One entry point: a target URL becomes a Store, with the run's options."""

from __future__ import annotations

from alba_action.request import RunOptions
from alba_action.targets.base import Store
from alba_action.targets.localdir import LocalDirStore
from alba_action.targets.url import FileUrl, parse_target


def open_store(url: str, options: RunOptions = RunOptions()) -> Store:
    target = parse_target(url)
    if isinstance(target, FileUrl):
        return LocalDirStore(target, settle_seconds=options.settle_seconds)
    from alba_action.targets.retry import Timeouts
    from alba_action.targets.s3 import S3Store  # boto3 is imported only for s3:// targets

    aws = options.aws
    return S3Store(target, settle_seconds=options.settle_seconds, access_key_id=aws.access_key_id,
                   secret_access_key=aws.secret_access_key.value, session_token=aws.session_token.value,
                   profile=aws.profile, retry_budget=options.retry_budget_seconds,
                   timeouts=Timeouts(request=options.request_timeout_seconds), parallel=options.parallel,
                   multipart_threshold=options.multipart_threshold)
