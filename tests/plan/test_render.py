"""Renderers on synthetic plans: size limits, escaping, colour."""

from __future__ import annotations

from decimal import Decimal

from reconciler.errors import SourcePosition
from reconciler.kinds import registry
from reconciler.plan.model import Call, Change, MoneyImpact, Plan, make_plan
from reconciler.render.formats import annotation, render_text
from reconciler.render.markdown import render_markdown

SRC = SourcePosition("manifests/quotas.yaml", 12, 7)


def change(i: int) -> Change:
    return Change(
        kind="reseller-quota",
        key=f"reseller-quota/P/r{i:05d}",
        action="issue",
        subject=f"reseller-{i:05d} | with a pipe ({i:032x}) from P",
        before={"balance": "0.00"},
        after={"balance": "100.00"},
        calls=(Call("update_coupon_quotas", "POST", "/v2/x", {"quota_amount": "100.00"}),),
        source=SRC,
        fingerprint="sha256:" + "0" * 64,
        money=MoneyImpact(issue=Decimal("100.00")),
    )


def plan_of(n: int) -> Plan:
    return make_plan(
        order=registry.ORDER,
        changes=[change(i) for i in range(n)],
        notices=[],
        guards=[],
        in_scope={"reseller-quota": n},
        manifest_checksum="sha256:" + "1" * 64,
        endpoint="test",
        partner_id="p",
        tool_version="0",
        created_at="2026-01-01T00:00:00Z",
        expires_at="2026-01-01T01:00:00Z",
    )


def test_markdown_stays_under_the_comment_limit() -> None:
    big = render_markdown(plan_of(5000))
    assert len(big) <= 60_000
    assert "more: see the JSON plan artifact." in big
    assert "issue 500,000.00 CNY" in big, "the summary keeps the full totals"
    small = render_markdown(plan_of(3))
    assert "<details><summary>Full plan</summary>" in small


def test_markdown_escapes_table_cells() -> None:
    assert "reseller-00001 \\| with a pipe" in render_markdown(plan_of(2))


def test_text_colour_only_when_asked() -> None:
    plain = render_text(plan_of(1))
    coloured = render_text(plan_of(1), colour=True)
    assert "\x1b[" not in plain
    assert "\x1b[32m" in coloured


def test_annotation_escapes_workflow_command_syntax() -> None:
    line = annotation("error", "a,b:c.yaml", 3, 4, "t:1", "50%\nnext\x1b[2J ##[error]")
    # a newline from a value is shown, not encoded: the annotation stays one line on screen too
    assert line == (
        "::error file=a%2Cb%3Ac.yaml,line=3,col=4,title=t%3A1::50%25\\nnext\\x1b[2J #\\x23[error]"
    )
