"""Retries: our loop (reconciler/bss/transport.py + retry.py) against tenacity and stamina.

Each candidate replaces only the loop of :meth:`Executor.call`; the decision table stays ours in
all of them (which failures a money call may retry is the domain, no library knows it). Run on
the retry corpus of tests/bss/test_retry.py (every operation class x every failure, client
errors, retries running out, a throttled money call that then gets a 5xx) on a virtual clock:

* behaviour: outcome, requests sent, retries, 429s counted and the virtual time spent in backoff,
  scenario by scenario, against ours;
* replay: the same scenarios twice with the same seed give the same waits;
* overhead: CPU per successful call, the retry wrapper included.
"""

from __future__ import annotations

import inspect
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

import stamina
import tenacity

from reconciler.bss import core, jsonutil
from reconciler.bss.operations import Operation
from reconciler.bss.retry import Backoff, Failure
from reconciler.bss.transport import Executor, _Attempt
from reconciler.emulator.clock import VirtualClock
from tests.bss import test_retry as corpus
from tests.bss.fakes import FakeBss, make_client, reply


class _Retryable(Exception):
    """stamina retries on exceptions only: a failed attempt that may be retried."""

    def __init__(self, outcome: _Attempt) -> None:
        self.outcome = outcome


class TenacityExecutor(Executor):
    """tenacity's loop; ``own_wait`` uses tenacity's full-jitter wait instead of our Backoff."""

    own_wait = False

    async def call(self, op: Operation, **kwargs: Any) -> Any:
        stats = self._limiter.stats_for(op.name)

        def retry(state: tenacity.RetryCallState) -> bool:
            outcome = state.outcome.result() if state.outcome else None
            if not isinstance(outcome, _Attempt):
                return False
            stats.throttled += outcome.failure is Failure.THROTTLED
            last = state.attempt_number == self._max_attempts
            self._raise_if_final(op, kwargs["path"], outcome, last=last)
            stats.retries += 1
            return True

        def wait(state: tenacity.RetryCallState) -> float:
            outcome = state.outcome.result() if state.outcome else None
            assert isinstance(outcome, _Attempt)
            delay = self._backoff.delay(state.attempt_number, outcome.failure, outcome.retry_after)
            stats.backoff_seconds += delay
            return delay

        chosen: Any = (
            tenacity.wait_random_exponential(multiplier=0.5, max=20) if self.own_wait else wait
        )
        retrying = tenacity.AsyncRetrying(retry=retry, wait=chosen, sleep=self._clock.sleep)
        result: Any = await retrying(self._once, op, **kwargs)
        return result[0]

    async def _once(self, op: Operation, **kwargs: Any) -> Any:
        payload = jsonutil.dumps(kwargs["body"]) if kwargs.get("body") is not None else None
        request = self._prepare(
            op,
            kwargs["endpoint"],
            kwargs["path"],
            kwargs["credentials"],
            kwargs.get("query", ()),
            payload,
        )
        await self._limiter.acquire(op.name)
        sent = self._clock.monotonic()
        try:
            return await self._attempt(op, kwargs["endpoint"], kwargs["path"], request, None)
        finally:
            self._limiter.observe(op.name, self._clock.monotonic() - sent)


class TenacityOwnWait(TenacityExecutor):
    own_wait = True


class StaminaExecutor(TenacityExecutor):
    """stamina's retry_context, with its own exponential backoff and jitter (not seeded)."""

    async def call(self, op: Operation, **kwargs: Any) -> Any:
        stats = self._limiter.stats_for(op.name)
        attempts = stamina.retry_context(
            on=_Retryable, attempts=self._max_attempts, wait_initial=0.5, wait_max=20.0
        )
        async for attempt in attempts:
            with attempt:
                outcome = await self._once(op, **kwargs)
                if not isinstance(outcome, _Attempt):
                    return outcome[0]
                stats.throttled += outcome.failure is Failure.THROTTLED
                last = attempt.num == self._max_attempts
                self._raise_if_final(op, kwargs["path"], outcome, last=last)
                stats.retries += 1
                raise _Retryable(outcome)
        raise AssertionError("unreachable")


