"""What the API's records and live state say about one journalled call (see :mod:`.settle`).

A record can prove only the call it belongs to. It is ours when it carries everything our call
carries: the operator (the account name the API records our credentials' calls under), the
operation type, the parent quota, the reseller, the amount, a successful result, and a time at or
after our first send attempt (on the API's clock: :func:`window_begin`). A record another
operator made never settles our call, however well the rest matches.

Each verdict is ``committed`` (proven), ``not committed`` (proven: the quota was reclaimed by
someone else), *absent* (no evidence that the call took effect: not committed once nothing can
still land, see :func:`conclude_absent`) or undecided (the evidence contradicts itself).

The rules are the same for every kind; a kind reads its records into :class:`RecordFacts` and
asks :func:`delta_verdict` (a call that adds an amount to a recipient: an issue, a top-up) or
:func:`state_verdict` (a call that sets a state) for its verdicts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from reconciler.apply.journal import Operation, iso
from reconciler.plan.model import ZERO, fmt_money, money

#: The gateway accepts a request signed up to 15 minutes away from its clock (REFERENCE §2.2):
#: with no ``Date`` header to measure the API's clock by, records are searched that far back.
SKEW = 900.0
#: Default in-flight horizon (seconds): see docs/apply.md, "The in-flight horizon".
DEFAULT_HORIZON = 2100.0


@dataclass(frozen=True)
class Verdict:
    """``committed`` is None when the evidence does not decide; ``until``: in flight until then."""

    committed: bool | None
    detail: str
    record_id: str | None = None
    quota_id: str | None = None
    amount: str | None = None
    absent: bool = False
    until: float | None = None


@dataclass(frozen=True)
class RecordFacts:
    """One line of an API audit log (quota, coupon or cash records), as settlement and the
    records check before each write (:mod:`reconciler.apply.writers`) read it.

    ``recipient`` is the customer or reseller the money moved to or from; ``result`` is the
    API's result code (``"0"`` success, ``"-1"`` failure); ``time`` the operation time on the
    API's clock (an aware UTC ``datetime`` parsed from the API's text, never compared as text);
    ``remark`` the free text a call could set (ours names the operation:
    ``partner-reconciler op-...``); ``subject`` the object the record made or
    touched (a quota, a coupon), for messages and the journal. ``delta`` marks a record of a
    call that adds an amount (an issue, a top-up), which nothing but its recipient, amount and
    result ties to the call that made it; ``noun`` names it in messages (``issue``).
    """

    id: str
    recipient: str
    amount: Decimal | None
    result: str | None
    time: datetime
    operator: str | None
    remark: str | None = None
    subject: str | None = None
    delta: bool = False
    noun: str = "record"

    @property
    def ok(self) -> bool:
        return self.result == "0"

    def names(self, op_id: str) -> bool:
        """Whether the record's remark names operation ``op_id``."""
        return op_id in (self.remark or "")


@dataclass(frozen=True)
class Evidence:
    """What settlement needs besides the journal: the horizon, who we are, the API's clock."""

    horizon: float = DEFAULT_HORIZON
    operator: str | None = None
    offset: tuple[float, float] | None = None  # API clock - ours (low, high), if measured
    now: float = 0.0

    def measured(self, offset: tuple[float, float] | None) -> Evidence:
        """With the API clock's offset, once an answer has measured it (the client's
        ``clock_offset()``), unless it was known already."""
        if offset is None or self.offset is not None:
            return self
        return Evidence(self.horizon, self.operator, offset, self.now)


def window_begin(sent_at: float, offset: tuple[float, float] | None) -> float:
    """The earliest API-clock time a record of a call sent at ``sent_at`` (our clock) can have."""
    if offset is None:
        return sent_at - SKEW
    return math.floor(sent_at + offset[0]) - 1.0


def records_from(sent_at: float, offset: tuple[float, float] | None) -> str:
    """``operation_time_begin`` for the records of a call sent at ``sent_at`` (strict ``>``)."""
    return iso(window_begin(sent_at, offset) - 1.0)


def in_window(record: RecordFacts, begin: float) -> bool:
    """Whether ``record`` was made at or after ``begin`` (:func:`window_begin`): its time
    (parsed, whole seconds) is at or after ``begin``'s second."""
    return record.time.timestamp() >= math.floor(begin)


