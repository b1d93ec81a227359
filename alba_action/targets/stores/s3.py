"""S3-compatible buckets (Garage, MinIO, Ceph, AWS) behind the Store protocol, with boto3.

Every request goes through `_call`: the shared retry policy (targets/retry.py) decides what
is retried and for how long, and each request waits for an answer as long as its size
needs (`Timeouts`), not a fixed minute. botocore's own retries are off for single requests
(they know neither Retry-After nor a time budget); the parts of multipart uploads use
botocore's adaptive mode, which also slows down on throttling, inside the same budget.
"""

from __future__ import annotations

import contextlib
import threading
import time
from contextlib import nullcontext
from typing import Callable, Iterator, TypeVar

import boto3
import botocore.exceptions as bexc
import urllib3.exceptions
from botocore import UNSIGNED
from botocore.config import Config
from botocore.utils import determine_content_length
from boto3.s3.transfer import TransferConfig
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from alba_action.errors import ConflictError, TargetError
from alba_action.targets.base import Body, ObjectInfo, ProgressCallback
from alba_action.request import RunOptions
from alba_action.targets.retry import RetryBudget, Timeouts, Unreachable, retrying
from alba_action.targets.streams import Stream, read1_chunks
from alba_action.targets.stores.s3_errors import (
    CONFLICT_CODES, MISSING_CODES, UNREACHABLE_ERRORS, code_of, explain, transient,
)
from alba_action.targets.url import S3Url

MB = 1024 * 1024
SMALL = 8 * MB
PART = 16 * MB
# Like rclone (upload_cutoff 200M): one PUT up to the run options' multipart threshold
# (256 MiB), cheaper for the store (one request, nothing to assemble); above it 16 MiB
# parts, streamed from disk by s3transfer, 8 at a time across all large files.
T = TypeVar("T")
# What a body read may raise when the answer is cut: retried as the whole read.
READ_ERRORS = (OSError, urllib3.exceptions.HTTPError, bexc.BotoCoreError)


def _config(url: S3Url, read_timeout: float, connect_timeout: float, retries: dict, pool: int = 16) -> Config:
    return Config(
        region_name=url.region or "us-east-1",
        s3={"addressing_style": "path" if url.path_style else "auto"},
        # boto3 >= 1.36 sends CRC checksums that Garage, MinIO and Ceph reject.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=retries,
        max_pool_connections=pool,
        signature_version=UNSIGNED if url.anonymous else None,
    )