CANDIDATES: dict[str, type[Executor]] = {
    "ours": Executor,
    "tenacity (our Backoff as wait)": TenacityExecutor,
    "tenacity (its own wait)": TenacityOwnWait,
    "stamina": StaminaExecutor,
}


def _lines(*objects: object) -> int:
    sources = [inspect.getsource(o) for o in objects]  # type: ignore[arg-type]
    return sum(len(s.splitlines()) for s in sources)


LINES = {
    "ours": _lines(Executor.call, Backoff),
    "tenacity (our Backoff as wait)": _lines(TenacityExecutor, Backoff),
    "tenacity (its own wait)": _lines(TenacityExecutor, TenacityOwnWait),
    "stamina": _lines(StaminaExecutor, TenacityExecutor._once),
}


@dataclass
class RetryFigures:
    name: str
    scenarios: int
    same_behaviour: int  # outcome, requests, retries, 429s as ours
    same_waits: int  # the same virtual time as ours, to the microsecond
    replays: bool  # the same seed gives the same waits twice
    us_per_call: float
    lines: int  # the retry loop and its backoff, or the glue that replaces them


def scenarios() -> Iterator[tuple[str, list[Callable[[], Any]]]]:
    for op in corpus.OPERATIONS:
        for failure in corpus.FAILURES:
            yield op, [corpus.FAILURES[failure]]
            yield op, [corpus.FAILURES[failure]] * 5  # runs out
        yield op, [lambda: reply(400, {"error_code": "CBC.0100", "error_msg": "invalid"})]
    yield "money-issue", [corpus.FAILURES["429-apig"], corpus.FAILURES["500"]]


@contextmanager
def executor(kind: type[Executor], global_seed: int = 7) -> Iterator[None]:
    stamina.instrumentation.set_on_retry_hooks([])  # no logging of every retry
    with mock.patch.object(core, "Executor", kind):
        random.seed(global_seed)  # tenacity and stamina draw from the global generator
        yield


def _observe(kind: type[Executor], global_seed: int = 7) -> list[tuple[Any, ...]]:
    seen = []
    with executor(kind, global_seed):
        for op, makers in scenarios():
            outcome, stats, calls, clock = corpus._run(op, [make() for make in makers])
            op_stats = next(s for name, s in stats.items() if not name.startswith("iam."))
            shown = type(outcome).__name__ if isinstance(outcome, Exception) else "ok"
            behaviour = (shown, len(calls), op_stats.retries, op_stats.throttled)
            seen.append((behaviour, round(clock.monotonic(), 6)))
    return seen


def _us_per_call(kind: type[Executor], calls: int = 2_000) -> float:
    clock = VirtualClock()
    fake = FakeBss(clock)
    route, call, ok = corpus.OPERATIONS["read"]
    fake.on(*route, ok)

    async def main() -> float:
        async with make_client(fake, rate=1e9) as client:
            start = time.process_time()
            for _ in range(calls):
                await call(client)
            return (time.process_time() - start) / calls * 1e6

    with executor(kind):
        return float(min(clock.run(main()) for _ in range(3)))


def measure() -> list[RetryFigures]:
    ours = _observe(Executor)
    figures = []
    for name, kind in CANDIDATES.items():
        first = _observe(kind)
        again = _observe(kind, global_seed=8)  # the client's seed is the same: nothing may move
        figures.append(
            RetryFigures(
                name,
                len(ours),
                sum(a[0] == b[0] for a, b in zip(first, ours, strict=True)),
                sum(a[1] == b[1] for a, b in zip(first, ours, strict=True)),
                first == again,
                _us_per_call(kind),
                LINES[name],
            )
        )
    return figures


if __name__ == "__main__":  # a quick look; bench/libraries.py prints the table
    for f in measure():
        print(f)
