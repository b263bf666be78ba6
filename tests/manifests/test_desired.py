"""Good manifests -> the typed desired state, and a checksum that only tracks content."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st

from reconciler.errors import SourcePosition
from reconciler.kinds import registry
from reconciler.kinds.account_managers.desired import ManagerAssignment
from reconciler.kinds.auto_renew.desired import AutoRenewRule, Override
from reconciler.kinds.reseller_quota.desired import QuotaTarget
from reconciler.manifests.assemble import canonical, desired_state
from reconciler.manifests.build import parse_duration
from reconciler.manifests.desired import (
    CustomerRef,
    DesiredState,
    Guards,
    ResellerRef,
    ScopeRef,
    Settings,
    checksum_of,
)
from reconciler.manifests.load import load_desired

GOOD = Path(__file__).parent / "good"
CUSTOMER_ID = "8b465a3f89f3c847bf335bcbb874b004"
RESELLER_ID = "23162efcb2a584eee62cda18a8955593"

# The good set written differently: one file, other order, other names, other quoting and
# comments. Same desired content, so the same checksum.
REWRITTEN = f"""\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {{name: renamed-settings, description: moved first}}
spec:
  planTtl: "120m"
  endpoint: {{profile: default}}
  guards: {{maxIssuePerRun: "100000.00", maxChangePercent: 25, minObjects: 10}}
  scope:
    customers: ["{CUSTOMER_ID}", jinqiao-logistics, 'xinghe-net']
  accountManagers: [chen.jie, li.na, wang.fang, zhang.wei]
  agencyName: demo_distributor_platform
---
apiVersion: partner-reconciler/v1
kind: ResellerQuota
metadata: {{name: split-one}}
spec:
  distributorQuota: '2025063010300118'
  resellers:
    - {{reseller: pengcheng-cloud, balance: "0.00"}}
---
apiVersion: partner-reconciler/v1
kind: ResellerQuota
metadata: {{name: split-two}}
spec:
  distributorQuota: !!str 2025063010300118
  resellers:
    - {{resellerId: "{RESELLER_ID}", balance: "18500.00"}}
    - {{reseller: "tianfu-cloud", balance: '40000.00'}}
---
apiVersion: partner-reconciler/v1
kind: AutoRenew
metadata: {{name: renewals}}
spec:
  customers:
    - customerId: "{CUSTOMER_ID}"
      renewTimes: 3
      periodType: MONTH
      serviceTypes: {{hws.service.type.ec2: true}}
    - customer: xinghe-net
      resources: {{"b100367c-2a35-5dd2-94f6-f360d5679552": false}}
      serviceTypes: {{hws.service.type.rds: false}}
      renewTimes: 0
      periodType: YEAR
      autoRenew: true
---
apiVersion: partner-reconciler/v1
kind: AccountManagers
metadata: {{name: managers}}
spec:
  customers:
    - {{customer: jinqiao-logistics, manager: ~}}
    - {{customerId: "{CUSTOMER_ID}", manager: wang.fang}}
    - {{customer: xinghe-net, manager: zhang.wei}}   # a comment
