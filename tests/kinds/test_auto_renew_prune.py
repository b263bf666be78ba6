"""The reader keeps of a customer's resources only what the AutoRenew diff needs
(:func:`reconciler.kinds.auto_renew.reads.prune`) and counts the rest: whatever the rule and
the resources, the diff finds the same changes, the same problems (with the same hints) and the
same in-scope count as on every resource."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.bss.models import Customer, Resource
from reconciler.errors import SourcePosition
from reconciler.kinds.auto_renew import diff
from reconciler.kinds.auto_renew.desired import AutoRenewRule, Override
from reconciler.kinds.auto_renew.reads import RESOURCES, prune
from reconciler.kinds.base import LiveState
from reconciler.manifests.assemble import desired_state
from reconciler.manifests.desired import CustomerRef, Settings

CID = "c0ffee"
TYPES = ("hws.service.type.ec2", "hws.service.type.obs", "hws.service.type.vpc")
IDS = tuple(f"res-{n}" for n in range(8))


def at(line: int) -> SourcePosition:
    return SourcePosition("auto-renew.yaml", line, 7)


@st.composite
def resources(draw: st.DrawFn) -> list[Resource]:
    ids = draw(st.lists(st.sampled_from(IDS), unique=True, max_size=len(IDS)))
    return [
        Resource(
            resource_id=rid,
            customer_id=CID,
            resource_name=f"name-{rid}",
            service_type_code=draw(st.sampled_from(TYPES)),
            resource_type_code=None,
            region_code="cn-north-4",
            is_main_resource=True,
            parent_resource_id=None,
            status=draw(st.sampled_from([2, 3, 4, 5])),
            expire_policy=draw(st.sampled_from([0, 1, 3])),
            expire_time="2027-01-01T00:00:00Z",
        )
        for rid in ids
    ]


@st.composite
def rules(draw: st.DrawFn) -> AutoRenewRule:
    def toggles(keys: tuple[str, ...], first: int) -> dict[str, Override]:
        chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=2))
        return {k: Override(draw(st.booleans()), at(first + n)) for n, k in enumerate(chosen)}

    default = draw(st.none() | st.booleans())
    return AutoRenewRule(
        CustomerRef(CID, None, at(1)),
        default,
        None,
        None,
        toggles((*TYPES, "hws.service.type.ecx"), 10),
        toggles((*IDS, "res-x"), 20),
        at(1),
        None if default is None else at(2),
    )


def outcome(rule: AutoRenewRule, items: list[Resource], in_sync: int) -> tuple[object, ...]:
    live = LiveState()
    live.customers[CID] = Customer(CID, "acme", None, "2", None, None, None, None)
    live.lists(RESOURCES)[CID] = items
    live.pruned[RESOURCES.name] = in_sync
    found, result = diff.candidates(desired_state({"auto-renew": (rule,)}, Settings()), live)
    changes = sorted((c.resource.resource_id, c.enabled, c.source) for c in found)
    return changes, sorted(result.problems), result.in_scope


@settings(max_examples=300, deadline=None)
@given(rules(), resources())
def test_the_diff_sees_the_same_on_what_is_kept(rule: AutoRenewRule, items: list[Resource]) -> None:
    kept, in_sync = prune([rule], list(items))
    assert outcome(rule, kept, in_sync) == outcome(rule, items, 0)
    assert set(map(id, kept)) <= set(map(id, items))


@given(rules(), resources())
def test_several_rules_for_one_customer_keep_everything(
    rule: AutoRenewRule, items: list[Resource]
) -> None:
    assert prune([rule, rule], list(items)) == (items, 0)
