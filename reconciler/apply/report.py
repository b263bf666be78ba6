"""The apply report: JSON for machines, a summary line and manual steps for people.

Everything in it comes from the journal and the change results: operation ids, request ids,
error codes, and the money each committed item moved. It never holds a secret. The text and
Markdown for people escape every name and message (:mod:`reconciler.render.escape`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from reconciler.apply.journal import iso
from reconciler.kinds import registry
from reconciler.plan.model import ZERO, fmt_money, money
from reconciler.render.escape import (
    markdown_code,
    markdown_text,
    markdown_value,
    terminal_field,
)
from reconciler.render.words import Escaper, amount

if TYPE_CHECKING:
    from reconciler.apply.journal import Operation
    from reconciler.apply.ops import ChangeResult, ExecContext
    from reconciler.errors import ReconcilerError
    from reconciler.plan.model import Change, Plan

REPORT_VERSION = "1.0"
STATUSES = ("applied", "failed", "manual", "unknown", "skipped", "frozen")


def build_report(
    ctx: ExecContext,
    plan: Plan,
    results: Sequence[ChangeResult],
    *,
    started: float,
    error: ReconcilerError | None,
    open: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``open``: operations of earlier runs still open after settlement (op id -> detail)."""
    ops = ctx.journal.operations(run_id=ctx.run_id)
    settled_here = [
        op.to_dict()
        for op in ctx.journal.operations(partner_id=ctx.partner_id)
        if op.settled_by == f"run {ctx.run_id}" and op.run_id != ctx.run_id
    ]
    totals = _totals(plan, results, ops)
    done = totals["applied"] + totals["manual"] == len(results) and not error and not open
    status = "applied" if done else "partial"
    if not plan.changes and not error and not open:
        status = "no-changes"
    return {
        "format_version": REPORT_VERSION,
        "run_id": ctx.run_id,
        "partner_id": ctx.partner_id,
        "endpoint": plan.endpoint,
        "plan_checksum": plan.checksum,
        "manifest_checksum": plan.manifest_checksum,
        "started_at": iso(started),
        "finished_at": iso(ctx.journal.now()),
        "status": status,
        "error": str(error) if error else None,
        "totals": totals,
        "changes": [_change(r, ops) for r in results],
        "settled_from_earlier_runs": settled_here,
        "open_operations": [{"op_id": k, "detail": v} for k, v in sorted((open or {}).items())],
    }


def _totals(
    plan: Plan, results: Sequence[ChangeResult], ops: Sequence[Operation]
) -> dict[str, Any]:
    issued, reclaimed = _money_moved(ops)
    currency = next((c.money.currency for c in plan.changes if c.money), "CNY")
    counts = {s: sum(1 for r in results if r.status == s) for s in STATUSES}
    return {
        "changes": len(results),
        **counts,
        "money": {
            "currency": currency,
            "issued": fmt_money(issued),
            "reclaimed": fmt_money(reclaimed),
        },
    }


def _money_moved(ops: Sequence[Operation]) -> tuple[Decimal, Decimal]:
    issued = reclaimed = ZERO
    for op in ops:
        spec = registry.operation(op.operation)
        direction = spec.money if spec is not None else None
        for item in op.items:
            if not item.committed or item.amount is None:
                continue
            if direction == "out":
                issued += money(item.amount)
            elif direction == "in":
                reclaimed += money(item.amount)
    return money(issued), money(reclaimed)


def _change(result: ChangeResult, ops: Sequence[Operation]) -> dict[str, Any]:
    change = result.change
    mine = []
    for op in ops:
        items = [i for i in op.to_dict()["items"] if i["change_key"] == change.key]
        if items:
            mine.append(
                {
                    "op_id": op.op_id,
                    "operation": op.operation,
                    "state": op.state,
                    "request_id": op.request_id,
                    "error_code": op.error_code,
                    "items": items,
                }
            )
    return {
        "key": change.key,
        "kind": change.kind,
        "action": change.action,
        "subject": change.subject,
        "source": str(change.source),
        "status": result.status,
        "detail": list(result.detail),
        "operations": mine,
    }


def summary_line(report: dict[str, Any]) -> str:
    t = report["totals"]
    cur = t["money"]["currency"]
    skipped = f", {t['skipped']} skipped" if t["skipped"] else ""
    skipped += f", {t['frozen']} frozen" if t["frozen"] else ""
    return (
        f"Apply: {t['applied']} applied, {t['failed']} failed, {t['manual']} manual, "
        f"{t['unknown']} unknown{skipped}; issued {amount(money(t['money']['issued']), cur)}, "
        f"reclaimed {amount(money(t['money']['reclaimed']), cur)}."
    )


def problem_lines(results: Sequence[ChangeResult]) -> list[str]:
    """One block per change that did not end applied or manual."""
    lines = []
    for r in results:
        if r.status in ("applied", "manual"):
            continue
        t = terminal_field
        lines.append(f"  {r.status:<8} {t(r.change.subject)} ({t(r.change.key)})")
        lines += [f"           {t(d)}" for d in r.detail]
    return lines


def manual_steps_text(results: Sequence[ChangeResult]) -> str:
    manual = [r.change for r in results if r.status == "manual"]
    if not manual:
        return ""
    out = [
        f"Manual steps ({len(manual)}): the partner API cannot make these changes; a person "
        "does them in Partner Center, and each stays in the plan until it is done."
    ]
    t = terminal_field
    for n, change in enumerate(manual, 1):
        out.append(f"  {n}. {t(change.subject)}: {_before_after(change)}  ({t(change.source)})")
        out += [f"       - {t(note)}" for note in change.notes]
    return "\n".join(out) + "\n"


def manual_steps_markdown(results: Sequence[ChangeResult], run_id: str) -> str:
    manual = [r.change for r in results if r.status == "manual"]
    out = [
        "# Manual steps",
        "",
        f"Apply run {markdown_code(run_id)}. The partner API cannot make these changes: do them "
        "in Partner Center. Each one stays in `reconciler plan` until the console shows it.",
        "",
    ]
    if not manual:
        out.append("Nothing to do by hand.")
    for change in manual:
        what = f"{_before_after(change, markdown_value)} ({markdown_code(change.source)})"
        out += [f"## {markdown_text(change.subject)}", "", what, ""]
        out += [f"- [ ] {markdown_text(note)}" for note in change.notes]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _before_after(change: Change, esc: Escaper = terminal_field) -> str:
    return registry.kind(change.kind).change_text(change, esc)