def conclude_absent(op: Operation, verdict: Verdict, ev: Evidence) -> Verdict:
    """No evidence of a commit means *not committed* only once no attempt can still land:
    every attempt was refused, or the last one was marked more than the horizon ago."""
    if not verdict.absent:
        return verdict
    if not op.outstanding:
        return Verdict(False, f"{verdict.detail}; every send attempt was refused unexecuted")
    last = op.last_attempt or op.intent_at
    until = last + ev.horizon
    if ev.now < until:
        return Verdict(
            None,
            f"{verdict.detail}; sent {iso(last)}, so it may still be in flight until "
            f"{iso(until)} (the in-flight horizon)",
            until=until,
        )
    return Verdict(False, verdict.detail)


@dataclass(frozen=True)
class DeltaFacts:
    """The evidence about one item of a call that adds ``amount`` to a recipient.

    ``before`` and ``after`` are the recipient's running total (e.g. the value issued to it from
    a quota) in the pre-state snapshot and now; ``records`` the successful records of this
    recipient and direction in the call's window (none proven to belong to an earlier call);
    ``taken`` the record ids already attributed to other items. The words: ``noun`` names the
    records (``issue``), ``measure`` what ``before`` and ``after`` measure, ``holder`` whose
    total grew, ``where`` how a record's subject is named (``on quota``).
    """

    amount: Decimal
    before: Decimal
    after: Decimal
    records: tuple[RecordFacts, ...]
    taken: frozenset[str]
    noun: str = "issue"
    measure: str = "the value issued"
    holder: str = "the recipient's total"
    where: str = "on"

    def describe(self, mine: int) -> str:
        return (
            f"{mine} matching {self.noun} record(s); {self.measure} went from "
            f"{fmt_money(self.before)} to {fmt_money(self.after)}"
        )


def delta_verdict(facts: DeltaFacts, operator: str | None, op_id: str = "") -> Verdict:
    """Committed, absent or undecided (docs/apply.md, "Settlement rules").

    A record is ours only when it names ``op_id`` in its remark or carries ``operator``: a
    record of another operator never proves our call. Committed: exactly one of our records and
    growth by ``amount`` plus what the other records account for; or no record at all and
    growth of exactly ``amount`` (records that lag). Absent: none of ours and growth equal to
    the others. Anything else, and any candidate while the operator is unknown: undecided.
    """
    amount, noun = facts.amount, facts.noun
    same = [r for r in facts.records if r.amount == amount and r.id not in facts.taken]
    named = [r for r in same if op_id and r.names(op_id)]
    if operator is None and same and not named:
        who = ", ".join(sorted({r.operator or "(none)" for r in same}))
        return Verdict(
            None,
            f"{len(same)} {noun} record(s) of {fmt_money(amount)} by {who}, and it is not known "
            "which operator the API records this reconciler's calls under, so none can prove "
            "this call (set Settings spec.operator to that account name)",
        )
    mine = named or [r for r in same if operator is not None and r.operator == operator]
    others = money(sum((r.amount or ZERO for r in facts.records if r not in mine), ZERO))
    growth = money(facts.after - facts.before)
    text = facts.describe(len(mine))
    if others:
        text += f" ({fmt_money(others)} of it by other {noun}s)"
    if len(mine) == 1 and growth == amount + others:
        rec = mine[0]
        where = f" {facts.where} {rec.subject}" if rec.subject else ""
        return Verdict(True, f"{noun} record {rec.id}{where}", rec.id, rec.subject)
    if not mine and not others and growth == amount:
        return Verdict(True, f"{facts.holder} grew by {fmt_money(amount)} ({text})")
    if not mine and growth == others:
        return Verdict(
            False, f"no {noun} record of this call and no new value ({text})", absent=True
        )
    return Verdict(None, text)


def state_verdict(matches: bool | None, text: str, gone: str) -> Verdict:
    """A set-to-state call: committed when live state is what the call sets (``text`` says
    what it is), absent when it is not, undecided when the object is gone (``gone`` says so)."""
    if matches is None:
        return Verdict(None, gone)
    if matches:
        return Verdict(True, text)
    return Verdict(False, text, absent=True)
