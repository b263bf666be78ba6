"""The Markdown plan for pull-request comments.

Order (what a reviewer needs first): a hidden marker so CI edits one sticky comment, the summary
line and guard status, a banner when quota is reclaimed, one table per kind, not-applicable
items, the full text plan collapsed, and a footer with the checksums and the apply command. The
whole comment stays under :data:`~reconciler.render.formats.MARKDOWN_LIMIT` characters
(GitHub's limit is 65,536): tables are cut short with a pointer to the JSON plan when needed.

Values from live data or manifests are written with
:func:`~reconciler.render.escape.markdown_value` (plain words as they are, anything else as a code
span), subjects and messages with :func:`~reconciler.render.escape.markdown_text` (prose with its
punctuation escaped and risky words as code), and the full text plan in a fence longer than any
backtick run in it: no HTML, mention, issue reference, link or image can come from a name.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.kinds import registry
from reconciler.plan.model import Change, Plan
from reconciler.plan.scope import describe_scope
from reconciler.render.escape import (
    markdown_cell,
    markdown_code,
    markdown_fence,
    markdown_text,
    markdown_value,
)
from reconciler.render.formats import (
    COMMENT_MARKER,
    MARKDOWN_LIMIT,
    _by_kind,
    guard_message,
    mark,
    render_text,
    summary_line,
    title,
)


def _cell(text: object) -> str:
    """A table cell of text that is already Markdown (its values escaped)."""
    return markdown_cell(str(text))


def _row(change: Change) -> tuple[str, ...]:
    sign = f"`{mark(change)}` {markdown_value(change.action)}"
    src = markdown_code(change.source)
    subject = markdown_text(change.subject)
    cells = registry.kind(change.kind).table_cells(change, markdown_value)
    return (sign, subject, *cells, src)


def _table(kind: str, changes: Sequence[Change], max_rows: int) -> list[str]:
    header = ("", *registry.kind(kind).table_columns, "Source")
    lines = [
        f"### {title(kind)} ({len(changes)})",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    for change in changes[:max_rows]:
        lines.append("| " + " | ".join(_cell(c) for c in _row(change)) + " |")
    if len(changes) > max_rows:
        lines.append(f"\n… and {len(changes) - max_rows} more: see the JSON plan artifact.")
    note = registry.kind(kind).table_note
    if note:
        lines += ["", note]
    return [*lines, ""]


def _banner(plan: Plan) -> list[str]:
    by_kind = _by_kind(plan.changes)
    banners = [registry.kind(k).reclaim_banner(changes) for k, changes in by_kind.items()]
    return [line for text in banners if text for line in (text, "")]


def _guards(plan: Plan) -> list[str]:
    if not plan.guards:
        return []
    if not any(not g.ok for g in plan.guards):
        return ["**Guards:** all passed.", ""]
    lines = ["**Guards:**", ""]
    lines += [
        f"- {'❌' if g.blocks else '⚠️'} {guard_message(g, markdown_value)}"
        for g in plan.guards
        if not g.ok
    ]
    return [*lines, ""]


def _notices(plan: Plan, max_rows: int) -> list[str]:
    if not plan.notices:
        return []
    lines = [
        f"### Cannot be reached ({len(plan.notices)})",
        "",
        "| Kind | Object | Reason |",
        "|---|---|---|",
    ]
    for n in plan.notices[:max_rows]:
        subject, message = markdown_text(n.subject), markdown_text(n.message)
        lines.append(f"| {title(n.kind)} | {_cell(subject)} | {_cell(message)} |")
    if len(plan.notices) > max_rows:
        lines.append(f"\n… and {len(plan.notices) - max_rows} more: see the JSON plan artifact.")
    return [*lines, ""]


def _compose(plan: Plan, max_rows: int, details: bool) -> str:
    code = markdown_code
    status = {
        "blocked": "🛑 blocked by a guard",
        "changes": "changes",
        "unreachable": "⚠️ nothing to apply, and not everything declared holds",
        "no-changes": "no changes",
    }[plan.status]
    lines = [COMMENT_MARKER, f"## partner-reconciler plan: {status}", ""]
    narrowed = describe_scope(dict(plan.scope))
    if narrowed:
        lines += [f"> [!NOTE]\n> {markdown_text(narrowed)}", ""]
    lines += [f"**{markdown_text(summary_line(plan))}**", ""]
    lines += _guards(plan) + _banner(plan)
    for kind, changes in _by_kind(plan.changes).items():
        lines += _table(kind, changes, max_rows)
    lines += _notices(plan, max_rows)
    if details and plan.changes:
        lines += [
            "<details><summary>Full plan</summary>",
            "",
            *markdown_fence(render_text(plan).rstrip(), "diff"),
            "",
            "</details>",
            "",
        ]
    lines += [
        f"<sub>plan {code(plan.checksum)} · manifests {code(plan.manifest_checksum)} · "
        f"partner {code(plan.partner_id)} · valid until {markdown_value(plan.expires_at)} · "
        "apply with `reconciler apply --plan plan.json`</sub>",
    ]
    return "\n".join(lines) + "\n"


def render_failure(message: str, *, limit: int = MARKDOWN_LIMIT // 2) -> str:
    """The comment when no plan could be made: the error (cut to ``limit`` characters) in a
    fence longer than any backtick run in it."""
    shown = message if len(message) <= limit else message[:limit] + "\n…"
    lines = [COMMENT_MARKER, "## partner-reconciler plan: failed", "", *markdown_fence(shown), ""]
    return "\n".join(lines)


def render_markdown(plan: Plan, *, limit: int = MARKDOWN_LIMIT) -> str:
    """The comment, cut down step by step until it fits ``limit`` characters."""
    text = _compose(plan, max_rows=500, details=True)
    if len(text) <= limit:
        return text
    text = _compose(plan, max_rows=500, details=False)
    rows = 200
    while len(text) > limit and rows > 5:
        text = _compose(plan, max_rows=rows, details=False)
        rows //= 2
    return text
