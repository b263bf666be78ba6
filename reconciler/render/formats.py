"""Plans rendered for people and machines: text, JSON, Markdown and GitHub annotations.

Only the render package and :mod:`reconciler.cli` produce output. Renderers are pure functions from
a :class:`~reconciler.plan.model.Plan` to a string, so they are deterministic and easy to test;
colour is applied only when the caller asks for it (a TTY without ``NO_COLOR``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

import click

from reconciler.errors import ManifestProblem
from reconciler.plan.model import KIND_ORDER, ZERO, Change, Notice, Plan, fmt_money
from reconciler.plan.scope import describe_scope, outside_scope_text

TITLES = {
    "reseller-quota": "Reseller quota",
    "auto-renew": "Auto-renew",
    "account-manager": "Account managers",
}
MARKS = {
    "issue": "+",
    "enable": "+",
    "reclaim": "-",
    "disable": "-",
    "reclaim-reissue": "~",
    "update": "~",
    "manual": "!",
}
COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "cyan"}
MARKDOWN_LIMIT = 60_000
COMMENT_MARKER = "<!-- partner-reconciler:plan -->"


def plural(count: int, noun: str, plural_noun: str | None = None) -> str:
    """``1 change``, ``2 changes``; ``plural_noun`` for irregular plurals."""
    word = noun if count == 1 else (plural_noun or noun + "s")
    return f"{count:,} {word}"


def unreachable_text(count: int) -> str:
    """``1 declared state cannot be reached``, ``2 declared states cannot be reached``."""
    return f"{plural(count, 'declared state')} cannot be reached"


def amount(value: Decimal, currency: str = "CNY") -> str:
    """``Decimal('12000')`` -> ``12,000.00 CNY``."""
    return f"{value:,.2f} {currency}"


def _by_kind(changes: Iterable[Change]) -> dict[str, list[Change]]:
    grouped: dict[str, list[Change]] = {k: [] for k in KIND_ORDER}
    for change in changes:
        grouped[change.kind].append(change)
    return {k: v for k, v in grouped.items() if v}


def _values(change: Change) -> str:
    if change.kind == "reseller-quota":
        before, after = change.before.get("balance"), change.after.get("balance")
        return f"balance {before} -> {after}"
    if change.kind == "auto-renew":
        before = "on" if change.before.get("auto_renew") else "off"
        extra = [
            f"{k}={change.after[k]}" for k in ("period_type", "renew_times") if k in change.after
        ]
        after = ("on" if change.after.get("auto_renew") else "off") + (
            f" ({', '.join(extra)})" if extra else ""
        )
        return f"auto-renew {before} -> {after}"
    before = change.before.get("account_manager") or "(none)"
    after = change.after.get("account_manager") or "(none)"
    return f"account manager {before} -> {after}"


def _money_line(change: Change) -> str | None:
    m = change.money
    if m is None:
        return None
    parts = []
    if m.reclaim > ZERO:
        parts.append(f"reclaim {amount(m.reclaim, m.currency)}")
    if m.issue > ZERO:
        parts.append(f"issue {amount(m.issue, m.currency)}")
    if m.unrecoverable > ZERO:
        parts.append(f"{amount(m.unrecoverable, m.currency)} already spent cannot come back")
    return "; ".join(parts)


def summary_line(plan: Plan) -> str:
    """The closing line, Terraform style, with money totals. "No changes" only when every
    declared state holds: a state that cannot be reached is never "no changes"."""
    unreachable = len(plan.unreachable)
    if plan.status == "unreachable":
        unchecked = outside_scope_text(dict(plan.scope))
        said = [unreachable_text(unreachable)] if unreachable else []
        return f"Nothing to apply; {'; '.join([*said, *([unchecked] if unchecked else [])])}."
    if not plan.changes:
        return "No changes. Live state matches the manifests."
    counts = plan.counts()
    manual = counts.pop("manual", 0)
    parts = [f"{n} {action}" for action, n in sorted(counts.items())]
    if manual:
        parts.append(f"{manual} manual")
    totals = plan.money_totals()
    money_parts = [f"issue {amount(totals.issue)}", f"reclaim {amount(totals.reclaim)}"]
    if totals.unrecoverable > ZERO:
        money_parts.append(f"{amount(totals.unrecoverable)} already spent")
    unchanged = max(sum(plan.in_scope.values()) - len(plan.changes), 0)
    tail = f"; {unreachable_text(unreachable)}" if unreachable else ""
    return (
        f"Plan: {plural(len(plan.changes), 'change')} ({', '.join(parts)}); "
        f"{', '.join(money_parts)}; {plural(unchanged, 'managed object')} unchanged{tail}."
    )


def styler(colour: bool) -> Callable[[str, str], str]:
    """``style(text, mark)``: the mark's colour on a terminal, plain text otherwise."""
    if colour:
        return lambda text, mark: click.style(text, fg=COLOURS.get(mark))
    return lambda text, _mark: text