"""


@pytest.fixture(scope="module")
def state() -> DesiredState:
    return load_desired([GOOD])


def at(name: str, line: int, col: int) -> SourcePosition:
    return SourcePosition((GOOD / name).as_posix(), line, col)


def test_managers(state: DesiredState) -> None:
    am = "account-managers.yaml"
    xinghe = CustomerRef(None, "xinghe-net", at(am, 10, 17))
    huaxia = CustomerRef(CUSTOMER_ID, None, at(am, 12, 19))
    jinqiao = CustomerRef(None, "jinqiao-logistics", at(am, 14, 17))
    assert state.entries_of("account-manager") == (
        ManagerAssignment(xinghe, "zhang.wei", at(am, 10, 7)),
        ManagerAssignment(huaxia, "wang.fang", at(am, 12, 7)),
        ManagerAssignment(jinqiao, None, at(am, 14, 7)),
    )
    assert state.entries_of("account-manager")[1].customer.text == f"customerId '{CUSTOMER_ID}'"


def test_auto_renew_rules(state: DesiredState) -> None:
    ar = "auto-renew.yaml"
    first, second = state.entries_of("auto-renew")
    assert first == AutoRenewRule(
        customer=CustomerRef(None, "xinghe-net", at(ar, 9, 17)),
        default=True,
        period_type="YEAR",
        renew_times=0,
        service_types={"hws.service.type.rds": Override(False, at(ar, 14, 9))},
        resources={"b100367c-2a35-5dd2-94f6-f360d5679552": Override(False, at(ar, 16, 9))},
        source=at(ar, 9, 7),
        default_source=at(ar, 10, 18),
    )
    assert (second.default, second.period_type, second.renew_times) == (None, "MONTH", 3)
    assert second.resources == {}


def test_quota_targets(state: DesiredState) -> None:
    rq = "reseller-quota.yaml"
    assert state.entries_of("reseller-quota") == (
        QuotaTarget(
            "2025063010300118",
            ResellerRef(None, "tianfu-cloud", at(rq, 11, 17)),
            Decimal("40000.00"),
            at(rq, 12, 16),
            quota_source=at(rq, 9, 21),
        ),
        QuotaTarget(
            "2025063010300118",
            ResellerRef(RESELLER_ID, None, at(rq, 13, 19)),
            Decimal("18500.00"),
            at(rq, 14, 16),
            quota_source=at(rq, 9, 21),
        ),
        QuotaTarget(
            "2025063010300118",
            ResellerRef(None, "pengcheng-cloud", at(rq, 15, 17)),
            Decimal("0.00"),
            at(rq, 16, 16),
            quota_source=at(rq, 9, 21),
        ),
    )
    assert all(q.balance.as_tuple().exponent == -2 for q in state.entries_of("reseller-quota"))


def test_settings(state: DesiredState) -> None:
    settings = state.settings
    st = "settings.yaml"
    assert settings.agency_name == "demo_distributor_platform"
    assert settings.account_managers == ("zhang.wei", "li.na", "wang.fang", "chen.jie")
    assert settings.guards == Guards(
        max_change_percent=25, limits={"maxIssuePerRun": Decimal("100000.00")}, source=at(st, 16, 5)
    )
    assert settings.guards.limit("maxIssuePerRun", Decimal("1.00")) == Decimal("100000.00")
    assert settings.guards.limit("maxReclaimsPerRun", 10) == 10
    assert settings.plan_ttl == timedelta(hours=2)
    assert settings.endpoint_profile == "default"
    assert settings.source == at(st, 2, 1)
    assert settings.scope.resellers is None
    assert settings.scope.customers is not None
    assert settings.scope.customers[0] == ScopeRef("xinghe-net", at(st, 14, 17))
    assert settings.scope.includes_customer("x", "jinqiao-logistics")
    assert settings.scope.includes_customer(CUSTOMER_ID, None)
    assert not settings.scope.includes_customer("x", "lingyun-games")
    assert settings.scope.includes_reseller("anything", None)


def test_files_and_checksum_format(state: DesiredState) -> None:
    assert [Path(f).name for f in state.files] == [
        "account-managers.yaml",
        "auto-renew.yaml",
        "reseller-quota.yaml",
        "settings.yaml",
    ]
    assert state.checksum.startswith("sha256:")
    assert len(state.checksum) == len("sha256:") + 64


def test_checksum_ignores_layout_names_order_quoting_and_comments(
    state: DesiredState, tmp_path: Path
) -> None:
    rewritten = tmp_path / "all.yaml"
    rewritten.write_text(REWRITTEN, encoding="utf-8")
    other = load_desired([rewritten])
    assert canonical(other) == canonical(state)
    assert other.checksum == state.checksum


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('balance: "18500.00"', 'balance: "18500.01"'),
        ("manager: wang.fang", "manager: li.na"),
        ("renewTimes: 3", "renewTimes: 4"),
        ("hws.service.type.rds: false", "hws.service.type.rds: true"),
        ("minObjects: 10", "minObjects: 11"),
        ('planTtl: "120m"', 'planTtl: "2h"'),  # the same duration: no change
    ],
)
def test_checksum_tracks_content(
    state: DesiredState, tmp_path: Path, before: str, after: str
) -> None:
    assert before in REWRITTEN
    changed = tmp_path / "all.yaml"
    changed.write_text(REWRITTEN.replace(before, after), encoding="utf-8")
    same = before.startswith("planTtl")
    assert (load_desired([changed]).checksum == state.checksum) is same


def test_no_settings_document_means_defaults(tmp_path: Path) -> None:
    quota = tmp_path / "q.yaml"
    quota.write_text((GOOD / "reseller-quota.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    state = load_desired([quota])
    assert state.settings == Settings()
    assert state.settings.guards == Guards(max_change_percent=30, min_objects=10)
    guards = canonical(state)["settings"]["guards"]
    assert {k: guards[k] for k in ("maxChangePercent", "minObjects")} == {
        "maxChangePercent": 30,
        "minObjects": 10,
    }
    # every kind's limit in effect: its default
    assert {k: v for k, v in guards.items() if k not in ("maxChangePercent", "minObjects")} == {
        g.setting: f"{g.default:.2f}" if g.money else g.default for _, g in registry.GUARDS
    }
    assert state.settings.plan_ttl == timedelta(hours=1)
    assert state.entries_of("account-manager") == ()
    assert state.entries_of("auto-renew") == ()


HERE = SourcePosition("x.yaml", 1, 1)
RULE = AutoRenewRule(
    customer=CustomerRef(None, "acme", HERE),
    default=True,
    period_type=None,
    renew_times=None,
    service_types={"hws.service.type.rds": Override(False, SourcePosition("x.yaml", 2, 1))},
    resources={"disk-1": Override(True, SourcePosition("x.yaml", 3, 1))},
    source=HERE,
    default_source=SourcePosition("x.yaml", 4, 1),
)


@pytest.mark.parametrize(
    ("rule", "resource", "service", "expected"),
    [
        (RULE, "disk-1", "hws.service.type.rds", (True, 3)),  # resource beats service type
        (RULE, "disk-2", "hws.service.type.rds", (False, 2)),  # service type beats default
        (RULE, "vm-1", "hws.service.type.ec2", (True, 4)),  # the customer default
        (
            AutoRenewRule(RULE.customer, None, None, None, RULE.service_types, {}, HERE),
            "vm-1",
            "hws.service.type.ec2",
            None,
        ),  # nothing covers it: unmanaged
    ],
    ids=["resource", "service-type", "default", "unmanaged"],
)
def test_desired_for_precedence(
    rule: AutoRenewRule, resource: str, service: str, expected: tuple[bool, int] | None
) -> None:
    got = rule.desired_for(resource, service)
    assert (None if got is None else (got[0], got[1].line)) == expected


@pytest.mark.parametrize(
    ("text", "seconds"), [("45s", 45), ("90m", 5400), ("1h", 3600), ("7d", 604800)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


_NAMES = st.text(alphabet=st.sampled_from('abcZ-._0é中"\\'), min_size=1, max_size=6)


@st.composite
def _desired_parts(draw: st.DrawFn) -> tuple[Any, Any, Any, Settings]:
    refs = draw(st.lists(st.tuples(st.booleans(), _NAMES), max_size=8))
    customers = [CustomerRef(n if by_id else None, None if by_id else n, HERE) for by_id, n in refs]
    managers = [ManagerAssignment(c, draw(st.none() | _NAMES), HERE) for c in customers]
    flags = st.dictionaries(_NAMES, st.builds(Override, st.booleans(), st.just(HERE)), max_size=3)
    rules = [
        AutoRenewRule(c, draw(st.none() | st.booleans()), draw(st.none() | st.just("YEAR")),
                      draw(st.none() | st.integers(1, 99)), draw(flags), draw(flags), HERE)
        for c in customers
    ]  # fmt: skip
    balances = st.integers(0, 10**9).map(lambda cents: Decimal(cents) / 100)
    quotas = [
        QuotaTarget(draw(_NAMES), ResellerRef(None, name, HERE), draw(balances), HERE)
        for name in draw(st.lists(_NAMES, max_size=4))
    ]
    settings = Settings(agency_name=draw(st.none() | _NAMES), account_managers=("b", "a"))
    return managers, rules, quotas, settings


@given(_desired_parts())
@settings_(max_examples=60, deadline=None, derandomize=True)
def test_the_streamed_checksum_is_the_checksum_of_the_canonical_content(
    parts: tuple[Any, Any, Any, Settings],
) -> None:
    managers, rules, quotas, settings = parts
    entries = {"account-managers": tuple(managers), "auto-renew": tuple(rules)}
    desired = desired_state({**entries, "reseller-quota": tuple(quotas)}, settings)
    assert desired.checksum == checksum_of(canonical(desired))
