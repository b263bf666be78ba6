"""A :class:`~reconciler.plan.model.Plan` back from its JSON (``reconciler show PLAN.json``).

The inverse of :meth:`Plan.to_dict`: every renderer then works on a saved plan exactly as on a
fresh one. The round trip is checked, not trusted: the restored plan's checksum must equal the
one in the file, so a plan edited after it was saved (or one this version cannot represent
faithfully) is refused rather than shown as if it were the reviewed plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from reconciler.errors import ConfigError, SourcePosition
from reconciler.kinds import registry
from reconciler.plan.model import Call, Change, GuardResult, MoneyImpact, Notice, Plan, make_plan


def plan_from_dict(data: Mapping[str, Any], *, where: str = "the plan") -> Plan:
    """The plan ``data`` describes; :class:`ConfigError` if it does not round-trip."""
    try:
        plan = _plan(data)
    except (KeyError, TypeError, ValueError, InvalidOperation) as err:
        raise ConfigError(f"{where}: not a plan this version can read ({err!r})") from err
    if plan.checksum != data.get("checksum"):
        raise ConfigError(
            f"{where}: its checksum does not match its content (it was modified after it was "
            "saved, or written by another version); make the plan again"
        )
    return plan


def _plan(data: Mapping[str, Any]) -> Plan:
    summary = data["summary"]
    return make_plan(
        order=registry.ORDER,
        changes=[_change(c) for c in data["changes"]],
        notices=[_notice(n) for n in data["notices"]],
        guards=[_guard(g) for g in data["guards"]],
        in_scope={str(k): int(v) for k, v in summary["in_scope"].items()},
        manifest_checksum=str(data["manifest_checksum"]),
        endpoint=str(data["endpoint"]),
        partner_id=str(data["partner_id"]),
        tool_version=str(data["tool_version"]),
        created_at=str(data["created_at"]),
        expires_at=str(data["expires_at"]),
        scope=dict(data["scope"]),
        targets=tuple(str(t) for t in data.get("targets") or ()),
    )


def _position(data: Mapping[str, Any] | None) -> SourcePosition | None:
    if data is None:
        return None
    return SourcePosition(str(data["file"]), int(data["line"]), int(data["col"]))


def _money(data: Mapping[str, Any] | None) -> MoneyImpact | None:
    if data is None:
        return None
    return MoneyImpact(
        issue=Decimal(data["issue"]),
        reclaim=Decimal(data["reclaim"]),
        unrecoverable=Decimal(data["unrecoverable"]),
        currency=str(data["currency"]),
    )


def _call(data: Mapping[str, Any]) -> Call:
    return Call(
        operation=str(data["operation"]),
        method=str(data["method"]),
        path=str(data["path"]),
        body=data.get("body"),
        identity=str(data["identity"]),
    )


def _change(data: Mapping[str, Any]) -> Change:
    source = _position(data["source"])
    if source is None:
        raise ValueError(f"change {data.get('key')!r} has no source")
    return Change(
        kind=str(data["kind"]),
        key=str(data["key"]),
        action=str(data["action"]),
        subject=str(data["subject"]),
        before=dict(data["before"]),
        after=dict(data["after"]),
        calls=tuple(_call(c) for c in data["calls"]),
        source=source,
        fingerprint=str(data["fingerprint"]),
        money=_money(data.get("money")),
        manual=bool(data["manual"]),
        notes=tuple(str(n) for n in data["notes"]),
    )


def _notice(data: Mapping[str, Any]) -> Notice:
    return Notice(
        kind=str(data["kind"]),
        key=str(data["key"]),
        level=str(data["level"]),
        subject=str(data["subject"]),
        message=str(data["message"]),
        source=_position(data.get("source")),
    )


def _guard(data: Mapping[str, Any]) -> GuardResult:
    return GuardResult(
        name=str(data["name"]),
        observed=str(data["observed"]),
        limit=str(data["limit"]),
        ok=bool(data["ok"]),
        overridden=bool(data["overridden"]),
        detail=str(data["detail"]),
    )
