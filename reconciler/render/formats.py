"""Plans rendered for people and machines: text, JSON, Markdown and GitHub annotations.

Only the render package and :mod:`reconciler.cli` produce output. Renderers are pure functions from
a :class:`~reconciler.plan.model.Plan` to a string, so they are deterministic and easy to test;
colour is applied only when the caller asks for it (a TTY without ``NO_COLOR``), after escaping.
Every value that comes from live data or a manifest passes an escaper of
:mod:`reconciler.render.escape` where it is interpolated (:func:`terminal_field` in text and
annotations); the CLI's output boundary escapes the whole output again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from decimal import Decimal

from reconciler.errors import ManifestProblem
from reconciler.kinds import registry
from reconciler.plan.model import ZERO, Change, GuardResult, Notice, Plan, fmt_money
from reconciler.plan.scope import describe_scope, outside_scope_text
from reconciler.render import escape
from reconciler.render.escape import terminal_field
from reconciler.render.words import Escaper, amount, plural

COLOURS = {"+": "green", "-": "red", "~": "yellow", "!": "cyan"}
MARKDOWN_LIMIT = 60_000
COMMENT_MARKER = "<!-- partner-reconciler:plan -->"


def unreachable_text(count: int) -> str:
    """``1 declared state cannot be reached``, ``2 declared states cannot be reached``."""
    return f"{plural(count, 'declared state')} cannot be reached"


def guard_message(guard: GuardResult, esc: Escaper = terminal_field) -> str:
    """The guard's message with its detail (which may name a reseller) escaped by ``esc``."""
    return replace(guard, detail=esc(guard.detail) if guard.detail else "").message()


def title(kind: str) -> str:
    """The heading of a kind's changes."""
    return registry.kind(kind).title


def mark(change: Change) -> str:
    """``+`` adds, ``-`` takes away, ``~`` both, ``!`` manual (the change's kind says)."""
    return registry.kind(change.kind).marks.get(change.action, "~")


def _by_kind(changes: Iterable[Change]) -> dict[str, list[Change]]:
    grouped: dict[str, list[Change]] = {k: [] for k in registry.IDS}
    for change in changes:
        grouped[change.kind].append(change)
    return {k: v for k, v in grouped.items() if v}


def _values(change: Change, esc: Escaper = terminal_field) -> str:
    """Before and after in words; every value through ``esc``."""
    return registry.kind(change.kind).change_text(change, esc)


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
    """``style(text, mark)`` for every line of a text rendering.

    On a terminal (``colour``): control characters in ``text`` written as ``\\xNN`` and the line
    in the mark's colour, through rich (:mod:`reconciler.render.terminal`). Otherwise the text
    unchanged, so plain output stays byte for byte what it was.
    """
    if colour:
        from reconciler.render.terminal import paint

        return lambda text, mark: paint(text, COLOURS.get(mark))
    return lambda text, _mark: text


def render_text(plan: Plan, *, colour: bool = False) -> str:
    return "".join(text_lines(plan, colour=colour))


def text_lines(plan: Plan, *, colour: bool = False) -> Iterator[str]:
    """:func:`render_text` a line at a time, each ending in a newline: the CLI prints a plan of
    100,000 customers without holding its text (a list of its lines, the text, its encoding)."""
    style, t = styler(colour), terminal_field
    yield f"Plan for partner {t(plan.partner_id)} at {t(plan.endpoint)}\n"
    checksums = f"Manifests {plan.manifest_checksum}; plan {plan.checksum}"
    yield f"{checksums}; valid until {plan.expires_at}\n"
    narrowed = describe_scope(dict(plan.scope))
    if narrowed:
        yield style(t(narrowed), "~") + "\n"
    for kind, changes in _by_kind(plan.changes).items():
        yield f"\n{title(kind)} ({len(changes)})\n"
        for change in changes:
            sign = mark(change)
            head = f"  {sign} {change.action:<15} {t(change.subject)}: {_values(change)}"
            yield style(head, sign) + "\n"
            money_line = _money_line(change)
            if money_line:
                yield f"      {money_line}\n"
            for note in change.notes:
                yield f"      {t(note)}\n"
            yield f"      from {t(change.source)}\n"
    tail: list[str] = []
    if plan.changes:
        tail += _text_notices(plan.notices, heading=True)
    tail += _text_guards(plan)
    alarm = plan.blocked or plan.status == "unreachable"
    tail += ["", style(t(summary_line(plan)), "!" if alarm else "")]
    if not plan.changes:  # "Nothing to apply; N declared states cannot be reached", then which
        tail += _text_notices(plan.notices, heading=False)
    for line in tail:
        yield line + "\n"


def _text_notices(notices: Sequence[Notice], *, heading: bool) -> list[str]:
    if not notices:
        return []
    lines = ["", f"Cannot be reached ({len(notices)})"] if heading else []
    t = terminal_field
    for n in notices:
        where = f" ({t(n.source)})" if n.source else ""
        lines.append(f"  ? {title(n.kind).lower()} {t(n.subject)}: {t(n.message)}{where}")
    return lines


def _text_guards(plan: Plan) -> list[str]:
    failing = [g for g in plan.guards if not g.ok]
    if not failing:
        return []
    return ["", "Guards", *(f"  {guard_message(g)}" for g in failing)]


def render_json(plan: Plan) -> str:
    return json.dumps(plan.to_dict(), indent=2, sort_keys=True) + "\n"


def render_problems_text(problems: Sequence[ManifestProblem]) -> str:
    return "\n".join(terminal_field(p) for p in problems)


def annotation(level: str, file: str, line: int, col: int, title: str, message: str) -> str:
    """One GitHub Actions workflow command (``::error file=...,line=...::message``), escaped
    by :func:`reconciler.render.escape.annotation`."""
    return escape.annotation(level, message, file=file, line=line, col=col, title=title)


def render_github(plan: Plan) -> str:
    """A notice when the run was narrowed, annotations on the manifest lines that asked for
    each change or state that cannot be reached, then the summary."""
    narrowed = describe_scope(dict(plan.scope))
    out = [escape.annotation("notice", narrowed, title="narrowed run")] if narrowed else []
    for c in plan.changes:
        level = "warning" if c.manual or (c.money and c.money.reclaim > ZERO) else "notice"
        msg = f"{c.action} {terminal_field(c.subject)}: {_values(c)}"
        money_line = _money_line(c)
        if money_line:
            msg += f" ({money_line})"
        out.append(
            annotation(level, c.source.file, c.source.line, c.source.col, title(c.kind), msg)
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
                    f"{terminal_field(n.subject)}: {terminal_field(n.message)}",
                )
            )
    for g in plan.guards:
        if g.blocks:
            out.append(escape.annotation("error", guard_message(g), title=f"guard {g.name}"))
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
