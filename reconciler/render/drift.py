"""Drift reports rendered for people and machines: text, JSON, Markdown and GitHub annotations.

Pure functions from a :class:`~reconciler.gitops.drift.DriftReport` to a string. The Markdown is the
body of the drift issue CI keeps open while drift persists: it starts with :data:`DRIFT_MARKER`, a
hidden line the workflow finds the issue by, and stays under
:data:`~reconciler.render.formats.MARKDOWN_LIMIT` characters. Values from live data and manifests
are escaped where they are interpolated, as in :mod:`reconciler.render.formats` and
:mod:`reconciler.render.markdown`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reconciler.gitops.drift import HEAL_APPLY, HEAL_MANUAL, DriftItem, DriftReport
from reconciler.kinds import registry
from reconciler.plan.model import ZERO
from reconciler.plan.scope import describe_scope, outside_scope_text
from reconciler.render import escape
from reconciler.render.escape import (
    markdown_cell,
    markdown_code,
    markdown_text,
    markdown_value,
    terminal_field,
)
from reconciler.render.formats import (
    MARKDOWN_LIMIT,
    annotation,
    guard_message,
    styler,
    title,
)
from reconciler.render.words import Escaper, amount, plural

DRIFT_MARKER = "<!-- partner-reconciler:drift -->"
MARKS = {HEAL_APPLY: "~", HEAL_MANUAL: "!"}  # "x": apply cannot reach it
COLOURS = {"~": "yellow", "!": "cyan", "x": "red"}
HEAL_WORDS = {HEAL_APPLY: "heal", HEAL_MANUAL: "manual", "none": "cannot heal"}


def _mark(item: DriftItem) -> str:
    """``~`` apply heals it, ``!`` a person does, ``x`` apply cannot reach it (yet)."""
    if item.status == "not-applicable":
        return "x"
    return MARKS.get(item.heal, "x")


def value_text(kind: str, values: dict[str, Any] | Any, esc: Escaper = terminal_field) -> str:
    """One side of an item in words (its kind says how); values through ``esc``."""
    if not values:
        return "?"
    return registry.kind(kind).side_text(values, esc)


def _by_kind(items: Sequence[DriftItem]) -> dict[str, list[DriftItem]]:
    grouped: dict[str, list[DriftItem]] = {k: [] for k in registry.IDS}
    for item in items:
        grouped[item.kind].append(item)
    return {k: v for k, v in grouped.items() if v}


def summary_line(report: DriftReport) -> str:
    managed = sum(report.in_scope.values())
    if report.in_sync:
        unchecked = outside_scope_text(dict(report.scope))
        tail = f"; {unchecked}" if unchecked else ""
        objects = plural(managed, "managed object")
        return f"No drift. Live state matches the manifests ({objects}){tail}."
    by_hand = report.count(HEAL_MANUAL) - report.unreachable
    parts = [f"{report.count(HEAL_APPLY)} healable by apply", f"{by_hand} manual"]
    if report.unreachable:
        parts.append(f"{report.unreachable} apply cannot reach")
    if report.count("none"):
        parts.append(f"{report.count('none')} cannot be healed")
    n = len(report.items)
    verb = "differs" if n == 1 else "differ"
    text = f"Drift: {plural(n, 'object')} {verb} ({', '.join(parts)})"
    if report.problems:
        n = len(report.problems)
        text += f"; {plural(n, 'manifest problem')} apply would stop on"
    totals = report.money_totals()
    if totals.issue > ZERO or totals.reclaim > ZERO:
        text += f"; healing would issue {amount(totals.issue)} and reclaim {amount(totals.reclaim)}"
    return text + "."


# -- text -----------------------------------------------------------------------------------


def render_text(report: DriftReport, *, colour: bool = False) -> str:
    style, t = styler(colour), terminal_field
    lines = [
        f"Drift for partner {t(report.partner_id)} at {t(report.endpoint)}",
        f"Manifests {report.manifest_checksum}; checked {report.created_at}",
    ]
    narrowed = describe_scope(dict(report.scope))
    if narrowed:
        lines.append(style(t(narrowed), "~"))
    for kind, items in _by_kind(report.items).items():
        lines += ["", f"{title(kind)} ({len(items)})"]
        for item in items:
            mark = _mark(item)
            head = (
                f"  {mark} {t(item.subject)}: wants {value_text(kind, item.desired)}, "
                f"live {value_text(kind, item.live)}"
            )
            lines.append(style(head, mark))
            lines.append(f"      {t(HEAL_WORDS.get(item.heal, item.heal))}: {t(item.reason)}")
            lines += [f"      {t(note)}" for note in item.notes]
            if item.source:
                lines.append(f"      from {t(item.source)}")
    if report.problems:
        lines += ["", f"Manifest problems apply would stop on ({len(report.problems)})"]
        lines += [f"  x {t(p)}" for p in report.problems]
    if report.blocking_guards:
        lines += ["", "Guards apply would trip"]
        lines += [f"  {guard_message(g)}" for g in report.blocking_guards]
    lines += ["", style(t(summary_line(report)), "" if report.in_sync else "~")]
    return "\n".join(lines) + "\n"


def render_json(report: DriftReport) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n"


# -- GitHub annotations ----------------------------------------------------------------------


def render_github(report: DriftReport) -> str:
    """A notice when the run was narrowed, a warning on each drifted manifest line, an error on
    each reference that broke."""
    narrowed = describe_scope(dict(report.scope))
    out = [escape.annotation("notice", narrowed, title="narrowed run")] if narrowed else []
    for item in report.items:
        if item.source is None:
            continue
        s = item.source
        msg = (
            f"{terminal_field(item.subject)}: wants {value_text(item.kind, item.desired)}, live "
            f"{value_text(item.kind, item.live)}; {HEAL_WORDS.get(item.heal)}: "
            f"{terminal_field(item.reason)}"
        )
        out.append(annotation("warning", s.file, s.line, s.col, f"drift: {title(item.kind)}", msg))
    for p in report.problems:
        pos = p.position
        msg = f"{p.path}: {p.message}" if p.path else p.message
        out.append(annotation("error", pos.file, pos.line, pos.col, "drift: reference", msg))
    out.append(terminal_field(summary_line(report)))
    return "\n".join(out) + "\n"


# -- Markdown (the drift issue) ----------------------------------------------------------------


def _cell(text: object) -> str:
    """A table cell of text that is already Markdown (its values escaped)."""
    return markdown_cell(str(text))


def _money_cell(item: DriftItem) -> str:
    m = item.money
    if m is None:
        return ""
    parts = []
    if m.reclaim > ZERO:
        parts.append(f"reclaim {amount(m.reclaim, m.currency)}")
    if m.issue > ZERO:
        parts.append(f"issue {amount(m.issue, m.currency)}")
    if m.unrecoverable > ZERO:
        parts.append(f"{amount(m.unrecoverable, m.currency)} spent, lost")
    return "; ".join(parts)


def _table(kind: str, items: Sequence[DriftItem], max_rows: int) -> list[str]:
    lines = [
        f"### {title(kind)} ({len(items)})",
        "",
        "| | Object | Manifest | Live | Heal | Money | Source |",
        "|---|---|---|---|---|---|---|",
    ]
    for item in items[:max_rows]:
        by_hand = item.heal == HEAL_MANUAL and item.status != "not-applicable"
        reason = "by hand in Partner Center" if by_hand else item.reason
        heal = f"**{HEAL_WORDS.get(item.heal)}**: {markdown_text(reason)}"
        src = markdown_code(item.source) if item.source else ""
        desired = value_text(kind, item.desired, markdown_value)
        live = value_text(kind, item.live, markdown_value)
        cells = (f"`{_mark(item)}`", markdown_text(item.subject), desired, live, heal,
                 _money_cell(item), src)  # fmt: skip
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if len(items) > max_rows:
        lines.append(f"\n… and {len(items) - max_rows} more: see the JSON drift report artifact.")
    return [*lines, ""]


def _problems(report: DriftReport, max_rows: int) -> list[str]:
    if not report.problems:
        return []
    lines = [f"### Manifest problems apply would stop on ({len(report.problems)})", ""]
    lines += [f"- {markdown_code(p.position)} {markdown_value(p.path)}: "
              f"{markdown_text(p.message)}" for p in report.problems[:max_rows]]  # fmt: skip
    if len(report.problems) > max_rows:
        lines.append(f"- … and {len(report.problems) - max_rows} more")
    return [*lines, ""]


def _blocked(report: DriftReport) -> list[str]:
    reasons = []
    if report.problems:
        reasons.append("the manifest problems below must be fixed first")
    reasons += [markdown_text(guard_message(g)) for g in report.blocking_guards]
    if not reasons:
        return []
    text = "> [!WARNING]\n> **Apply cannot heal anything yet:** " + "; ".join(reasons) + "."
    return [text, ""]


def _what_to_do(report: DriftReport) -> list[str]:
    lines = ["### What to do", ""]
    if report.count(HEAL_APPLY):
        lines.append(
            "- **Healable**: run the *apply* workflow (Actions → apply → Run workflow) or "
            "`reconciler apply` on the main branch to bring live state back to the manifests, "
            "**or** accept the live values by changing the manifests in a pull request "
            "(`reconciler export` writes live state as manifests)."
        )
    if report.count(HEAL_MANUAL) > report.unreachable:
        lines += _manual_hints(report)
    if report.unreachable:
        lines.append(
            "- **Cannot be reached by apply**: a person acts first, as the reason says (renew "
            "or unfreeze the resource, ask the customer to grant the agency, wait until an "
            "adjustment settles), or change the manifest."
        )
    if report.count("none"):
        lines.append(
            "- **Cannot be healed**: the reason names what must happen first (renew or "
            "unfreeze the resource, the customer grants the agency, an adjustment settles), "
            "or change the manifest."
        )
    if report.problems:
        lines.append(
            "- **References**: a customer, reseller or distributor quota the manifests name is "
            "gone, or the quota is too small; update the manifests."
        )
    lines.append("")
    lines.append("This issue is updated by the scheduled drift check and closed once it is clean.")
    return [*lines, ""]


def _manual_hints(report: DriftReport) -> list[str]:
    """What a person does about the manual items, per kind that has some."""
    kinds = {i.kind for i in report.items if i.heal == HEAL_MANUAL and i.status != "not-applicable"}
    hints = []
    for kind in (k for k in registry.KINDS if k.id in kinds):
        hint = kind.manual_hint or (
            "a person makes these changes in Partner Center (steps below), or change the "
            "manifest to the live value."
        )
        hints.append(f"- **Manual** ({kind.title.lower()}): {hint}" if len(kinds) > 1 else
                     f"- **Manual**: {hint}")  # fmt: skip
    return hints


def _manual_steps(report: DriftReport, max_rows: int) -> list[str]:
    manual = [i for i in report.items if i.heal == HEAL_MANUAL and i.notes][:max_rows]
    if not manual:
        return []
    lines = ["<details><summary>Partner Center steps</summary>", ""]
    for item in manual:
        lines.append(f"**{markdown_text(item.subject)}**")
        lines.append("")
        lines += [f"1. {markdown_text(note)}" for note in item.notes]
        lines.append("")
    return [*lines, "</details>", ""]


def _compose(report: DriftReport, max_rows: int, details: bool) -> str:
    title = "no drift" if report.in_sync else f"{len(report.items) + len(report.problems)} found"
    lines = [DRIFT_MARKER, f"## partner-reconciler drift: {title}", ""]
    narrowed = describe_scope(dict(report.scope))
    if narrowed:
        lines += [f"> [!NOTE]\n> {markdown_text(narrowed)}", ""]
    lines += [f"**{markdown_text(summary_line(report))}**", ""]
    if not report.in_sync:
        lines += [
            "| Healable by apply | Manual | Apply cannot reach | Broken references |",
            "|---|---|---|---|",
            f"| {report.count(HEAL_APPLY)} | {report.count(HEAL_MANUAL) - report.unreachable} | "
            f"{report.unreachable} | {len(report.problems)} |",
            "",
        ]
    lines += _blocked(report)
    for kind, items in _by_kind(report.items).items():
        lines += _table(kind, items, max_rows)
    lines += _problems(report, max_rows)
    if not report.in_sync:
        lines += _what_to_do(report)
    if details:
        lines += _manual_steps(report, max_rows)
    lines.append(
        f"<sub>checked {markdown_value(report.created_at)} · "
        f"partner {markdown_code(report.partner_id)} · "
        f"manifests {markdown_code(report.manifest_checksum)} · "
        f"drift {markdown_code(report.checksum)}</sub>"
    )
    return "\n".join(lines) + "\n"


def render_markdown(report: DriftReport, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The issue body, cut down step by step until it fits ``limit`` characters."""
    text = _compose(report, max_rows=500, details=True)
    rows = 200
    while len(text) > limit and rows > 5:
        text = _compose(report, max_rows=rows, details=False)
        rows //= 2
    return text
