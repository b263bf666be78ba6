"""Large synthetic partners for scale tests and the benchmark, deterministic from a seed.

:func:`generate_partner` builds the emulator :class:`~reconciler.emulator.models.State` of a
distributor with ``n_customers`` customers directly (a 100,000-customer partner in a few seconds;
going through the seed validator would take much longer), plus the *intent* the partner's
manifests would declare. Live state deviates from that intent by a controlled amount of drift:

* resources per customer are heavy-tailed: most customers have a handful of yearly/monthly main
  resources (a discrete log-normal, median 2.4, mean about 4); ``heavy_share`` of them have
  600-2,000, so their listing needs several pages of the 500-item maximum (REFERENCE §7.3);
* each customer has an auto-renew preference (its intent); its resources follow it, except a
  share ``auto_renew_drift`` that was flipped in the console. Policies other than auto-renew are
  mixed (0, 1, 2, 4, 5); about 1% of resources are frozen or expired and 0.5% closed;
* ``agency_share`` of customers granted the agency; ``manager_share`` have an account manager;
* ``resellers`` resellers hold ``quotas`` issued quotas in total (at least one each, the rest
  Zipf-distributed, so a few resellers need more than one page of 100), drawn from
  ``distributor_quotas`` distributor quotas; ``quota_drift`` of the (reseller, distributor quota)
  balances differ from the intent.

:meth:`GeneratedPartner.seed_document` renders the same partner as a seed document (small sizes:
tests use it to check that generated states are valid seeds). This module, like the rest of the
emulator, imports nothing from the reconciler.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from reconciler.emulator.credentials import (
    DEFAULT_CREDENTIALS,
    DEFAULT_READONLY_CREDENTIALS,
    DEFAULT_XACCOUNT_TYPE,
)
from reconciler.emulator.generate_seed import seed_document
from reconciler.emulator.models import (
    AccountManager,
    Credential,
    Customer,
    Partner,
    Quota,
    Reseller,
    Resource,
    State,
)
from reconciler.emulator.timefmt import fmt

#: Cap of the log-normal number of main resources of an ordinary customer (heavy ones have more).
RESOURCE_PAGE = 500
HEAVY_RANGE = (600, 2000)
BODY_LOG_MEDIAN = math.log(2.4)
AUTO_RENEW = 3
OTHER_POLICIES = (0, 0, 0, 1, 2, 4, 5)
CENT = Decimal("0.01")
DAY = 86400.0
#: 2025-01-01T00:00:00Z: customers are associated from here on, one every few minutes.
ASSOCIATED_FROM = 1_735_689_600.0
#: 2026-01-01T00:00:00Z, the virtual clock's default epoch.
NOW = 1_767_225_600.0

SERVICES = (
    ("hws.service.type.ec2", "hws.resource.type.vm", "Elastic Cloud Server", "ECS", "ecs"),
    ("hws.service.type.ebs", "hws.resource.type.volume", "Elastic Volume Service", "EVS", "evs"),
    ("hws.service.type.vpc", "hws.resource.type.bandwidth", "Virtual Private Cloud", "BW", "bw"),
    ("hws.service.type.rds", "hws.resource.type.rds.vm", "Relational Database", "RDS", "rds"),
    ("hws.service.type.obs", "hws.resource.type.obs", "Object Storage Service", "OBS", "obs"),
    ("hws.service.type.dcs", "hws.resource.type.dcs", "Distributed Cache", "DCS", "dcs"),
)
REGIONS = ("cn-north-4", "cn-east-3", "cn-south-1", "cn-southwest-2", "ap-southeast-1")
LEVELS = ("V0", "V1", "V2", "V3", "V4", "V5")


@dataclass(frozen=True)
class PartnerShape:
    """The knobs of :func:`generate_partner` (the defaults are the benchmark's dataset)."""

    n_customers: int
    resellers: int = 500
    quotas: int = 2000
    distributor_quotas: int = 4
    seed: int = 0
    heavy_share: float = 0.001
    agency_share: float = 0.85
    manager_share: float = 0.7
    managers: int = 40
    auto_renew_share: float = 0.4
    auto_renew_drift: float = 0.01
    quota_drift: float = 0.02
    not_renewable_share: float = 0.01
    closed_share: float = 0.005


@dataclass
class GeneratedPartner:
    """A generated partner: the emulator state and what its manifests would declare."""

    shape: PartnerShape
    state: State
    #: customer id -> the auto-renew flag its manifest declares for every resource
    auto_renew_intent: dict[str, bool] = field(default_factory=dict)
    #: (reseller id, distributor quota id) -> the balance its manifest declares
    quota_intent: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    #: resources whose ``expire_policy`` was flipped away from the intent (renewable ones only)
    drifted_resources: int = 0
    #: (reseller, distributor quota) balances that differ from the intent
    drifted_quotas: int = 0

    @property
    def n_resources(self) -> int:
        return len(self.state.resources)

    def resource_counts(self) -> dict[str, int]:
        """Customer id -> number of main resources (for the benchmark's lower bound)."""
        counts = dict.fromkeys(self.state.customers, 0)
        for res in self.state.resources.values():
            counts[res.customer_id] += 1
        return counts

    def issued_counts(self) -> dict[str, int]:
        """Reseller id -> number of issued quotas (every status)."""
        counts = dict.fromkeys(self.state.resellers, 0)
        for q in self.state.quotas.values():
            if q.indirect_partner_id is not None:
                counts[q.indirect_partner_id] += 1
        return counts

    def seed_document(self) -> dict[str, Any]:
        """The same partner as a seed document (for small sizes; ``seed.build_state`` reads it)."""
        return seed_document(self.state)


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _uuid(rng: random.Random) -> str:
    h = _hex(rng)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Days:
    """Timestamps on whole days, shared string objects (half a million resources need few)."""

    def __init__(self) -> None:
        self._cache: dict[int, str] = {}

    def at(self, base: float, day: int) -> str:
        key = int(base // DAY) + day
        text = self._cache.get(key)
        if text is None:
            text = self._cache[key] = fmt(key * DAY + 57599.0)  # 15:59:59Z, as Huawei dates
        return text


def resource_count(rng: random.Random, heavy_share: float) -> int:
    """Main resources of one customer: heavy-tailed, mean about 5 with the default share."""
    if rng.random() < heavy_share:
        return rng.randint(*HEAVY_RANGE)
    # A discrete log-normal: median 2.4, mean about 4, a long tail (a few customers with dozens),
    # capped so that only the heavy customers page.
    return min(RESOURCE_PAGE, max(0, round(math.exp(rng.gauss(BODY_LOG_MEDIAN, 1.0)))))


def generate_partner(
    n_customers: int,
    *,
    resellers: int = 500,
    quotas: int = 2000,
    seed: int = 0,
    **knobs: Any,
) -> GeneratedPartner:
    """A distributor with ``n_customers`` customers; see the module docstring."""
    shape = PartnerShape(n_customers, resellers=resellers, quotas=quotas, seed=seed, **knobs)
    if n_customers < 0 or resellers < 0 or quotas < 0:
        raise ValueError("sizes must not be negative")
    if resellers == 0 and quotas:
        raise ValueError("issued quotas need at least one reseller")
    rng = random.Random(seed)
    state = State(
        partner=Partner(
            domain_id=DEFAULT_CREDENTIALS.domain_id,
            account_name=DEFAULT_CREDENTIALS.account_name,
            name=f"Generated Distributor {seed}",
            xaccount_type=DEFAULT_XACCOUNT_TYPE,
        )
    )
    for cred in (DEFAULT_CREDENTIALS, DEFAULT_READONLY_CREDENTIALS):
        state.credentials[cred.ak] = Credential(cred.ak, cred.sk, cred.role)
    out = GeneratedPartner(shape, state)
    _customers(out, rng)
    _quotas(out, rng)
    state.invalidate()
    return out


def _customers(out: GeneratedPartner, rng: random.Random) -> None:
    shape, state = out.shape, out.state
    managers = [f"manager-{i:03d}" for i in range(shape.managers)]
    for name in managers:
        state.account_managers[name] = AccountManager(name, name.replace("-", " ").title())
    days = _Days()
    spacing = max(1.0, 365 * DAY / max(1, shape.n_customers))
    for i in range(shape.n_customers):
        cid = _hex(rng)
        account = f"cust-{i:06d}"
        state.customers[cid] = Customer(
            customer_id=cid,
            account_name=account,
            customer=f"Customer {i:06d} Co., Ltd.",
            associated_on=fmt(ASSOCIATED_FROM + i * spacing),
            association_type="2" if rng.random() < 0.8 else "1",
            label=None,
            customer_level=rng.choice(LEVELS),
            email=f"{account}@example.com",
            account_manager=(
                rng.choice(managers) if managers and rng.random() < shape.manager_share else None
            ),
            agency_granted=rng.random() < shape.agency_share,
            xaccount_type=state.partner.xaccount_type,
        )
        renew = rng.random() < shape.auto_renew_share
        out.auto_renew_intent[cid] = renew
        project = _hex(rng)
        for n in range(resource_count(rng, shape.heavy_share)):
            _resource(out, rng, days, cid, account, project, n, renew)


def _resource(
    out: GeneratedPartner,
    rng: random.Random,
    days: _Days,
    cid: str,
    account: str,
    project: str,
    n: int,
    renew: bool,
) -> None:
    shape = out.shape
    service, rtype, sname, rname, short = SERVICES[rng.randrange(len(SERVICES))]
    roll = rng.random()
    if roll < shape.closed_share:
        status = 3
    elif roll < shape.closed_share + shape.not_renewable_share:
        status = rng.choice((4, 5))
    else:
        status = 2
    on = renew
    if status == 2 and rng.random() < shape.auto_renew_drift:
        on = not on
        out.drifted_resources += 1
    policy = AUTO_RENEW if on else rng.choice(OTHER_POLICIES)
    start = rng.randrange(-700, -1)
    rid = _uuid(rng)
    out.state.resources[rid] = Resource(
        resource_id=rid,
        customer_id=cid,
        id=rid,
        resource_name=f"{account}-{short}-{n:04d}",
        region_code=REGIONS[rng.randrange(len(REGIONS))],
        service_type_code=service,
        resource_type_code=rtype,
        resource_type_name=rname,
        service_type_name=sname,
        project_id=project,
        is_main_resource=1,
        status=status,
        effective_time=days.at(NOW, start),
        expire_time=days.at(NOW, start + rng.choice((365, 730, 1095))),
        expire_policy=policy,
        update_time=days.at(NOW, start),
    )


def _quotas(out: GeneratedPartner, rng: random.Random) -> None:
    shape, state = out.shape, out.state
    if shape.resellers == 0:
        return
    days = _Days()
    reseller_ids = []
    for i in range(shape.resellers):
        rid = _hex(rng)
        reseller_ids.append(rid)
        state.resellers[rid] = Reseller(
            indirect_partner_id=rid,
            account_name=f"reseller-{i:04d}",
            name=f"Reseller {i:04d} Ltd.",
            associated_on=fmt(ASSOCIATED_FROM + i * 3600.0),
        )
    parents = []
    for i in range(max(1, shape.distributor_quotas)):
        qid = f"2025{i + 1:02d}0100000000{i:02d}"
        parents.append(qid)
        value = Decimal(50_000_000 + 1_000_000 * i)
        state.quotas[qid] = Quota(
            quota_id=qid,
            quota_value=value,
            balance=value,
            create_time=days.at(NOW, -365),
            last_update_time=days.at(NOW, -365),
            effective_time=days.at(NOW, -365),
            expire_time=days.at(NOW, 730),
        )
    # Every reseller gets one quota; the rest go Zipf-wise (rank 1 gets the most).
    weights = [1.0 / (rank + 1) for rank in range(shape.resellers)]
    owners = list(reseller_ids[: min(shape.quotas, shape.resellers)])
    extra = shape.quotas - len(owners)
    if extra > 0:
        owners += rng.choices(reseller_ids, weights=weights, k=extra)
    live: dict[tuple[str, str], Decimal] = {}
    for n, rid in enumerate(owners):
        parent = state.quotas[parents[rng.randrange(len(parents))]]
        value = Decimal(rng.randrange(10, 500) * 100)
        roll = rng.random()
        status = 6 if roll < 0.1 else (3 if roll < 0.12 else 0)
        spent = Decimal(rng.randrange(0, int(value) // 100)) * 10 if rng.random() < 0.3 else 0
        balance = Decimal(0) if status == 6 else (value - spent).quantize(CENT)
        created = days.at(NOW, -rng.randrange(1, 300))
        qid = f"2025{n:012d}"
        state.quotas[qid] = Quota(
            quota_id=qid,
            quota_value=value.quantize(CENT),
            balance=balance,
            quota_status=status,
            create_time=created,
            last_update_time=created,
            effective_time=parent.effective_time,
            expire_time=parent.expire_time,
            indirect_partner_id=rid,
            parent_quota_id=parent.quota_id,
        )
        parent.balance -= value
        key = (rid, parent.quota_id)
        live[key] = live.get(key, Decimal(0)) + (balance if status == 0 else Decimal(0))
    for key in sorted(live):
        target = live[key].quantize(CENT)
        if rng.random() < shape.quota_drift:
            out.drifted_quotas += 1
            if target >= 2000 and rng.random() < 0.2:
                target -= Decimal(rng.randrange(1, 10) * 100)  # lower: a reclaim, then a re-issue
            else:
                target += Decimal(rng.randrange(1, 50) * 100)
        out.quota_intent[key] = target
