"""S3 failures in words: which are worth retrying, and what each permanent one means."""

from __future__ import annotations

import botocore.exceptions as bexc
from urllib3.exceptions import ProtocolError

from alba_action.errors import TargetError
from alba_action.targets.retry import RETRY_STATUS, THROTTLE_STATUS, TransientError, parse_retry_after
from alba_action.targets.url import S3Url

CREDENTIAL_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "403", "InvalidToken", "ExpiredToken"}
MISSING_CODES = {"404", "NoSuchKey", "NotFound"}
CONFLICT_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
THROTTLE_CODES = {"SlowDown", "Throttling", "ThrottlingException", "TooManyRequests", "RequestLimitExceeded",
                  "ServiceUnavailable", "503", "429"}
TRANSIENT_CODES = THROTTLE_CODES | {"InternalError", "RequestTimeout", "RequestTimeTooSkewed", "500", "502", "504",
                                    "BadGateway", "GatewayTimeout", "OperationAborted"}
# No answer in time, a dropped connection, an answer cut halfway: the request may be retried.
TRANSIENT_ERRORS = (bexc.ReadTimeoutError, bexc.ConnectionClosedError, bexc.ResponseStreamingError,
                    bexc.IncompleteReadError, ProtocolError, ConnectionResetError, BrokenPipeError)
UNREACHABLE_ERRORS = (bexc.EndpointConnectionError, bexc.ConnectTimeoutError)


def transient(err: Exception, doing: str, where: str) -> TransientError | None:
    """The error as a TransientError when retrying may help, else None."""
    if isinstance(err, bexc.ClientError):
        code = code_of(err)
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code not in TRANSIENT_CODES and status not in RETRY_STATUS:
            return None
        headers = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return TransientError(f"{doing}: {where} answered {code or status}", parse_retry_after(headers.get("retry-after")),
                              throttled=code in THROTTLE_CODES or status in THROTTLE_STATUS)
    if isinstance(err, TRANSIENT_ERRORS):
        return TransientError(f"{doing}: {where} {_broken(err)}")
    return None


def _broken(err: Exception) -> str:
    if isinstance(err, bexc.ReadTimeoutError):
        return "gave no answer in time"
    if isinstance(err, (bexc.ResponseStreamingError, bexc.IncompleteReadError)):
        return "cut its answer halfway"
    return "dropped the connection"


def explain(err: Exception, doing: str, target: S3Url) -> TargetError:
    """One line naming what failed and the fix; never the secret."""
    t = target
    where = t.endpoint_url or "AWS S3"
    if isinstance(err, UNREACHABLE_ERRORS) or isinstance(err, bexc.ReadTimeoutError):
        return TargetError(
            f"{doing}: the S3 endpoint {where} does not answer",
            "check endpoint= in the target URL (host, port, disableSSL) and that the store is running",
        )
    if isinstance(err, (bexc.NoCredentialsError, bexc.PartialCredentialsError)):
        return TargetError(
            f"{doing}: no S3 credentials found for {where}",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
        )
    code = code_of(err) if isinstance(err, bexc.ClientError) else ""
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
        return TargetError(f"{doing}: {where} answered {code or 'an error'}",
                           "the store refused the request; check the target URL (bucket, prefix) and the store's logs")
    return TargetError(f"{doing}: {type(err).__name__} talking to {where}", "check the target URL and the network")


def code_of(err: bexc.ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", "")) or str(
        err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    )
