"""What the API's records and live state say about one journalled call (see :mod:`.settle`).

A record can prove only the call it belongs to. It is ours when it carries everything our call
carries: the operator (the account name the API records our credentials' calls under), the
operation type, the parent quota, the reseller, the amount, a successful result, and a time at or
after our first send attempt (on the API's clock: :func:`window_begin`, widened by the
records-clock allowance). A record another operator made never settles our call, however well
the rest matches; a record without an operator has an unknown owner and settles nothing, not
even the absence of our call (:func:`unknown_owner`).

Each verdict is ``committed`` (proven), ``not committed`` (proven: the quota was reclaimed by
someone else), *absent* (no evidence that the call took effect: not committed once nothing can
still land, see :func:`conclude_absent`) or undecided (the evidence contradicts itself).

The rules are the same for every kind; a kind reads its records into :class:`RecordFacts` and
asks :func:`delta_verdict` (a call that adds an amount to a recipient: an issue, a top-up) or
:func:`state_verdict` (a call that sets a state) for its verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
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
#: Default records-clock allowance (seconds): how far the clock that stamps the records may be
#: from the clock in the answers' ``Date`` header, by which apply measures the API's clock.
#: Every records window is widened by it on both sides (docs/apply.md, "The records clock").
DEFAULT_RECORDS_SKEW = 30.0
#: Operation states in which the call's answer came back (its records were stamped before it).
ANSWERED = ("committed", "failed")


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
    result ties to the call that made it; ``noun`` names it in messages (``issue``), ``did``
    says what the call that made it did to its subject (``created`` a quota, ``reclaimed`` a
    coupon), in the kind's words.
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
    did: str = "made"

    @property
    def ok(self) -> bool:
        return self.result == "0"

    def names(self, op_id: str) -> bool:
        """Whether the record's remark names operation ``op_id``."""
        return op_id in (self.remark or "")

    @property
    def unowned(self) -> bool:
        """Whether the record lacks what tells whose it is (an operator): its owner is unknown,
        so it proves neither our call nor someone else's."""
        return not self.operator


@dataclass(frozen=True)
class Evidence:
    """What settlement needs besides the journal: the horizon, who we are, the API's clock."""

    horizon: float = DEFAULT_HORIZON
    operator: str | None = None
    offset: tuple[float, float] | None = None  # API clock - ours (low, high), if measured
    now: float = 0.0
    skew: float = DEFAULT_RECORDS_SKEW  # the records clock's allowance around ``offset``

    def measured(self, offset: tuple[float, float] | None) -> Evidence:
        """With the API clock's offset, once an answer has measured it (the client's
        ``clock_offset()``), unless it was known already."""
        if offset is None or self.offset is not None:
            return self
        return Evidence(self.horizon, self.operator, offset, self.now, self.skew)

    def begin(self, sent_at: float) -> float:
        """:func:`window_begin` of a call sent at ``sent_at``, widened by the allowance."""
        return window_begin(sent_at, self.offset, self.skew)

    def records_from(self, sent_at: float) -> str:
        """``operation_time_begin`` for the records of a call sent at ``sent_at`` (the API's
        strict ``>``)."""
        return iso(self.begin(sent_at) - 1.0)

    def window(self, op: Operation) -> tuple[float, float]:
        """The records-clock span in which a record of ``op``'s call can have been stamped:
        from its first send attempt to its answer, or, while no answer came back, to its last
        attempt plus the horizon (:func:`window_begin`, :func:`window_end`)."""
        begin = self.begin(op.sent_at or op.intent_at)
        if op.state in ANSWERED and op.finished_at is not None:
            return begin, window_end(op.finished_at, self.offset, self.skew)
        last = op.last_attempt or op.intent_at
        return begin, window_end(last + self.horizon, self.offset, self.skew)

    def foreign(self, record: RecordFacts) -> bool:
        """Whether ``record`` cannot be this reconciler's: it names no operator (its owner is
        unknown), or another operator than ours."""
        if not record.operator:
            return True
        return self.operator is not None and record.operator != self.operator


def window_begin(sent_at: float, offset: tuple[float, float] | None, skew: float = 0.0) -> float:
    """The earliest API-clock time a record of a call sent at ``sent_at`` (our clock) can have,
    ``skew`` earlier (the records clock may run behind the ``Date`` header's)."""
    if offset is None:
        return sent_at - SKEW - skew
    return math.floor(sent_at + offset[0]) - 1.0 - skew


def window_end(answered_at: float, offset: tuple[float, float] | None, skew: float = 0.0) -> float:
    """The latest API-clock time a record of a call answered at ``answered_at`` (our clock) can
    have, ``skew`` later (the records clock may run ahead of the ``Date`` header's)."""
    if offset is None:
        return answered_at + SKEW + skew
    return math.ceil(answered_at + offset[1]) + 1.0 + skew


def in_window(record: RecordFacts, begin: float, end: float = math.inf) -> bool:
    """Whether ``record`` was made within ``begin`` and ``end`` (:func:`window_begin`,
    :func:`window_end`): its time (parsed, whole seconds) is at or after ``begin``'s second and
    not after ``end``."""
    when = record.time.timestamp()
    return math.floor(begin) <= when <= end


def unknown_owner(
    records: Sequence[RecordFacts], where: str, lacks: str = "an operator"
) -> Verdict | None:
    """Undecided when ``records`` (candidates for proof, each lacking what tells whose it is:
    ``lacks``) are not empty: an unknown owner proves neither a commit nor its absence."""
    if not records:
        return None
    ids = ", ".join(r.id for r in records)
    what = "record" if len(records) == 1 else "records"
    return Verdict(
        None,
        f"{records[0].noun} {what} {ids} {where} without {lacks}: the API does not say who made "
        "it, so it can be neither this call's proof nor someone else's (unknown owner)",
    )


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
    unknown = unknown_owner(
        [r for r in same if r.unowned], f"of {fmt_money(amount)} to this recipient"
    )
    if unknown is not None:
        return unknown
    # A remark can be copied: a record naming us is ours only with our operator (if known).
    named = [
        r for r in same if op_id and r.names(op_id) and (operator is None or r.operator == operator)
    ]
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