class S3Store:
    def __init__(self, url: S3Url, options: RunOptions = RunOptions()) -> None:
        """The run's keys win (`options.aws`); otherwise boto3's standard chain (environment, ~/.aws, …)."""
        self.target = url
        self.url = url.display
        self.settle_seconds = options.settle_seconds
        self.timeouts = Timeouts.for_run(options)
        self.budget = RetryBudget.for_run(options)
        self.multipart_threshold = options.multipart_threshold
        aws = options.aws
        keys = {"aws_access_key_id": aws.access_key_id, "aws_secret_access_key": aws.secret_access_key.value,
                "aws_session_token": aws.session_token.value}
        self._session = boto3.session.Session(profile_name=url.profile or aws.profile or None,
                                              **{k: v for k, v in keys.items() if v})
        self._clients: dict[tuple, object] = {}
        self._lock = threading.Lock()
        self._transfer: TransferManager | None = None
        self._started = time.time()

    def _client(self, read_timeout: float | None = None, retries: dict | None = None):
        """One client per (timeout, retry mode); boto3 clients are thread-safe."""
        read = read_timeout or self.timeouts.request
        mode = retries or {"mode": "standard", "total_max_attempts": 1}
        key = (round(read), tuple(sorted(mode.items())))
        with self._lock:
            if key not in self._clients:
                client = self._session.client(
                    "s3", endpoint_url=self.target.endpoint_url,
                    config=_config(self.target, read, self.timeouts.connect, mode))
                client.meta.events.register_last("before-call.s3", _no_wait_for_small_bodies)
                self._clients[key] = client
            return self._clients[key]

    def _manager(self) -> TransferManager:
        """One transfer manager for every large file: their parts share one bounded pool."""
        client = self._client(self.timeouts.read(PART), {"mode": "adaptive", "max_attempts": 10})
        with self._lock:
            if self._transfer is None:
                config = TransferConfig(multipart_threshold=self.multipart_threshold, multipart_chunksize=PART,
                                        max_concurrency=min(8, self.budget.throttle.ceiling))  # parts are held in memory
                self._transfer = TransferManager(client, config)
            return self._transfer

    def _key(self, key: str) -> str:
        return self.target.prefix + key

    def _call(self, doing: str, request: Callable[[], T], *, missing_ok: bool = False) -> T | None:
        """One request under the retry policy; None for a missing key when `missing_ok`."""
        where = self.target.endpoint_url or "AWS S3"

        def once() -> T | None:
            try:
                return request()
            except bexc.ClientError as err:
                code = code_of(err)
                if missing_ok and code in MISSING_CODES:
                    return None
                if code in CONFLICT_CODES:
                    raise ConflictError(f"{doing}: the object changed meanwhile", "retrying") from None
                raise transient(err, doing, where) or explain(err, doing, self.target) from None
            except UNREACHABLE_ERRORS as err:
                # A store that refuses connections is given up in seconds, not minutes.
                final = explain(err, doing, self.target)
                raise Unreachable(final.message, final.fix) from None
            except (bexc.BotoCoreError, boto3.exceptions.Boto3Error, OSError) as err:
                raise transient(err, doing, where) or explain(err, doing, self.target) from None

        return retrying(self.budget, once)

    def check(self) -> None:
        quick = self._client(self.timeouts.request, {"mode": "standard", "total_max_attempts": 2})
        try:
            quick.head_bucket(Bucket=self.target.bucket)
        except bexc.ClientError as err:
            raise explain(err, "reaching the bucket", self.target) from None
        except (bexc.BotoCoreError, OSError) as err:
            raise explain(err, "reaching the bucket", self.target) from None

    def head(self, key: str) -> ObjectInfo | None:
        r = self._call(f"reading {key}", lambda: self._client().head_object(Bucket=self.target.bucket,
                                                                             Key=self._key(key)), missing_ok=True)
        return None if r is None else ObjectInfo(key, r["ContentLength"], r.get("ETag"), r["LastModified"].timestamp())

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def get(self, key: str) -> tuple[bytes, str | None] | None:
        def read():
            r = self._client().get_object(Bucket=self.target.bucket, Key=self._key(key))
            return r["Body"].read(), r.get("ETag")  # inside the retry: an answer cut halfway is retried

        return self._call(f"reading {key}", read, missing_ok=True)

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[Stream | None]:
        """The object as a stream (verify hashes it as it is read), None when missing. The
        bytes as stored: botocore inflates nothing."""
        got = self._call(f"reading {key}", lambda: self._client().get_object(
            Bucket=self.target.bucket, Key=self._key(key)), missing_ok=True)
        if got is None:
            yield None
            return
        raw = got["Body"]._raw_stream  # urllib3's response: read1 hands over what arrived
        where = f"{self.url}/{key}"
        try:
            yield Stream(read1_chunks(lambda n: raw.read1(n, decode_content=False), where, READ_ERRORS),
                         got.get("ContentLength"), got.get("ContentEncoding") or "", where)
        finally:
            got["Body"].close()

    def put(self, key, body: Body, content_type, cache_control=None, if_match=None, if_none_match=False,
            progress: ProgressCallback | None = None) -> str | None:
        """The etag the store answered for a single PUT (None for s3transfer's uploads)."""
        extra = {"ContentType": content_type}
        if cache_control:
            extra["CacheControl"] = cache_control
        if body.path is not None and body.size >= SMALL:
            self._upload_file(key, body, extra, progress)
            return None
        if if_match:
            extra["IfMatch"] = if_match
        if if_none_match:
            extra["IfNoneMatch"] = "*"
        client = self._client(self.timeouts.read(body.size))

        def send():
            # One request for small files: a TransferManager per file costs more than the upload.
            with open(body.path, "rb") if body.path is not None else nullcontext(body.data) as data:
                return client.put_object(Bucket=self.target.bucket, Key=self._key(key), Body=data, **extra)

        answer = self._call(f"writing {key}", send)
        if progress:
            progress(body.size)
        return (answer or {}).get("ETag")

    def _upload_file(self, key: str, body: Body, extra: dict, progress: ProgressCallback | None) -> None:
        """Large files: s3transfer (multipart above the threshold, which it aborts when it
        fails); uploads of this key left by an interrupted run are aborted first."""
        if body.size >= self.multipart_threshold:
            self.abort_orphans(key)
        subscribers = [_Progress(progress)] if progress else []

        def upload():
            self._manager().upload(str(body.path), self.target.bucket, self._key(key), extra_args=extra,
                                   subscribers=subscribers).result()

        self._call(f"writing {key}", upload)

    def abort_orphans(self, key: str) -> list[str]:
        """Abort multipart uploads of `key` started before this run: an interrupted run's parts
        would otherwise stay in the bucket, billed and invisible."""
        def listing():
            return self._client().list_multipart_uploads(Bucket=self.target.bucket, Prefix=self._key(key))

        found = self._call(f"listing unfinished uploads of {key}", listing) or {}
        aborted = []
        for upload in found.get("Uploads", []):
            if upload["Key"] != self._key(key) or upload["Initiated"].timestamp() > self._started:
                continue
            self._call(f"aborting an unfinished upload of {key}", lambda u=upload: self._client().abort_multipart_upload(
                Bucket=self.target.bucket, Key=u["Key"], UploadId=u["UploadId"]), missing_ok=True)
            aborted.append(upload["UploadId"])
        return aborted

    def delete(self, key: str) -> None:
        self._call(f"deleting {key}", lambda: self._client().delete_object(Bucket=self.target.bucket,
                                                                           Key=self._key(key)))

    def list(self, prefix: str, shallow: bool = False) -> Iterator[str]:
        """Keys starting with `prefix`; `shallow` stops at the next '/' (S3's delimiter)."""
        return (info.key for info in self.list_info(prefix, shallow))

    def list_info(self, prefix: str, shallow: bool = False) -> Iterator[ObjectInfo]:
        """As `list`, with what the listing already says of each object (no request per key)."""
        extra = {"Delimiter": "/"} if shallow else {}
        token: dict = {}
        while True:
            page = self._call(f"listing {prefix}", lambda t=dict(token): self._client().list_objects_v2(
                Bucket=self.target.bucket, Prefix=self._key(prefix), **extra, **t))
            for obj in page.get("Contents", []):
                yield ObjectInfo(obj["Key"][len(self.target.prefix):], obj.get("Size", 0), obj.get("ETag"),
                                 obj["LastModified"].timestamp() if obj.get("LastModified") else None)
            if not page.get("IsTruncated"):
                return
            token = {"ContinuationToken": page["NextContinuationToken"]}


def _no_wait_for_small_bodies(params, **kwargs) -> None:
    """botocore sends every S3 PUT body (bytes become a file object) with `Expect:
    100-continue` and waits for the store's "100 Continue" before sending it: a round trip
    per object on a far store. A body under SMALL goes at once (a refusal costs no more
    than sending it); larger ones still ask first."""
    if "Expect" in params.get("headers", {}):
        size = determine_content_length(params.get("body"))
        if size is not None and size < SMALL:
            del params["headers"]["Expect"]


class _Progress(BaseSubscriber):
    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback

    def on_progress(self, future, bytes_transferred: int, **kwargs) -> None:
        self.callback(bytes_transferred)
