"""Fault injection: named, counted faults that hit matching API calls.

A fault matches calls to one ``operation`` (or ``"*"`` for every API operation). It lets ``skip``
matching calls through first, then affects the next ``count`` ones. Kinds:

==================== ===========================================================================
``throttle``          answer 429 ``APIG.0308`` without executing
``http_500``          answer 500 ``CBC.0999`` (or ``error_code``) without executing
``drop_before_commit`` lose the request: nothing executed, the client sees the connection drop
``commit_then_drop``  execute and commit, then lose the answer (the client cannot know the outcome)
``latency``           add ``seconds`` to the answer's latency (timeouts, CBC.50000045 windows)
``item_error``        make the listed ``ids`` fail inside HTTP 200 without executing them: batch
                      writes list them in ``error_details``, single-item writes (coupon reclaim,
                      cash transfers) answer ``{"error_code", "error_msg"}`` (REFERENCE §3)
``hold``              hold the request ``seconds`` after it arrived (or until the fault is
                      released), *then* execute it: a gateway queue or a retransmit. The caller
                      may have given up (timed out, been killed) meanwhile; it executes anyway
``field``             in a successful answer, omit every ``field`` (no ``value`` given) or set it
                      to ``value`` (any JSON: ``"many"``, ``null``...), at any depth; with
                      ``ids``, only in the objects whose id is listed
``page_limit``        a list answer holds at most ``value`` items whatever ``limit`` asked, its
                      total unchanged: a gateway that clamps the page size instead of refusing
                      a larger one (REFERENCE §7.3 leaves the maximum unknown)
==================== ===========================================================================

The mechanism is generic: a fault names an operation (any route in ``routes.py``) and its kind's
effect is applied by the core (terminal kinds, drops, latency) or by the handler, which asks
``Call.item_error(id)`` for the ids it works on.

Faults are evaluated in the order they were added; the first terminal one (throttle, http_500,
drop_before_commit) stops the evaluation. Faults live in the state, so they persist with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator.errors import ControlError, InternalError, Throttled
from reconciler.emulator.models import State
from reconciler.emulator.routes import OPERATIONS

KINDS = (
    "commit_then_drop", "drop_before_commit", "http_500", "throttle", "latency", "item_error",
    "hold", "field", "page_limit",
)  # fmt: skip
TERMINAL = frozenset({"drop_before_commit", "http_500", "throttle"})
_FIELDS = frozenset(
    {"operation", "kind", "count", "skip", "seconds", "ids", "error_code", "field", "value"}
)
#: The keys that identify an object of an answer, for a ``field`` fault with ``ids``.
ID_KEYS = ("id", "resource_id", "quota_id", "customer_id", "indirect_partner_id")


@dataclass
class Applied:
    """The combined effect of the faults that hit one call."""

    terminal: str | None = None
    error_code: str = "CBC.0999"
    drop_after_commit: bool = False
    extra_latency: float = 0.0
    item_errors: dict[str, str] = field(default_factory=dict)
    fault_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    hold: float = 0.0
    hold_fault: str | None = None
    fields: list[dict[str, Any]] = field(default_factory=list)
    page_limit: int | None = None


def add_fault(state: State, spec: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``spec`` and append it as a new fault; returns the stored fault."""
    operation, kind, count, skip, seconds, ids = _validate(spec)
    fault = {
        "id": f"fault-{state.next_counter('fault')}",
        "operation": operation,
        "kind": kind,
        "count": count,
        "remaining": count,
        "skip": skip,
        "seconds": seconds,
        "ids": ids,
        "error_code": str(spec.get("error_code") or "CBC.0999"),
        "applied": 0,
    }
    if kind == "field":
        fault["field"] = spec["field"]
        fault["omit"] = "value" not in spec
        fault["value"] = spec.get("value")
    if kind == "hold":
        fault["released"] = False
    if kind == "page_limit":
        fault["value"] = spec["value"]
    state.faults.append(fault)
    return fault


