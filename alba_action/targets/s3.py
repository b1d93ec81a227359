"""S3-compatible buckets (Garage, MinIO, Ceph, AWS) behind the Store protocol, with boto3."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext
import threading
from typing import Iterator

import boto3
import botocore.exceptions as bexc
from botocore import UNSIGNED
from botocore.config import Config
from boto3.s3.transfer import TransferConfig
from s3transfer.manager import TransferManager
from s3transfer.subscribers import BaseSubscriber

from alba_action.errors import ConflictError, TargetError
from alba_action.targets.base import Body, ObjectInfo, ProgressCallback
from alba_action.targets.url import S3Url

MB = 1024 * 1024
SMALL = 8 * MB
# Like rclone (upload_cutoff 200M): one PUT up to 128 MiB, cheaper for the store; above it
# 16 MiB parts, streamed from disk by s3transfer, 8 at a time across all large files.
TRANSFER = TransferConfig(multipart_threshold=128 * MB, multipart_chunksize=16 * MB, max_concurrency=8)
CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidToken", "ExpiredToken"}
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _config(url: S3Url, quick: bool) -> Config:
    return Config(
        region_name=url.region or "us-east-1",
        s3={"addressing_style": "path" if url.path_style else "auto"},
        # boto3 >= 1.36 sends CRC checksums that Garage, MinIO and Ceph reject.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        # A dead endpoint must fail in seconds, not after minutes of retries.
        connect_timeout=4,
        read_timeout=8 if quick else 60,
        retries={"mode": "standard", "total_max_attempts": 2 if quick else 4},
        max_pool_connections=16,
        signature_version=UNSIGNED if url.anonymous else None,
    )


class S3Store:
    def __init__(self, url: S3Url, *, settle_seconds: float = 0.4, access_key_id: str = "",
                 secret_access_key: str = "", session_token: str = "", profile: str = "") -> None:
        """Keys given here win; otherwise boto3's standard chain (environment, ~/.aws, …)."""
        self.target = url
        self.url = url.display
        self.settle_seconds = settle_seconds
        keys = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key,
                "aws_session_token": session_token}
        session = boto3.session.Session(profile_name=url.profile or profile or None,
                                        **{k: v for k, v in keys.items() if v})
        make = lambda quick: session.client("s3", endpoint_url=url.endpoint_url, config=_config(url, quick))  # noqa: E731
        self._client = make(False)
        self._quick = make(True)
        self._lock = threading.Lock()
        self._transfer: TransferManager | None = None

    def _manager(self) -> TransferManager:
        """One transfer manager for every large file: their parts share one bounded pool."""
        with self._lock:
            if self._transfer is None:
                self._transfer = TransferManager(self._client, TRANSFER)
            return self._transfer

    def _key(self, key: str) -> str:
        return self.target.prefix + key

    def check(self) -> None:
        with self._translate("reaching the bucket"):
            self._quick.head_bucket(Bucket=self.target.bucket)

    @contextmanager
    def _translate(self, doing: str) -> Iterator[None]:
        """Every boto3 failure becomes one TargetError naming what was being done."""
        try:
            yield
        except bexc.ClientError as err:
            if _code(err) in CONFLICT_CODES:
                raise ConflictError(f"{doing}: the object changed meanwhile", "retrying") from None
            raise self._explain(err, doing) from None
        except (bexc.BotoCoreError, boto3.exceptions.Boto3Error, OSError) as err:
            raise self._explain(err, doing) from None

    def _read(self, call, key: str):
        """A head or get that answers None for a missing key."""
        with self._translate(f"reading {key}"):
            try:
                return call(Bucket=self.target.bucket, Key=self._key(key))
            except bexc.ClientError as err:
                if _code(err) in MISSING_CODES:
                    return None
                raise

    def head(self, key: str) -> ObjectInfo | None:
        r = self._read(self._client.head_object, key)
        return None if r is None else ObjectInfo(key, r["ContentLength"], r.get("ETag"), r["LastModified"].timestamp())

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def get(self, key: str) -> tuple[bytes, str | None] | None:
        r = self._read(self._client.get_object, key)
        if r is None:
            return None
        with self._translate(f"reading {key}"):
            return r["Body"].read(), r.get("ETag")

    def put(self, key, body: Body, content_type, cache_control=None, if_match=None, if_none_match=False,
            progress: ProgressCallback | None = None) -> None:
        extra = {"ContentType": content_type}
        if cache_control:
            extra["CacheControl"] = cache_control
        with self._translate(f"writing {key}"):
            if body.path is not None and body.size >= SMALL:
                subscribers = [_Progress(progress)] if progress else []
                self._manager().upload(str(body.path), self.target.bucket, self._key(key), extra_args=extra,
                                       subscribers=subscribers).result()
                return
            if if_match:
                extra["IfMatch"] = if_match
            if if_none_match:
                extra["IfNoneMatch"] = "*"
            # One request for small files: a TransferManager per file costs more than the upload.
            with open(body.path, "rb") if body.path is not None else nullcontext(body.data) as data:
                self._client.put_object(Bucket=self.target.bucket, Key=self._key(key), Body=data, **extra)
            if progress:
                progress(body.size)

    def delete(self, key: str) -> None:
        with self._translate(f"deleting {key}"):
            self._client.delete_object(Bucket=self.target.bucket, Key=self._key(key))

    def list(self, prefix: str, shallow: bool = False) -> Iterator[str]:
        """Keys starting with `prefix`; `shallow` stops at the next '/' (S3's delimiter)."""
        return (info.key for info in self.list_info(prefix, shallow))

    def list_info(self, prefix: str, shallow: bool = False) -> Iterator[ObjectInfo]:
        """As `list`, with what the listing already says of each object (no request per key)."""
        extra = {"Delimiter": "/"} if shallow else {}
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.target.bucket, Prefix=self._key(prefix), **extra
        )
        with self._translate(f"listing {prefix}"):
            for page in pages:
                for obj in page.get("Contents", []):
                    yield ObjectInfo(obj["Key"][len(self.target.prefix):], obj.get("Size", 0), obj.get("ETag"),
                                     obj["LastModified"].timestamp() if obj.get("LastModified") else None)

    def _explain(self, err: Exception, doing: str) -> TargetError:
        """One line naming what failed and the fix; never the secret."""
        t = self.target
        where = t.endpoint_url or "AWS S3"
        if isinstance(err, (bexc.EndpointConnectionError, bexc.ConnectTimeoutError, bexc.ReadTimeoutError)):
            return TargetError(
                f"{doing}: the S3 endpoint {where} does not answer",
                "check endpoint= in the target URL (host, port, disableSSL) and that the store is running",
            )
        if isinstance(err, (bexc.NoCredentialsError, bexc.PartialCredentialsError)):
            return TargetError(
                f"{doing}: no S3 credentials found for {where}",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
            )
        code = _code(err) if isinstance(err, bexc.ClientError) else ""
        if code in {"NoSuchBucket"} or (code == "404" and doing == "reaching the bucket"):
            return TargetError(
                f"{doing}: bucket {t.bucket!r} does not exist at {where}",
                "create it (garage bucket create NAME; garage bucket allow --read --write) or fix the bucket name",
            )
        if code in CREDENTIAL_CODES:
            return TargetError(
                f"{doing}: {where} refused the credentials for bucket {t.bucket!r} ({code})",
                "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the key's permissions on the bucket",
            )
        if isinstance(err, bexc.ClientError):
            return TargetError(f"{doing}: {where} answered {code or 'an error'}", "check the target URL and the store's logs")
        return TargetError(f"{doing}: {type(err).__name__} talking to {where}", "check the target URL and the network")


class _Progress(BaseSubscriber):
    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback

    def on_progress(self, future, bytes_transferred: int, **kwargs) -> None:
        self.callback(bytes_transferred)


def _code(err: bexc.ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "")) or str(
        err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )
