"""Settling writes whose outcome is unknown, from the API's own records.

An operation is *open* when it was recorded but never answered: the run died, the connection
dropped, or a batch answer left some items out. Apply settles every open operation of the
partner account before it plans or writes anything; the executors also try right after an unknown
answer, but then accept only proof that the call took effect.

Rules, per item (the evidence is in :mod:`.evidence`; each kind reads its records and live
state for the verdicts of its own operations, :class:`~reconciler.kinds.spec.OperationSpec`):

* never sent (the intent was recorded, no send attempt was marked): not committed.
* proof of a commit (our record and the matching growth, a record naming our call, the state
  a set-to-state call sets) settles it as committed, at any time.
* no evidence of a commit settles it as *not committed* only when nothing can still land: every
  send attempt was refused unexecuted (429, another 4xx, never sent), or the last attempt was
  marked more than the in-flight horizon ago. Before that the call may still be held by the
  gateway, a proxy or a retransmit: it is **in flight**, and the change keys of its open items
  are **frozen**: apply writes nothing to them, applies everything else, and says when they can
  be settled.
* contradicting evidence (two candidate records, other growth, an unknown operator): unsettled;
  the keys stay frozen until the evidence decides or an operator settles it by hand
  (``reconciler journal settle``).

Settling never writes to the API, and the plan that follows is always computed from fresh reads,
so a settlement only decides what the journal says happened: no stored delta is ever replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.apply.evidence import Evidence, Verdict, conclude_absent
from reconciler.apply.journal import Item, Journal, Operation, iso
from reconciler.kinds import registry

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient


@dataclass(frozen=True)
class Frozen:
    """A change key apply must not write to in this run, and why."""

    key: str
    op_id: str
    detail: str
    until: float | None = None  # in flight until then; None: needs evidence or a person


@dataclass
class Settlement:
    settled: int = 0
    frozen: dict[str, Frozen] = field(default_factory=dict)
    unsettled: list[Operation] = field(default_factory=list)

    @property
    def in_flight_until(self) -> float | None:
        """When the last in-flight operation can be settled (None if none is in flight)."""
        times = [f.until for f in self.frozen.values() if f.until is not None]
        return max(times) if times else None


@dataclass(frozen=True)
class Settled:
    op: Operation
    verdicts: dict[str, Verdict]

    @property
    def open(self) -> bool:
        return self.op.open


async def settle_open(
    client: BssClient, journal: Journal, partner_id: str, *, by: str, ev: Evidence
) -> Settlement:
    """Settle every open operation of ``partner_id``; what stays open freezes its change keys."""
    result = Settlement()
    for op in journal.operations(partner_id=partner_id, open_only=True):
        done = await settle_operation(client, journal, op, final=True, by=by, ev=ev)
        if not done.open:
            result.settled += 1
            continue
        if any(v.until is None for i, v in done.verdicts.items() if _open(done.op, i)):
            result.unsettled.append(done.op)
        for item in done.op.items:
            if item.open:
                verdict = done.verdicts.get(item.item_id)
                until = verdict.until if verdict is not None else None
                result.frozen.setdefault(
                    item.change_key,
                    Frozen(item.change_key, op.op_id, frozen_detail(done.op, item, until), until),
                )
    return result


def _open(op: Operation, item_id: str) -> bool:
    return any(i.item_id == item_id and i.open for i in op.items)


def frozen_detail(op: Operation, item: Item, until: float | None) -> str:
    what = f"{describe_item(op, item)} [{op.op_id}, run {op.run_id}]"
    if until is not None:
        return (
            f"frozen: {what}: {item.detail or 'sent, may still be in flight'}. Nothing was "
            f"written to it; it can be settled from the API's records after {iso(until)}: run "
            "apply again then (or apply --wait)"
        )
    return (
        f"frozen: the outcome of {what} is not settled ({item.detail or 'no evidence'}); "
        f"nothing was written to it. Check, then `reconciler journal settle {op.op_id} "
        "--committed|--not-committed`"
    )


async def settle_operation(
    client: BssClient, journal: Journal, op: Operation, *, final: bool, by: str, ev: Evidence
) -> Settled:
    """Settle what the evidence decides; with ``final=False`` only proven commits."""
    open_items = [i for i in op.items if i.open]
    spec = registry.operation(op.operation)
    if op.state == "intent":
        verdicts = {
            i.item_id: Verdict(False, "never sent: the run stopped before sending it")
            for i in open_items
        }
    elif spec is not None:
        verdicts = await spec.settle(client, journal, op, open_items, ev)
    else:
        unknown = Verdict(None, f"unknown operation {op.operation}")
        verdicts = {i.item_id: unknown for i in open_items}
    verdicts = {k: conclude_absent(op, v, ev) for k, v in verdicts.items()}
    for item_id, verdict in verdicts.items():
        if verdict.committed is None or (verdict.committed is False and not final):
            journal.update_item(op.op_id, item_id, detail=verdict.detail)
            continue
        journal.settle_item(
            op.op_id,
            item_id,
            committed=verdict.committed,
            by=by,
            detail=verdict.detail,
            record_id=verdict.record_id,
            quota_id=verdict.quota_id,
            amount=verdict.amount,
        )
    settled = journal.operation(op.op_id)
    assert settled is not None
    return Settled(settled, verdicts)


def unsettled_message(op: Operation) -> str:
    """What the operator must check, and the commands that record the answer."""
    lines = [
        f"Operation {op.op_id} ({op.operation}, run {op.run_id}, recorded {iso(op.intent_at)}) "
        "may or may not have taken effect, and the API's records do not decide it:"
    ]
    for item in op.items:
        if item.open:
            lines.append(f"  - {describe_item(op, item)}: {item.detail or 'no evidence read yet'}")
    lines.append(_where_to_look(op))
    lines += [
        "Then record the answer (the next plan is computed from live state either way):",
        f"  reconciler journal settle {op.op_id} --committed       # it took effect",
        f"  reconciler journal settle {op.op_id} --not-committed   # it did not",
    ]
    return "\n".join(lines)


def in_flight_message(op: Operation, until: float, horizon: float) -> str:
    """Why ``reconciler journal settle`` refuses an operation that may still land, and what a
    person must check before saying otherwise (``--checked-api-records``)."""
    last = op.last_attempt or op.intent_at
    what = "; ".join(describe_item(op, i) for i in op.items if i.open)
    return "\n".join(
        [
            f"Operation {op.op_id} ({what}) was last sent at {iso(last)}, less than the "
            f"in-flight horizon ({horizon:g} s) ago: the request may still be held by the API "
            f"gateway, a proxy or a retransmit and take effect until {iso(until)}. Settling it "
            "now would unfreeze its pair, and the next apply could make the call again while "
            "this one can still land. Nothing was settled.",
            f"Either run `reconciler apply` after {iso(until)} (it settles the operation from "
            "the API's records itself; `apply --wait` waits for it), or settle now only if the "
            "API's records show the call took effect (--committed), or you know it can no "
            "longer land (--not-committed), and say so with --checked-api-records.",
            _where_to_look(op),
        ]
    )


def describe_item(op: Operation, item: Item) -> str:
    """What one item of an operation is, in words (its kind says)."""
    spec = registry.operation(op.operation)
    if spec is None:
        return f"{op.operation} of {item.item_id} (target {op.target})"
    return spec.describe(op, item)


def _where_to_look(op: Operation) -> str:
    spec = registry.operation(op.operation)
    if spec is None:
        return f"Check operation {op.operation} on {op.target} in Partner Center."
    return spec.where_to_look(op)
