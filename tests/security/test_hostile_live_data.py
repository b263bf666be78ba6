"""Hostile names planted in the emulator's live data, through every command and output format.

Customer account names, display names, labels and e-mail addresses, an account manager's name,
resource names and reseller names are set to names from :mod:`tests.security.hostile` (and
every kind names them: quotas, auto-renew, managers, cash); then plan
(text, JSON, Markdown, GitHub), drift (the same four), apply (text, JSON report, manual steps),
journal list and export followed by plan run against that account. Every output must be safe
for its medium, and the exported manifests must plan with no changes.

Deterministic: every sample runs in a fixed slot, and hypothesis draws a bounded number of
combinations with a fixed seed (``derandomize``).
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .harness import (
    DEMO,
    Account,
    by_slots,
    check_text,
    hostile_account,
    line_count,
    plan_and_drift,
    slots,
)
from .hostile import assert_ci_safe, assert_markdown_safe, hostile_names

XINGHE, XINGHE_WEB = "ed0e5914c5e5fc0a8a8d3bcc812f2330", "8802e8c9-b42b-5e38-9852-d1b85b3b5dd4"
LINGYUN, LINGYUN_SRV = "1e7b4d0f27f893eeb9e53607e347368e", "3c3b3cc7-15af-52d4-85a4-0d80476b425a"
TIANFU, MAIN = "481e93b261dc952c7eebe1950ebb9fa6", "2025063010300118"
SLOTS = 10  # the live fields a name is planted in, see plant()

MANIFESTS = {
    "settings.yaml": """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  agencyName: demo_distributor_platform
  accountManagers: [li.na]
  guards: {maxChangePercent: 100, maxIssuePerRun: "900000.00",
           maxIssuePerReseller: "900000.00", maxReclaimsPerRun: 50}
""",
    "managers.yaml": f"""\
apiVersion: partner-reconciler/v1
kind: AccountManagers
metadata: {{name: managers}}
spec:
  customers:
    - {{customerId: "{XINGHE}", manager: li.na}}
""",
    "renew.yaml": f"""\
apiVersion: partner-reconciler/v1
kind: AutoRenew
metadata: {{name: renew}}
spec:
  customers:
    - customerId: "{XINGHE}"
      resources: {{"{XINGHE_WEB}": false}}
    - customerId: "{LINGYUN}"
      resources: {{"{LINGYUN_SRV}": true}}
""",
    "quotas.yaml": f"""\
apiVersion: partner-reconciler/v1
kind: ResellerQuota
metadata: {{name: quotas}}
spec:
  distributorQuota: "{MAIN}"
  resellers:
    - {{resellerId: "{TIANFU}", balance: "30100.00"}}
""",
    "funds.yaml": f"""\
apiVersion: partner-reconciler/v1
kind: AccountFunds
metadata: {{name: funds}}
spec:
  customers:
    - {{customerId: "{XINGHE}", atMost: "11000.00"}}
    - {{customerId: "{LINGYUN}", topUpTo: "1000.00"}}
  resellers:
    - {{resellerId: "{TIANFU}", topUpTo: "60000.00"}}
""",
}


def plant(names: Sequence[str]) -> dict[str, Any]:
    """The demo seed with ``names`` in ten third-party fields."""
    doc = copy.deepcopy(DEMO)
    by_id = {c["customer_id"]: c for c in doc["customers"]}
    xinghe, lingyun = by_id[XINGHE], by_id[LINGYUN]
    xinghe.update(account_name=names[0], customer=names[1], label=names[2], email=names[3])
    if all(m["account_name"] != names[4] for m in doc["account_managers"]):
        doc["account_managers"].append({"account_name": names[4], "name": names[4]})
    xinghe["account_manager"] = names[4]
    _resource(xinghe, XINGHE_WEB)["resource_name"] = names[5]
    lingyun["account_name"] = names[6]
    _resource(lingyun, LINGYUN_SRV)["resource_name"] = names[7]
    tianfu = next(r for r in doc["resellers"] if r["indirect_partner_id"] == TIANFU)
    tianfu.update(account_name=names[8], name=names[9])
    return doc


def _resource(customer: dict[str, Any], resource_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(
        r for r in customer["resources"] if r["resource_id"] == resource_id
    )
    return found


def every_command(names: Sequence[str]) -> dict[str, int]:
    """Run everything on an account with ``names`` planted; the line count of each stdout."""
    lines: dict[str, int] = {}
    with hostile_account(plant(names), MANIFESTS) as acct:
        plan_and_drift(acct, lines, drift_details=1)
        report, steps = acct.root / "report.json", acct.root / "manual.md"
        applied = acct.run("apply", acct.manifests, "--auto-approve", "--report", str(report),
                           "--manual-steps", str(steps))  # fmt: skip
        assert applied.exit_code == 0, applied.output
        check_text(applied, acct)
        assert_ci_safe(report.read_text(encoding="utf-8"), acct.manifests)
        json.loads(report.read_text(encoding="utf-8"))
        assert_markdown_safe(steps.read_text(encoding="utf-8"))
        lines["apply"], lines["manual steps"] = (
            line_count(applied.stdout),
            line_count(steps.read_text()),
        )
        journal = acct.run("journal", "list")
        check_text(journal, acct)
        as_json = acct.run("journal", "list", "--json")
        assert_ci_safe(as_json.output, acct.manifests)
        lines["journal"] = line_count(journal.stdout)
        lines["export"] = export_then_plan(acct)
    return lines


def export_then_plan(acct: Account) -> int:
    exported = acct.run("export", str(acct.root / "adopted"))
    assert exported.exit_code == 0, exported.output
    check_text(exported, acct)
    again = acct.run("plan", str(acct.root / "adopted"), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert "No changes." in again.stdout
    return line_count(exported.stdout)


@functools.cache
def benign_lines() -> dict[str, int]:
    """The shape of every output for ordinary names: hostile ones must not add or remove
    lines (a name cannot forge a line of a plan, a table row or an annotation)."""
    names = [f"benign-{n}" for n in range(SLOTS)]
    names[3] = "ops@example.com"
    return every_command(names)


def assert_same_shape(names: Sequence[str]) -> None:
    assert every_command(names) == benign_lines()


@by_slots(SLOTS)
def test_every_sample_in_every_command_and_format(offset: int) -> None:
    assert_same_shape(slots(offset, SLOTS))


@settings(
    max_examples=10,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(st.lists(hostile_names(), min_size=SLOTS, max_size=SLOTS))
def test_generated_names_in_every_command_and_format(names: list[str]) -> None:
    assert_same_shape(names)
