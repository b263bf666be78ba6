"""Kind ``AutoRenew``: whether customers' yearly/monthly main resources renew automatically.

Live state is ``expire_policy`` (3 = auto-renew) from ``list_pay_per_use_customer_resources``,
readable with the partner's credentials. Writes are customer-only calls (REFERENCE §2.1, §2.6):
they need temporary credentials through the agency the customer granted, so a customer who has
not granted it is reported as *not applicable* instead of planned. Expired (5) and frozen (4)
resources cannot get auto-renew (``CBC.99003602``); closed ones (3) are not shown at all.
Attached resources follow their main resource, so only main resources are managed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reconciler.errors import did_you_mean
from reconciler.kinds.auto_renew.reads import RESOURCES, STATUS_CLOSED, resources_of
from reconciler.kinds.base import KindResult, LiveState, customer_label
from reconciler.plan.model import Call, Change, Notice, fingerprint

if TYPE_CHECKING:
    from reconciler.bss.models import Customer, Resource
    from reconciler.errors import SourcePosition
    from reconciler.kinds.auto_renew.desired import AutoRenewRule
    from reconciler.manifests.desired import DesiredState

KIND = "auto-renew"
NOT_RENEWABLE = {4: "frozen", 5: "expired"}
AUTORENEW_PATH = "/v2/orders/subscriptions/resources/autorenew/{resource_id}"
#: Its journal operations: the customer calls that switch auto-renew on and off.
RENEW_ON = "auto_renewal_resources"
RENEW_OFF = "cancel_auto_renewal_resources"


@dataclass(frozen=True)
class Candidate:
    """A managed resource whose auto-renew differs from the manifest."""

    rule: AutoRenewRule
    customer: Customer
    resource: Resource
    enabled: bool
    source: SourcePosition


def candidates(desired: DesiredState, live: LiveState) -> tuple[list[Candidate], KindResult]:
    """Pure diff: the resources to change, plus problems and the in-scope count (the managed
    resources the reader counted as in sync instead of keeping them included)."""
    result = KindResult(in_scope=live.in_sync(RESOURCES))
    found: list[Candidate] = []
    twice = live.named_otherwise()
    seen: dict[str, AutoRenewRule] = {}
    for rule in rules_of(desired):
        customer = live.customer(rule.customer)
        if customer is None:
            continue
        cid = customer.customer_id
        if cid in twice and not result.first_entry(
            seen, cid, rule, functools.partial(_label, customer)
        ):
            continue
        resources = resources_of(live, customer.customer_id)
        _check_overrides(rule, customer, resources, result)
        found += _rule_candidates(rule, customer, resources, result)
    return found, result


def _label(customer: Customer) -> str:
    return f"auto-renew of customer {customer_label(customer)}"


def _rule_candidates(
    rule: AutoRenewRule, customer: Customer, resources: list[Resource], result: KindResult
) -> list[Candidate]:
    if not rule.resources and not rule.service_types:  # the common case: the default alone
        return _default_candidates(rule, customer, resources, result)
    found: list[Candidate] = []
    for res in resources:  # no sort needed: make_plan puts changes in canonical order
        want = rule.desired_for(res.resource_id, res.service_type_code or "")
        if want is None or res.status == STATUS_CLOSED:
            continue
        result.in_scope += 1
        enabled, source = want
        if res.auto_renew != enabled:
            found.append(Candidate(rule, customer, res, enabled, source))
    return found


def _default_candidates(
    rule: AutoRenewRule, customer: Customer, resources: list[Resource], result: KindResult
) -> list[Candidate]:
    """:func:`_rule_candidates` of a rule without overrides (``desired_for`` is its default)."""
    found: list[Candidate] = []
    if rule.default is None:
        return found
    enabled, source = rule.default, rule.default_source or rule.source
    for res in resources:
        if res.status != STATUS_CLOSED:
            result.in_scope += 1
            if res.auto_renew != enabled:
                found.append(Candidate(rule, customer, res, enabled, source))
    return found


def customers_needing_agency(found: list[Candidate]) -> set[str]:
    """Customers the planner must check the agency for (only those with something to do)."""
    return {c.customer.customer_id for c in found if c.resource.status not in NOT_RENEWABLE}


def needs_agency(rules: list[AutoRenewRule], customer: Customer, resources: list[Resource]) -> bool:
    """Whether one customer's rules change a renewable resource, i.e. whether the planner must
    check its agency (what :func:`customers_needing_agency` finds, known as soon as that
    customer's resources are read)."""
    scratch = KindResult()
    return any(
        cand.resource.status not in NOT_RENEWABLE
        for rule in rules
        for cand in _rule_candidates(rule, customer, resources, scratch)
    )


def diff(desired: DesiredState, live: LiveState) -> KindResult:
    """Changes and not-applicable notices; ``live.agency`` must hold the checked customers."""
    found, result = candidates(desired, live)
    agency_name = desired.settings.agency_name
    for cand in found:
        reason = _not_applicable(cand, live, agency_name)
        if reason:
            result.notices.append(
                Notice(
                    kind=KIND,
                    key=_key(cand.resource),
                    level="not-applicable",
                    subject=_subject(cand.customer, cand.resource),
                    message=reason,
                    source=cand.source,
                )
            )
        else:
            result.changes.append(_change(cand, live.agency_verified))
    return result


def _not_applicable(cand: Candidate, live: LiveState, agency_name: str | None) -> str | None:
    res = cand.resource
    if res.status in NOT_RENEWABLE:
        state = NOT_RENEWABLE[res.status]
        want = "on" if cand.enabled else "off"
        return (
            f"the resource is {state}: auto-renew cannot be switched {want} (CBC.99003602); "
            "renew or unfreeze it first"
        )
    return live.agency.get(cand.customer.customer_id)


def _check_overrides(
    rule: AutoRenewRule, customer: Customer, resources: list[Resource], result: KindResult
) -> None:
    """Every override of ``rule`` must match a live resource of the customer: a typo in a
    service type or a resource ID would otherwise decide nothing and plan "No changes". (The
    customer's ``autoRenew`` default may match nothing yet: it also covers resources the
    customer buys later.)"""
    if not rule.resources and not rule.service_types:
        return
    who = f"customer {customer_label(customer)}"
    open_ = [r for r in resources if r.status != STATUS_CLOSED]
    by_id = {r.resource_id: r for r in resources}
    for rid, override in sorted(rule.resources.items()):
        res = by_id.get(rid)
        if res is not None and res.status != STATUS_CLOSED:
            continue
        if res is not None:
            message = f"resource {rid!r} of {who} is closed: auto-renew no longer applies to it"
        else:
            message = (
                f"{who} has no yearly/monthly main resource {rid!r}"
                f"{_resource_hint(rid, open_)} (attached resources follow their main resource; "
                "list them with `reconciler export --kind auto-renew`)"
            )
        result.problem(override.source, f"resources.{rid}", message)
    types = {r.service_type_code for r in open_ if r.service_type_code}
    for code, override in sorted(rule.service_types.items()):
        if code not in types:
            result.problem(
                override.source,
                f"serviceTypes.{code}",
                f"{who} has no yearly/monthly main resource of service type {code!r}"
                f"{did_you_mean(code, types)}; its service types: "
                f"{', '.join(sorted(types)) or 'none'}",
            )


def _resource_hint(rid: str, resources: list[Resource]) -> str:
    """The resource a mistyped ID (or a resource *name* written as an ID) most likely means."""
    for res in resources:
        if res.resource_name and res.resource_name == rid:
            return f" (did you mean {res.resource_id!r}, the ID of {res.resource_name!r}?)"
    return did_you_mean(rid, [r.resource_id for r in resources], cutoff=0.8)


def _key(res: Resource) -> str:
    return f"{KIND}/{res.customer_id}/{res.resource_id}"


def _subject(customer: Customer, res: Resource) -> str:
    service = (res.service_type_code or "?").rsplit(".", 1)[-1]
    name = res.resource_name or res.resource_id
    where = f" {res.region_code}" if res.region_code else ""
    return f"{name} [{service}{where}] of {customer_label(customer)}"


def live_object(res: Resource) -> dict[str, object]:
    return {
        "resource_id": res.resource_id,
        "customer_id": res.customer_id,
        "expire_policy": res.expire_policy,
        "status": res.status,
    }


UNVERIFIED_NOTE = (
    "agency not verified (planned with --skip-agency-check): apply checks it, and refuses a "
    "saved plan if the customer has not granted it"
)


def _change(cand: Candidate, agency_verified: bool = True) -> Change:
    res, rule = cand.resource, cand.rule
    path = AUTORENEW_PATH.format(resource_id=res.resource_id)
    after: dict[str, object] = {"auto_renew": cand.enabled}
    if cand.enabled:
        body: dict[str, object] = {}
        if rule.renew_times is not None:
            body["auto_renew_times"] = rule.renew_times
            after["renew_times"] = rule.renew_times
        if rule.period_type is not None:
            body["period_type"] = rule.period_type
            after["period_type"] = rule.period_type
        call = Call(RENEW_ON, "POST", path, body or None, identity="customer")
    else:
        call = Call(RENEW_OFF, "DELETE", path, None, identity="customer")
    return Change(
        kind=KIND,
        key=_key(res),
        action="enable" if cand.enabled else "disable",
        subject=_subject(cand.customer, res),
        before={"auto_renew": res.auto_renew, "expire_policy": res.expire_policy},
        after=after,
        calls=(call,),
        source=cand.source,
        fingerprint=fingerprint(live_object(res)),
        notes=(
            *((f"expires {res.expire_time}",) if res.expire_time else ()),
            *(() if agency_verified else (UNVERIFIED_NOTE,)),
        ),
    )


def rules_of(desired: DesiredState) -> tuple[AutoRenewRule, ...]:
    """The AutoRenew rules of ``desired``, in file order."""
    found: tuple[AutoRenewRule, ...] = desired.entries_of(KIND)
    return found