def render_text(plan: Plan, *, colour: bool = False) -> str:
    style = styler(colour)
    lines = [
        f"Plan for partner {plan.partner_id} at {plan.endpoint}",
        f"Manifests {plan.manifest_checksum}; plan {plan.checksum}; valid until {plan.expires_at}",
    ]
    narrowed = describe_scope(dict(plan.scope))
    if narrowed:
        lines.append(style(narrowed, "~"))
    for kind, changes in _by_kind(plan.changes).items():
        lines += ["", f"{TITLES[kind]} ({len(changes)})"]
        for change in changes:
            mark = MARKS.get(change.action, "~")
            head = f"  {mark} {change.action:<15} {change.subject}: {_values(change)}"
            lines.append(style(head, mark))
            money_line = _money_line(change)
            if money_line:
                lines.append(f"      {money_line}")
            lines += [f"      {note}" for note in change.notes]
            lines.append(f"      from {change.source}")
    if plan.changes:
        lines += _text_notices(plan.notices, heading=True)
    lines += _text_guards(plan)
    alarm = plan.blocked or plan.status == "unreachable"
    lines += ["", style(summary_line(plan), "!" if alarm else "")]
    if not plan.changes:  # "Nothing to apply; N declared states cannot be reached", then which
        lines += _text_notices(plan.notices, heading=False)
    return "\n".join(lines) + "\n"


def _text_notices(notices: Sequence[Notice], *, heading: bool) -> list[str]:
    if not notices:
        return []
    lines = ["", f"Cannot be reached ({len(notices)})"] if heading else []
    for n in notices:
        where = f" ({n.source})" if n.source else ""
        lines.append(f"  ? {TITLES[n.kind].lower()} {n.subject}: {n.message}{where}")
    return lines


def _text_guards(plan: Plan) -> list[str]:
    failing = [g for g in plan.guards if not g.ok]
    if not failing:
        return []
    return ["", "Guards", *(f"  {g.message()}" for g in failing)]


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n"


def render_problems_text(problems: Sequence[ManifestProblem]) -> str:
    return "\n".join(str(p) for p in problems)


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def annotation(level: str, file: str, line: int, col: int, title: str, message: str) -> str:
    """One GitHub Actions workflow command (``::error file=...,line=...::message``)."""
    props = f"file={_gh_escape(file, prop=True)},line={line},col={col}"
    return f"::{level} {props},title={_gh_escape(title, prop=True)}::{_gh_escape(message)}"


def render_github(plan: Plan) -> str:
    """A notice when the run was narrowed, annotations on the manifest lines that asked for
    each change or state that cannot be reached, then the summary."""
    narrowed = describe_scope(dict(plan.scope))
    out = [f"::notice title=narrowed run::{_gh_escape(narrowed)}"] if narrowed else []
    for c in plan.changes:
        level = "warning" if c.manual or (c.money and c.money.reclaim > ZERO) else "notice"
        msg = f"{c.action} {c.subject}: {_values(c)}"
        money_line = _money_line(c)
        if money_line:
            msg += f" ({money_line})"
        out.append(
            annotation(level, c.source.file, c.source.line, c.source.col, TITLES[c.kind], msg)
        )
    for n in plan.notices:
        if n.source:
            s = n.source
            out.append(
                annotation(
                    "warning",
                    s.file,
                    s.line,
                    s.col,
                    "cannot be reached",
                    f"{n.subject}: {n.message}",
                )
            )
    for g in plan.guards:
        if g.blocks:
            out.append(f"::error title=guard {g.name}::{_gh_escape(g.message())}")
    out.append(summary_line(plan))
    return "\n".join(out) + "\n"


def render_problems_github(problems: Sequence[ManifestProblem]) -> str:
    return (
        "\n".join(
            annotation(
                "error",
                p.position.file,
                p.position.line,
                p.position.col,
                "manifest",
                f"{p.path}: {p.message}" if p.path else p.message,
            )
            for p in problems
        )
        + "\n"
    )


def fmt(value: object) -> str:
    if isinstance(value, Decimal):
        return fmt_money(value)
    return str(value)
