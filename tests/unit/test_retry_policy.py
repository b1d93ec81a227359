"""The one retrying call and its budget, on a fake clock: what is retried, for how long, and what is not."""

from __future__ import annotations

import email.utils
import time

import pytest

from alba_action.errors import InputError, TargetError
from alba_action.request import RunOptions
from alba_action.targets.retry import (
    RetryBudget, Throttle, Timeouts, TransientError, Unreachable, parse_retry_after, retrying,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def budget(total: float = 10.0, **kw) -> tuple[RetryBudget, FakeClock]:
    clock = FakeClock()
    return RetryBudget(total, clock=clock, sleep=clock.sleep, **kw), clock


def failing(errors: list[Exception], result="ok"):
    """A call that raises each error in turn, then returns `result`; counts its calls."""
    calls = []

    def once():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result
    once.calls = calls
    return once


@pytest.mark.parametrize("errors, retries", [
    ([], 0),
    ([TransientError("503")], 1),
    ([TransientError("503"), TransientError("dropped")], 2),
    ([Unreachable("refused"), TransientError("503")], 2),
], ids=["first-try", "one-503", "two-transient", "refused-then-503"])
def test_transient_failures_are_retried_until_an_answer(errors, retries):
    b, clock = budget()
    once = failing(errors)
    assert retrying(b, once) == "ok"
    assert len(once.calls) == retries + 1 and b.retries == retries and len(clock.slept) == retries


@pytest.mark.parametrize("error", [TargetError("403 Forbidden", "check the key"), InputError("bad", "fix"),
                                   ValueError("a bug")], ids=["target-error", "input-error", "other"])
def test_what_retrying_cannot_fix_is_raised_at_once(error):
    b, clock = budget()
    once = failing([error])
    with pytest.raises(type(error)) as raised:
        retrying(b, once)
    assert raised.value is error and len(once.calls) == 1 and clock.slept == [] and b.retries == 0


def test_the_budget_bounds_the_waiting_and_the_message_says_so():
    b, clock = budget(total=5.0)
    once = failing([TransientError("GET x answered 503")] * 100)
    with pytest.raises(TargetError) as raised:
        retrying(b, once)
    assert sum(clock.slept) <= 5.0 and b.spent == pytest.approx(sum(clock.slept))
    message = raised.value.message
    assert message.startswith("GET x answered 503 — the target kept failing: gave up after")
    assert f"{b.retries} retries" in message and "retry budget 5 s" in message
    assert "--jobs" in raised.value.fix and "ALBA_RETRY_BUDGET_SECONDS" in raised.value.fix
    assert not isinstance(raised.value, TransientError)  # final: no caller retries it again


def test_a_throttling_store_is_named_as_such_and_slows_the_requests_in_flight():
    b, clock = budget(total=3.0, parallel=16)
    once = failing([TransientError("SlowDown", throttled=True)] * 50)
    with pytest.raises(TargetError, match="kept throttling"):
        retrying(b, once)
    assert b.throttle.limit < 16


@pytest.mark.parametrize("retry_after, expected", [(0.0, 0.0), (3.0, 3.0), (-5.0, 0.0), (1000.0, 60.0)],
                         ids=["zero", "three-seconds", "in-the-past", "capped-at-3x-cap"])
def test_retry_after_is_honoured_within_a_cap(retry_after, expected):
    b, clock = budget(total=100.0)
    once = failing([TransientError("429", retry_after=retry_after)])
    assert retrying(b, once) == "ok"
    assert clock.slept == [expected]


def test_retry_after_beyond_the_budget_gives_up_without_waiting():
    b, clock = budget(total=0.5)
    with pytest.raises(TargetError, match="gave up after 0 retries"):
        retrying(b, failing([TransientError("429", retry_after=1.0)]))
    assert clock.slept == []


def test_backoff_grows_with_jitter_and_a_cap():
    b, _ = budget()
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (10, 20.0)]:
        waits = [b.delay(attempt, None) for _ in range(50)]
        assert all(ceiling * 0.5 <= w <= ceiling for w in waits), (attempt, min(waits), max(waits))


def test_an_unreachable_host_is_given_up_after_its_own_allowance():
    b, clock = budget(total=120.0, unreachable=15.0)
    once = failing([Unreachable("registry h:1 does not answer", "check the URL")] * 100)
    with pytest.raises(TargetError) as raised:
        retrying(b, once)
    assert type(raised.value) is TargetError  # final, not Unreachable: an outer retry gives up too
    assert raised.value.message == "registry h:1 does not answer" and raised.value.fix == "check the URL"
    assert sum(clock.slept) <= 15.0 + 20.0 and sum(clock.slept) < 120.0


def test_without_retry_a_transient_error_goes_to_the_caller():
    b, clock = budget()
    with pytest.raises(TransientError):
        retrying(b, failing([TransientError("503")]), retry=False)
    assert clock.slept == []


def test_again_ends_the_retries_when_the_work_landed_after_all():
    b, clock = budget()
    once = failing([TransientError("upload session lost")] * 5)
    assert retrying(b, once, again=lambda: "pushed") == "pushed"
    assert len(once.calls) == 1 and len(clock.slept) == 1


def test_again_returning_none_tries_once_more():
    b, _ = budget()
    once = failing([TransientError("lost")])
    assert retrying(b, once, again=lambda: None) == "ok" and len(once.calls) == 2


def test_a_call_without_a_slot_leaves_the_throttle_alone():
    b, _ = budget(parallel=1)
    with b.throttle.slot():  # the only slot is taken: a call that took one would wait forever
        assert retrying(b, failing([]), slot=False) == "ok"
    assert b.throttle.active == 0


def test_throttle_halves_on_slow_down_and_grows_back_one_at_a_time():
    t = Throttle(8)
    t.slow_down()
    t.slow_down()
    assert t.limit == 2
    for _ in range(2):
        t.success()
    assert t.limit == 3
    for _ in range(100):
        t.success()
    assert t.limit == 8  # never above the ceiling
    t2 = Throttle(1)
    t2.slow_down()
    assert t2.limit == 1


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("7", 7.0), (" 12 ", 12.0), ("soon", None),
], ids=["none", "empty", "seconds", "spaces", "garbage"])
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after(when) <= 31


@pytest.mark.parametrize("size, expected", [(0, 10.0), (2 << 20, 10.0), (100 << 20, 100.0)],
                         ids=["empty", "small", "large"])
def test_a_read_waits_as_long_as_its_size_needs(size, expected):
    assert Timeouts(request=10.0).read(size) == expected


def test_budget_and_timeouts_come_from_the_run_options():
    options = RunOptions(retry_budget_seconds=4.0, request_timeout_seconds=2.5, parallel=3)
    b, t = RetryBudget.for_run(options), Timeouts.for_run(options)
    assert (b.total, b.throttle.ceiling, t.request) == (4.0, 3, 2.5)
    default = RetryBudget.for_run(RunOptions())
    assert (default.total, default.throttle.ceiling) == (RunOptions.retry_budget_seconds, RunOptions.parallel)
