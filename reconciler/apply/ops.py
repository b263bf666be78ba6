"""What the executors share: the run's context, the journalled write call, change results.

Every write goes through :func:`journalled`::

    intent recorded (with the pre-state snapshot)   -- crash point "after-intent"
    each send attempt (first or retry) marked, only
      while the lease is ours (:class:`Fence`)      -- crash point "before-send"
    the call                                        -- crash point "after-send"
    outcome recorded: committed | failed | unknown  -- crash point "after-outcome"

and each change is verified by a re-read afterwards (crash point "after-verify"). The crash points
are a test hook: ``RECONCILER_CRASH_AT=<step>[:<n>]`` ends the process with ``os._exit(137)`` the
n-th time (default 1) the step is reached, exactly as ``kill -9`` would.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from reconciler.apply.evidence import DEFAULT_HORIZON, DEFAULT_RECORDS_SKEW, Evidence
from reconciler.apply.journal import ItemOutcome, Journal, Operation, OpSpec, new_id
from reconciler.bss.transport import capture_request_ids, guarded_attempts
from reconciler.errors import (
    ApiError,
    ConfigError,
    LockHeldError,
    OutcomeUnknownError,
    ReconcilerError,
    TransportError,
)

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.plan.model import Change

T = TypeVar("T")

CRASH_STEPS = ("after-intent", "before-send", "after-send", "after-outcome", "after-verify")
CRASH_ENV = "RECONCILER_CRASH_AT"
#: How often a per-item failure inside HTTP 200 is tried again (after a re-read).
ITEM_RETRIES = 1
#: A mark older than this when the request goes to the socket is made again (fencing re-check).
REMARK_AFTER = 2.0


class CrashHook:
    """``RECONCILER_CRASH_AT=<step>[:<n>]``: die at the n-th time ``step`` is reached."""

    def __init__(self, spec: str | None) -> None:
        self.step: str | None = None
        self.nth = 1
        self._seen = 0
        if not spec:
            return
        step, _, nth = spec.partition(":")
        if step not in CRASH_STEPS or (nth and not nth.isdigit()):
            raise ConfigError(
                f"{CRASH_ENV}={spec!r}: expected <step>[:<n>] with step one of "
                f"{', '.join(CRASH_STEPS)}"
            )
        self.step, self.nth = step, int(nth or 1)

    @classmethod
    def from_env(cls) -> CrashHook:
        return cls(os.environ.get(CRASH_ENV))

    def __call__(self, step: str) -> None:
        if step != self.step:
            return
        self._seen += 1
        if self._seen == self.nth:
            os._exit(137)


def _ignore(_text: str) -> None:
    return None


async def _no_settlement(op: Operation) -> Operation:
    return op


@dataclass
class ChangeResult:
    """How one planned change ended: applied | failed | manual | unknown | skipped."""

    change: Change
    status: str = "pending"  # applied | failed | manual | unknown | skipped | frozen
    detail: list[str] = field(default_factory=list)

    def finish(self, status: str, *detail: str) -> None:
        self.status = status
        self.detail.extend(d for d in detail if d)


@dataclass
class ExecContext:
    """Everything an executor needs; ``progress`` prints a line per call on a TTY (or does
    nothing), ``change_done`` a line per concluded change."""

    client: BssClient
    journal: Journal
    run_id: str
    partner_id: str
    token: int
    started_at: float
    progress: Callable[[str], None]
    crash: CrashHook
    results: dict[str, ChangeResult] = field(default_factory=dict)
    notice: Callable[[str], None] = _ignore
    #: one line per change as soon as it is concluded (also when stdout is not a terminal)
    change_done: Callable[[str], None] = _ignore
    horizon: float = DEFAULT_HORIZON
    #: who the API records our calls as: Settings spec.operator, else learned by the journal
    settings_operator: str | None = None
    operator: str | None = None
    #: a record that can only be ours named another operator than the one we know (Settings
    #: or learned): until that is fixed no record proves anything (``evidence().operator``)
    operator_mismatch: bool = False
    #: how far the records clock may be from the ``Date`` header's (see evidence.Evidence)
    records_skew: float = DEFAULT_RECORDS_SKEW
    #: set when one of our own records showed the records clock further off than that: the
    #: check for other writers cannot be trusted, so no further money write in this run
    records_clock_off: str | None = None
    #: change key -> why this run must not write to it (see settle.Frozen)
    frozen: dict[str, str] = field(default_factory=dict)
    #: settles one operation right after an unknown answer, accepting only proof of a commit,
    #: and returns it as the journal has it then (set by :mod:`reconciler.apply.executor`)
    settle_now: Callable[[Operation], Awaitable[Operation]] = _no_settlement

    def evidence(self) -> Evidence:
        """What settlement needs right now: the horizon, our operator, the API's clock."""
        operator = None if self.operator_mismatch else self.settings_operator or self.operator
        return Evidence(
            self.horizon,
            operator,
            self.client.clock_offset(),
            self.journal.now(),
            self.records_skew,
        )

    def result(self, change: Change) -> ChangeResult:
        found = self.results.get(change.key)
        if found is None:
            found = self.results[change.key] = ChangeResult(change)
        return found

    def conclude(self, change: Change, status: str, *detail: str, crash: bool = True) -> None:
        """Record how a change ended, durably, then pass the ``after-verify`` crash point."""
        result = self.result(change)
        result.finish(status, *detail)
        self.journal.record_change(
            self.run_id,
            change.key,
            kind=change.kind,
            action=change.action,
            subject=change.subject,
            status=result.status,
            detail=result.detail,
        )
        self.change_done(f"  {result.status:<8} {change.subject}")
        if crash:
            self.crash("after-verify")


