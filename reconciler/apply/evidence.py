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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.apply.journal import Operation, iso
from reconciler.plan.model import ZERO, fmt_money, money

if TYPE_CHECKING:
    from reconciler.bss.models import IssuedQuota, QuotaRecord

#: The gateway accepts a request signed up to 15 minutes away from its clock (REFERENCE §2.2):
#: with no ``Date`` header to measure the API's clock by, records are searched that far back.
SKEW = 900.0
#: Default in-flight horizon (seconds): see docs/apply.md, "The in-flight horizon".
DEFAULT_HORIZON = 2100.0
RECLAIMED = 6
VALID = 0


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
    API's clock (ISO 8601, UTC); ``remark`` the free text a call could set (ours names the
    operation: ``partner-reconciler op-...``); ``subject`` the object the record made or
    touched (a quota, a coupon), for messages and the journal. ``delta`` marks a record of a
    call that adds an amount (an issue, a top-up), which nothing but its recipient, amount and
    result ties to the call that made it; ``noun`` names it in messages (``issue``).
    """

    id: str
    recipient: str
    amount: Decimal | None
    result: str | None
    time: str | None
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


def window_begin(sent_at: float, offset: tuple[float, float] | None) -> float:
    """The earliest API-clock time a record of a call sent at ``sent_at`` (our clock) can have."""
    if offset is None:
        return sent_at - SKEW
    return math.floor(sent_at + offset[0]) - 1.0


def records_from(sent_at: float, offset: tuple[float, float] | None) -> str:
    """``operation_time_begin`` for the records of a call sent at ``sent_at`` (strict ``>``)."""
    return iso(window_begin(sent_at, offset) - 1.0)


def in_window(record: QuotaRecord | RecordFacts, begin: float) -> bool:
    when = record.time if isinstance(record, RecordFacts) else record.operation_time
    return when is not None and when >= iso(begin)


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


def _snapshot(op: Operation, reseller_id: str | None) -> list[list[Any]]:
    resellers: Mapping[str, Any] = op.pre_state.get("resellers") or {}
    entry = resellers.get(reseller_id or "") or {}
    quotas: list[list[Any]] = entry.get("quotas") or []
    return quotas


def _value(raw: Any) -> Decimal:
    return money(raw) if raw not in (None, "") else ZERO


def issued_value(children: Sequence[IssuedQuota]) -> Decimal:
    return sum(
        (q.quota_value if q.quota_value is not None else (q.balance or ZERO) for q in children),
        ZERO,
    )


@dataclass(frozen=True)
class IssueFacts:
    """The evidence about one issued item: the records in its window and the growth."""

    rid: str
    amount: Decimal
    before: Decimal
    after: Decimal
    records: tuple[QuotaRecord, ...]  # successful issues to rid from the parent, in the window
    taken: frozenset[str]  # record ids already attributed to other items

    def describe(self, mine: int) -> str:
        return (
            f"{mine} matching issue record(s); issued value from the quota went from "
            f"{fmt_money(self.before)} to {fmt_money(self.after)}"
        )


def issue_facts(
    op: Operation,
    rid: str,
    children: Sequence[IssuedQuota],
    records: Sequence[QuotaRecord],
    taken: set[str],
    begin: float,
    earlier: Collection[str] = (),
) -> IssueFacts:
    """``earlier``: ids of records proven to belong to calls that ended before this one's
    snapshot was read (their value is in ``before``)."""
    snap = _snapshot(op, rid)
    before = sum((_value(q[3] if q[3] is not None else q[2]) for q in snap), ZERO)
    window = tuple(
        r
        for r in records
        if r.indirect_partner_id == rid
        and r.result == "0"
        and r.operation_type == "10"
        and in_window(r, begin)
        and r.id not in earlier
    )
    return IssueFacts(
        rid, money(op.request["quota_amount"]), before, issued_value(children), window,
        frozenset(taken),
    )  # fmt: skip


def issue_verdict(facts: IssueFacts, operator: str | None) -> Verdict:
    """Committed, absent or undecided; see :func:`delta_verdict` and docs/apply.md."""
    delta = DeltaFacts(
        facts.amount,
        facts.before,
        facts.after,
        tuple(quota_record_facts(r) for r in facts.records),
        facts.taken,
        noun="issue",
        measure="issued value from the quota",
        holder="the reseller's issued value",
        where="on quota",
    )
    return delta_verdict(delta, operator)


def quota_record_facts(record: QuotaRecord) -> RecordFacts:
    """A quota record ("10" issue, "11" reclaim) as :class:`RecordFacts`."""
    issue = record.operation_type == "10"
    return RecordFacts(
        id=record.id,
        recipient=record.indirect_partner_id or "",
        amount=record.amount,
        result=record.result,
        time=record.operation_time,
        operator=record.operator,
        remark=record.remark,
        subject=record.quota_id,
        delta=issue,
        noun="issue" if issue else "reclaim",
    )


def reclaim_verdict(
    op_id: str, quota: IssuedQuota | None, records: Sequence[QuotaRecord]
) -> Verdict:
    if quota is None:
        return Verdict(None, "the quota is no longer listed among the reseller's quotas")
    done = [r for r in records if r.quota_id == quota.quota_id and r.result == "0"]
    ours = [r for r in done if op_id in (r.remark or "")]
    status = quota.quota_status
    if status == RECLAIMED and ours:
        amount = fmt_money(ours[0].amount) if ours[0].amount is not None else None
        return Verdict(True, f"reclaim record {ours[0].id}", ours[0].id, quota.quota_id, amount)
    if status == RECLAIMED and done:
        return Verdict(False, f"reclaimed by someone else (record {done[0].id})")
    if status == VALID and not ours:
        return Verdict(
            False, "the quota is still valid and no reclaim record names this call", absent=True
        )
    return Verdict(
        None, f"quota status {status} with {len(ours)} reclaim record(s) naming this call"
    )


def renew_verdict(want: bool, auto_renew: bool | None) -> Verdict:
    state = "on" if auto_renew else "off"
    matches = None if auto_renew is None else auto_renew == want
    return state_verdict(matches, f"auto-renew is {state}", "the resource is no longer listed")


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
