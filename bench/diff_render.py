"""Diff + render CPU and memory per object, on a synthetic state of 500,000 managed objects.

No I/O: live state is built the way the reader builds it (each customer's resources parsed from
JSON text by the client's own ``from_api``, so every string is its own object as after a real
read), desired state as the manifests would give it. The objects are the plan's managed objects:
``customers x resources_per_customer`` auto-renew resources plus one account-manager assignment
per customer (100,000 x 4 + 100,000 = 500,000), plus a few thousand reseller-quota targets.

* CPU: :func:`reconciler.plan.planner.assemble_plan` (every kind's diff, guards, canonical order)
  plus :func:`~reconciler.render.formats.render_text` and
  :func:`~reconciler.render.formats.render_json`, measured with ``time.process_time`` after the
  state is built. * Memory: ``tracemalloc`` peak from before the live and desired state are built
  until the plan has been rendered, divided by the managed objects (the emulator is not involved at
  all).
"""

from __future__ import annotations

import gc
import json
import random
import statistics
import time
import tracemalloc
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from reconciler.bss.models import CouponQuota, Customer, IndirectPartner, IssuedQuota, Resource
from reconciler.errors import SourcePosition
from reconciler.kinds.account_managers.desired import ManagerAssignment
from reconciler.kinds.auto_renew.desired import AutoRenewRule
from reconciler.kinds.auto_renew.reads import RESOURCES
from reconciler.kinds.base import LiveState
from reconciler.kinds.reseller_quota.desired import QuotaTarget
from reconciler.kinds.reseller_quota.reads import ISSUED
from reconciler.manifests.desired import (
    CustomerRef,
    DesiredState,
    ResellerRef,
    Settings,
)
from reconciler.plan.planner import PlanContext, assemble_plan
from reconciler.render.formats import render_json, render_text

from .memory import deep_size, peak_rss_bytes, rss_bytes
from .workload import GENEROUS

SERVICES = ("ec2", "ebs", "vpc", "rds", "obs", "dcs")
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "ap-southeast-1")
MANAGERS = tuple(f"manager-{i:03d}" for i in range(40))
NOW = 1_767_225_600.0


@dataclass(frozen=True)
class DiffRenderResult:
    objects: int
    changes: int
    cpu_seconds: float  # median of the timed runs
    cpu_runs: tuple[float, ...]
    rss_bytes: int  # peak RSS - RSS before the state was built
    state_bytes: int  # live + desired state, everything reachable (sys.getsizeof)
    transient_bytes: int  # tracemalloc peak while diffing and rendering, state already built
    text_bytes: int
    json_bytes: int

    def per_object(self, value: int) -> float:
        return value / self.objects


def _resources_json(rng: random.Random, cid: str, n: int, renew: bool, drift: float) -> str:
    items = []
    for k in range(n):
        on = renew if rng.random() >= drift else not renew
        svc = SERVICES[rng.randrange(len(SERVICES))]
        items.append(
            f'{{"id":"{cid}-{k}","resource_id":"{rng.getrandbits(128):032x}",'
            f'"resource_name":"{cid[:8]}-{svc}-{k:04d}","region_code":"{rng.choice(REGIONS)}",'
            f'"service_type_code":"hws.service.type.{svc}",'
            f'"resource_type_code":"hws.resource.type.{svc}","is_main_resource":1,"status":2,'
            f'"effective_time":"2025-03-14T02:30:00Z","expire_time":"2027-03-14T15:59:59Z",'
            f'"expire_policy":{3 if on else 0}}}'
        )
    return "[" + ",".join(items) + "]"