@dataclass(frozen=True)
class Sent:
    """A journalled call's outcome, item by item."""

    op_id: str
    state: str  # committed | failed | unknown
    items: Mapping[str, ItemOutcome]
    error: ReconcilerError | None = None
    request_id: str | None = None

    @property
    def unknown(self) -> list[str]:
        return [i for i, out in self.items.items() if out.state == "unknown"]


class Fence:
    """The client's :class:`~reconciler.bss.transport.AttemptGuard` for one journalled call.

    Each attempt is marked in the journal in the transaction that checks the lease's fencing
    token (:meth:`Journal.mark_attempt` raises :class:`LockHeldError` once another run holds
    the lease: nothing is sent). Right before the request goes to the socket the mark is made
    again if it is older than :data:`REMARK_AFTER` seconds, so a pause between the mark and the
    write (a stopped process, a slow pacer) cannot outlive the lease unnoticed. An answer that
    proves the attempt was not executed (429, another 4xx, never sent) is noted, so settlement
    knows no attempt of the call can still be in flight.
    """

    def __init__(self, ctx: ExecContext, op_id: str) -> None:
        self.ctx = ctx
        self.op_id = op_id
        self.attempt = 0
        self.marked = 0.0

    def _mark(self) -> None:
        ctx = self.ctx
        self.marked = ctx.journal.mark_attempt(self.op_id, ctx.partner_id, ctx.token, self.attempt)

    def before_attempt(self, attempt: int) -> None:
        self.attempt = attempt
        self._mark()
        self.ctx.crash("before-send")

    def before_write(self) -> None:
        if self.ctx.journal.now() - self.marked > REMARK_AFTER:
            try:
                self._mark()
            except LockHeldError:
                self.ctx.journal.note_refused(self.op_id)  # this attempt never left
                raise

    def after_attempt(self, attempt: int, *, refused: bool) -> None:
        if refused:
            self.ctx.journal.note_refused(self.op_id)


async def journalled(
    ctx: ExecContext,
    spec: OpSpec,
    call: Callable[[str], Awaitable[T]],
    interpret: Callable[[T], Mapping[str, ItemOutcome]],
    *,
    money: bool,
    op_id: str | None = None,
) -> Sent:
    """Record the intent, send ``call(op_id)``, record what came back; see the module doc."""
    op_id = op_id or new_id("op")
    ctx.journal.record_intent(ctx.run_id, ctx.partner_id, ctx.token, spec, op_id=op_id)
    ctx.crash("after-intent")
    with capture_request_ids() as request_ids, guarded_attempts(Fence(ctx, op_id)):
        answer = await _send(call, op_id)
    ctx.crash("after-send")
    error = answer if isinstance(answer, ReconcilerError) else None
    request_id = request_ids[-1] if request_ids else getattr(error, "request_id", None)
    if error is None:
        assert isinstance(answer, tuple)
        state, items = "committed", dict(interpret(answer[0]))
    else:
        state = _failed_or_unknown(error, money=money)
        code = getattr(error, "error_code", None)
        items = {
            i.item_id: ItemOutcome(state, error_code=code, detail=str(error)) for i in spec.items
        }
    ctx.journal.record_outcome(
        op_id,
        state,
        items,
        error_code=getattr(error, "error_code", None),
        request_id=request_id,
        detail=str(error) if error else None,
    )
    ctx.crash("after-outcome")
    return Sent(op_id, state, items, error, request_id)


async def _send(call: Callable[[str], Awaitable[T]], op_id: str) -> tuple[T] | ReconcilerError:
    """The answer (in a tuple), or the error that stood in for it."""
    try:
        return (await call(op_id),)
    except (TransportError, ApiError, ConfigError) as err:
        return err


def _failed_or_unknown(error: ReconcilerError, *, money: bool) -> str:
    """Whether a failed call surely did nothing (failed) or may have taken effect (unknown)."""
    if isinstance(error, OutcomeUnknownError):
        return "unknown"
    if isinstance(error, TransportError):
        # Money calls are only retried before anything left the client, so a transport error
        # that survives the retries means "not sent"; a set-state call may have landed.
        return "failed" if money else "unknown"
    return "failed"
