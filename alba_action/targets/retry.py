"""One retry policy for every target (S3 buckets, OCI registries, websites), and the one
retrying call that carries it: `retrying(budget, once)`.

Transient answers — 429, 500, 502, 503, 504, SlowDown, RequestTimeout, dropped
connections, requests that got no answer in time, answers cut halfway — are retried with
exponential backoff and jitter, honouring Retry-After, within one time budget per target
(the run options' `retry_budget_seconds`, ALBA_RETRY_BUDGET_SECONDS). While a store keeps throttling, the number of requests
in flight is halved (down to one) and grows back one at a time as requests succeed.
Permanent answers (400, 403, a missing bucket) are never retried: the caller raises them
with their remedy at once.
"""

from __future__ import annotations

import email.utils
import itertools
import random
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Iterator, TypeVar

from alba_action.errors import TargetError
from alba_action.request import RunOptions

T = TypeVar("T")

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


class Unreachable(TargetError):
    """A host that refuses connections: retried only for the budget's `unreachable` seconds."""


@dataclass
class Timeouts:
    """How long a request may wait for an answer: seconds for a small one, and for a large
    body as long as it takes at `min_throughput` bytes a second — never 60 s for 2 KB."""

    request: float = 10.0
    min_throughput: float = 1 * MIB
    connect: float = 4.0

    def read(self, size: int = 0) -> float:
        return max(self.request, size / self.min_throughput)

    @classmethod
    def for_run(cls, options: RunOptions) -> "Timeouts":
        return cls(request=options.request_timeout_seconds)


class RetryBudget:
    """Backoff shared by every request to one target: at most `total` seconds of waiting.
    A host that refuses connections is given up after `unreachable` seconds."""

    def __init__(self, total: float, unreachable: float = 15.0, base: float = 0.5, cap: float = 20.0,
                 parallel: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.total, self.unreachable, self.base, self.cap = total, unreachable, base, cap
        self.spent = 0.0
        self.retries = 0
        self.first_failure: float | None = None
        self.throttle = Throttle(parallel)
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()

    @classmethod
    def for_run(cls, options: RunOptions) -> "RetryBudget":
        """One target's budget: the run's waiting allowance and requests in flight."""
        return cls(total=options.retry_budget_seconds, parallel=options.parallel)

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
            now = self.clock()
            self.first_failure = self.first_failure or now
            if self.spent + wait > self.total:
                raise self.exhausted(error, now - self.first_failure)
            self.spent += wait
            self.retries += 1
        self.sleep(wait)

    def gives_up_on(self, started: float, attempt: int) -> bool:
        """An unreachable host: would the next wait pass the `unreachable` allowance?"""
        return self.clock() - started + self.delay(attempt, None) > self.unreachable

    def exhausted(self, error: TargetError, elapsed: float) -> TargetError:
        throttled = isinstance(error, TransientError) and error.throttled
        what = "kept throttling" if throttled else "kept failing"
        return TargetError(
            f"{error.message} — the target {what}: gave up after {self.retries} retries over {elapsed:.0f} s "
            f"(retry budget {self.total:g} s)",
            "retry later; lower the parallel transfers with --jobs 2 (input jobs); raise ALBA_RETRY_BUDGET_SECONDS "
            "for a slow store; check the store's health and logs")


def retrying(budget: RetryBudget, once: Callable[[], T], *, retry: bool = True, slot: bool = True,
             again: Callable[[], T | None] | None = None) -> T:
    """Call `once` until it returns, within the budget. `once` raises TransientError for what
    may pass (429, 5xx, silence, a dropped or cut answer: waited for, Retry-After honoured),
    Unreachable for a refused connection (given up after `budget.unreachable` seconds), and
    anything else for what retrying cannot fix (raised at once).

    `retry=False`: a TransientError is raised for the caller to restart a larger unit.
    `slot=False`: the call takes no request slot (it makes requests that take their own).
    `again`, after each wait: a result that makes another attempt needless (an upload that
    landed after all), or None."""
    started = budget.clock()
    for attempt in itertools.count():
        try:
            with budget.throttle.slot() if slot else nullcontext():
                result = once()
        except Unreachable as error:
            if budget.gives_up_on(started, attempt):
                # Final: a caller retrying a larger unit must not wait for it again.
                raise TargetError(error.message, error.fix) from None
            failure: TargetError = error
        except TransientError as error:
            if not retry:
                raise
            failure = error
        else:
            if slot:
                budget.throttle.success()
            return result
        budget.pause(attempt, getattr(failure, "retry_after", None), failure)
        if again is not None and (done := again()) is not None:
            return done
    raise AssertionError("unreachable")  # itertools.count() never ends


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