def synthetic_state(
    customers: int = 100_000,
    resources_per_customer: int = 4,
    resellers: int = 500,
    quotas_per_reseller: int = 2,
    *,
    seed: int = 0,
    auto_renew_drift: float = 0.01,
    quota_drift: float = 0.02,
) -> tuple[DesiredState, LiveState]:
    """Desired and live state with ``customers * (resources_per_customer + 1)`` objects."""
    rng = random.Random(seed)
    live = LiveState()
    managers: list[ManagerAssignment] = []
    rules: list[AutoRenewRule] = []
    at = SourcePosition
    for i in range(customers):
        cid = f"{rng.getrandbits(128):032x}"
        manager = rng.choice(MANAGERS) if rng.random() < 0.7 else None
        data = json.loads(
            f'{{"customer_id":"{cid}","account_name":"cust-{i:06d}",'
            f'"customer":"Customer {i:06d} Co., Ltd.","association_type":"2",'
            f'"email":"cust-{i:06d}@example.com"'
            + (f',"account_managers":[{{"account_name":"{manager}"}}]' if manager else "")
            + "}"
        )
        customer = Customer.from_api(data)
        live.customers[cid] = customer
        if customer.account_manager:
            live.managers_seen.add(customer.account_manager)
        ref = CustomerRef(cid, None, at("manifests/account-managers.yaml", i + 1, 7))
        live.customer_refs[(cid, None)] = cid
        managers.append(ManagerAssignment(ref, manager, ref.source))
        renew = rng.random() < 0.4
        raw = json.loads(_resources_json(rng, cid, resources_per_customer, renew, auto_renew_drift))
        live.lists(RESOURCES)[cid] = [Resource.from_api(r, cid) for r in raw]
        rule_ref = CustomerRef(cid, None, at("manifests/auto-renew.yaml", 2 * i + 1, 7))
        rules.append(
            AutoRenewRule(
                customer=rule_ref,
                default=renew,
                period_type=None,
                renew_times=None,
                service_types={},
                resources={},
                source=rule_ref.source,
                default_source=at("manifests/auto-renew.yaml", 2 * i + 2, 7),
            )
        )
        if any(r.auto_renew != renew for r in live.lists(RESOURCES)[cid]):
            live.agency[cid] = None
    quotas: list[QuotaTarget] = []
    parent = "2025010100000000"
    live.distributor_quotas[parent] = CouponQuota.from_api(
        {
            "quota_id": parent,
            "quota_value": Decimal("900000000.00"),
            "balance": Decimal("9e8"),
            "quota_status": 0,
        }
    )
    for p in range(resellers):
        rid = f"{rng.getrandbits(128):032x}"
        live.resellers[rid] = IndirectPartner.from_api(
            {"indirect_partner_id": rid, "account_name": f"reseller-{p:04d}"}
        )
        live.reseller_refs[(rid, None)] = rid
        children = []
        for k in range(quotas_per_reseller):
            value = Decimal(rng.randrange(10, 500) * 100)
            children.append(
                IssuedQuota.from_api(
                    {
                        "quota_id": f"{p:06d}{k:04d}",
                        "quota_value": value,
                        "balance": value,
                        "quota_status": 0,
                        "indirect_partner_id": rid,
                        "parent_quota_id": parent,
                    }
                )
            )
        live.lists(ISSUED)[rid] = children
        balance = sum((c.balance or Decimal(0) for c in children), Decimal(0))
        if rng.random() < quota_drift:
            balance += Decimal(rng.randrange(1, 50) * 100)
        pos = at("manifests/reseller-quotas.yaml", p + 1, 7)
        quotas.append(QuotaTarget(parent, ResellerRef(rid, None, pos), balance, pos, pos))
    settings = Settings(
        agency_name="bench",
        account_managers=MANAGERS,
        guards=GENEROUS,
        plan_ttl=timedelta(hours=24),
    )
    desired = DesiredState(
        entries={
            "account-manager": tuple(managers),
            "auto-renew": tuple(rules),
            "reseller-quota": tuple(quotas),
        },
        settings=settings,
        files=("manifests/",),
        checksum="sha256:synthetic",
    )
    return desired, live


def _diff_render(desired: DesiredState, live: LiveState) -> tuple[int, int, int, int]:
    ctx = PlanContext(endpoint="synthetic", partner_id="synthetic")
    plan = assemble_plan(desired, live, [], ctx, NOW)
    text = render_text(plan)
    data = render_json(plan)
    return sum(plan.in_scope.values()), len(plan.changes), len(text), len(data)


def measure(
    customers: int = 100_000, resources_per_customer: int = 4, seed: int = 0, runs: int = 3
) -> DiffRenderResult:
    """Build the synthetic state, time diff + render ``runs`` times, then measure memory.

    Run it in a fresh process: the RSS figure is the process's peak minus its RSS before the
    state was built.
    """
    gc.collect()
    before = rss_bytes()
    desired, live = synthetic_state(customers, resources_per_customer, seed=seed)
    times = []
    for _ in range(runs):
        gc.collect()
        start = time.process_time()
        objects, changes, text_len, json_len = _diff_render(desired, live)
        times.append(time.process_time() - start)
    peak = peak_rss_bytes() - before
    state = deep_size([desired, live])
    gc.collect()
    tracemalloc.start()
    _diff_render(desired, live)
    transient = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return DiffRenderResult(
        objects=objects,
        changes=changes,
        cpu_seconds=statistics.median(times),
        cpu_runs=tuple(times),
        rss_bytes=peak,
        state_bytes=state,
        transient_bytes=transient,
        text_bytes=text_len,
        json_bytes=json_len,
    )
