"""One retry policy for every target (S3 buckets and OCI registries).

Transient answers — 429, 500, 502, 503, 504, SlowDown, RequestTimeout, dropped
connections, requests that got no answer in time, answers cut halfway — are retried with
exponential backoff and jitter, honouring Retry-After, within one time budget per target
(ALBA_RETRY_BUDGET_SECONDS, 120 s). While a store keeps throttling, the number of requests
in flight is halved (down to one) and grows back one at a time as requests succeed.
Permanent answers (400, 403, a missing bucket) are never retried: the caller raises them
with their remedy at once.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from alba_action.errors import TargetError

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
THROTTLE_STATUS = frozenset({429, 503})
MIB = 1 << 20


class TransientError(TargetError):
    """A failure worth retrying; carries Retry-After and whether the store asked us to slow down."""

    def __init__(self, message: str, retry_after: float | None = None, throttled: bool = False,
                 fix: str = "the store may be overloaded or restarting; try again later") -> None:
        super().__init__(message, fix)
        self.retry_after = retry_after
        self.throttled = throttled


@dataclass
class Timeouts:
    """How long a request may wait for an answer: seconds for a small one, and for a large
    body as long as it takes at `min_throughput` bytes a second — never 60 s for 2 KB."""

    request: float = 10.0
    min_throughput: float = 1 * MIB
    connect: float = 4.0

    def read(self, size: int = 0) -> float:
        return max(self.request, size / self.min_throughput)


class RetryBudget:
    """Backoff shared by every request to one target: at most `total` seconds of waiting.
    A host that refuses connections is given up after `unreachable` seconds."""

    def __init__(self, total: float = 120.0, unreachable: float = 15.0, base: float = 0.5, cap: float = 20.0,
                 parallel: int = 16) -> None:
        self.total, self.unreachable, self.base, self.cap = total, unreachable, base, cap
        self.spent = 0.0
        self.retries = 0
        self.first_failure: float | None = None
        self.throttle = Throttle(parallel)
        self._lock = threading.Lock()

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(0.0, retry_after), self.cap * 3)
        # Jitter keeps parallel uploads from retrying in lockstep.
        return min(self.cap, self.base * 2**attempt) * random.uniform(0.5, 1.0)

    def pause(self, attempt: int, retry_after: float | None, error: TargetError) -> None:
        """Sleep before the next attempt, or raise when the budget is spent: the message says
        how many retries over how long, the last answer, and what to do."""
        if isinstance(error, TransientError) and error.throttled:
            self.throttle.slow_down()
        wait = self.delay(attempt, retry_after)
        with self._lock:
            now = time.monotonic()
            self.first_failure = self.first_failure or now
            if self.spent + wait > self.total:
                raise self.exhausted(error, now - self.first_failure)
            self.spent += wait
            self.retries += 1
        time.sleep(wait)

    def exhausted(self, error: TargetError, elapsed: float) -> TargetError:
        throttled = isinstance(error, TransientError) and error.throttled
        what = "kept throttling" if throttled else "kept failing"
        return TargetError(
            f"{error.message} — the target {what}: gave up after {self.retries} retries over {elapsed:.0f} s "
            f"(retry budget {self.total:g} s)",
            "retry later; lower the parallel transfers with --jobs 2 (input jobs); raise ALBA_RETRY_BUDGET_SECONDS "
            "for a slow store; check the store's health and logs")


class Throttle:
    """Requests in flight: at most `limit`, halved each time the store throttles, one more
    after `limit` successes in a row, never above `ceiling`."""

    def __init__(self, ceiling: int) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = self.ceiling
        self.active = 0
        self.successes = 0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while self.active >= self.limit:
                self._cond.wait()
            self.active += 1
        try:
            yield
        finally:
            with self._cond:
                self.active -= 1
                self._cond.notify()

    def success(self) -> None:
        with self._cond:
            self.successes += 1
            if self.successes >= self.limit and self.limit < self.ceiling:
                self.limit += 1
                self.successes = 0
                self._cond.notify()

    def slow_down(self) -> None:
        with self._cond:
            self.limit = max(1, self.limit // 2)
            self.successes = 0


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None