def _validate(spec: Mapping[str, Any]) -> tuple[str, str, int, int, float, list[str]]:
    unknown = sorted(set(spec) - _FIELDS)
    if unknown:
        raise ControlError(400, f"unknown fault field(s): {', '.join(unknown)}")
    operation = spec.get("operation", "*")
    if operation != "*" and operation not in OPERATIONS:
        raise ControlError(
            400, f"unknown operation {operation!r}; one of: * {' '.join(OPERATIONS)}"
        )
    kind = spec.get("kind")
    if kind not in KINDS:
        raise ControlError(400, f"kind must be one of {', '.join(KINDS)}")
    count, skip = spec.get("count", 1), spec.get("skip", 0)
    if not _is_int(count) or count < 1 or not _is_int(skip) or skip < 0:
        raise ControlError(400, "count must be an integer >= 1 and skip an integer >= 0")
    seconds = spec.get("seconds", 0)
    try:
        if isinstance(seconds, bool):
            raise TypeError("a boolean is not a number")
        seconds_value = float(seconds)
        if not math.isfinite(seconds_value):
            raise ValueError("not finite")
    except (TypeError, ValueError) as exc:
        raise ControlError(400, "seconds must be a finite number") from exc
    if kind in ("latency", "hold") and seconds_value <= 0:
        raise ControlError(400, f"a {kind} fault needs seconds > 0")
    _check_field_and_value(kind, spec)
    ids = spec.get("ids", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ControlError(400, "ids must be a list of strings")
    if kind == "item_error" and not ids:
        raise ControlError(
            400, "an item_error fault needs ids (reseller, quota, customer or coupon ids)"
        )
    return operation, kind, count, skip, seconds_value, list(ids)


def _check_field_and_value(kind: str, spec: Mapping[str, Any]) -> None:
    if kind == "field" and (not isinstance(spec.get("field"), str) or not spec["field"]):
        raise ControlError(400, 'a field fault needs "field": the name of a response field')
    if kind == "page_limit" and (not _is_int(spec.get("value")) or spec["value"] < 0):
        raise ControlError(400, 'a page_limit fault needs "value": the most items a page holds')
    if kind != "field" and "field" in spec:
        raise ControlError(400, '"field" belongs to a field fault only')
    if kind not in ("field", "page_limit") and "value" in spec:
        raise ControlError(400, '"value" belongs to a field or page_limit fault only')


def evaluate(state: State, operation: str) -> Applied:
    """Consume the faults that hit this call of ``operation`` and combine their effects."""
    applied = Applied()
    for fault in state.faults:
        if fault["operation"] not in ("*", operation) or fault["remaining"] <= 0:
            continue
        if fault["skip"] > 0:
            fault["skip"] -= 1
            continue
        fault["remaining"] -= 1
        fault["applied"] += 1
        applied.fault_ids.append(fault["id"])
        applied.kinds.append(fault["kind"])
        _combine(applied, fault)
        if applied.terminal:
            break
    return applied


def _combine(applied: Applied, fault: dict[str, Any]) -> None:
    kind = fault["kind"]
    if kind in TERMINAL:
        applied.terminal = kind
        applied.error_code = fault["error_code"]
    elif kind == "commit_then_drop":
        applied.drop_after_commit = True
    elif kind == "latency":
        applied.extra_latency += float(fault["seconds"])
    elif kind == "item_error":
        for item_id in fault["ids"]:
            applied.item_errors[item_id] = fault["error_code"]
    elif kind == "hold" and not applied.hold:
        applied.hold, applied.hold_fault = float(fault["seconds"]), fault["id"]
    elif kind == "field":
        applied.fields.append({k: fault[k] for k in ("field", "omit", "value", "ids")})
    elif kind == "page_limit":
        applied.page_limit = int(fault["value"])


def limit_page(payload: Any, most: int) -> Any:
    """A list answer with at most ``most`` items in each of its top-level lists (a list answer
    has one: its items); everything else, the total included, as it was."""
    if not isinstance(payload, dict):
        return payload
    return {k: v[:most] if isinstance(v, list) else v for k, v in payload.items()}


def alter_fields(payload: Any, changes: list[dict[str, Any]]) -> Any:
    """The answer with each ``field`` fault's field omitted or replaced, at any depth."""
    for change in changes:
        payload = _alter(payload, change, matched=not change["ids"])
    return payload


def _alter(node: Any, change: dict[str, Any], *, matched: bool) -> Any:
    if isinstance(node, list):
        return [_alter(item, change, matched=matched) for item in node]
    if not isinstance(node, dict):
        return node
    here = matched or any(str(node.get(k)) in change["ids"] for k in ID_KEYS if k in node)
    out = {}
    for key, value in node.items():
        if key == change["field"] and here:
            if not change["omit"]:
                out[key] = change["value"]
            continue
        out[key] = _alter(value, change, matched=here)
    return out


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def raise_terminal(applied: Applied, rate: float) -> None:
    """Answer a terminal throttle or http_500 fault by raising its error."""
    if applied.terminal == "throttle":
        raise Throttled(rate if rate > 0 else 10)
    if applied.terminal == "http_500":
        raise InternalError("Injected fault: internal error.", code=applied.error_code)
