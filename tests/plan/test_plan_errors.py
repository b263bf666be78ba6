"""Semantic problems against live state: every one reported at once, at its manifest line."""

from __future__ import annotations

import pytest

from .conftest import Env

HEADER = "apiVersion: partner-reconciler/v1\n"

BROKEN = (
    HEADER
    + """kind: AccountManagers
metadata: {name: managers}
spec:
  customers:
    - {customer: no-such-customer, manager: zhang.wei}
    - {customerId: "00000000000000000000000000000000", manager: li.na}
    - {customer: xinghe-net, manager: nobody.known}
---
"""
    + HEADER
    + """kind: AutoRenew
metadata: {name: renew}
spec:
  customers:
    - customer: xinghe-net
      resources:
        "523ffe32-f589-543e-bfcb-4c04c66f41cd": true
        "ffffffff-ffff-ffff-ffff-ffffffffffff": false
---
"""
    + HEADER
    + """kind: ResellerQuota
metadata: {name: quota}
spec:
  distributorQuota: "1999999999999999"
  resellers:
    - {reseller: tianfu-cloud, balance: "1.00"}
---
"""
    + HEADER
    + """kind: ResellerQuota
metadata: {name: quota-2}
spec:
  distributorQuota: "2025093014152207"
  resellers:
    - {reseller: no-such-reseller, balance: "1.00"}
    - {reseller: tianfu-cloud, balance: "190000.00"}
"""
)


def test_every_semantic_problem_in_one_run(env: Env) -> None:
    path = env.write("broken.yaml", BROKEN)
    result = env.run("plan", str(path))
    assert result.exit_code == 1
    err = result.stderr
    assert "Traceback" not in result.output
    expected = [
        f"{path}:6:18: customer: no customer 'no-such-customer' in the partner account",
        f"{path}:7:20: customerId: no customer '00000000000000000000000000000000' in the",
        f"{path}:8:7: manager: unknown account manager 'nobody.known'",
        f"{path}:17:9: resources.523ffe32-f589-543e-bfcb-4c04c66f41cd: customer xinghe-net",
        f"{path}:18:9: resources.ffffffff-ffff-ffff-ffff-ffffffffffff: customer xinghe-net",
        f"{path}:24:21: distributorQuota: unknown distributor quota '1999999999999999'",
        f"{path}:32:21: distributorQuota: the targets need 190000.00 more from distributor "
        "quota 2025093014152207 than it holds (185000.00, after reclaims); lower them by 5000.00",
        f"{path}:34:18: reseller: no reseller 'no-such-reseller' in the partner account",
        f"{path}:15:7: AutoRenew of customer 'xinghe-net' needs the IAM agency your customers "
        "granted you, and no agency name is configured: set Settings spec.agencyName or the "
        "environment variable RECONCILER_AGENCY_NAME",
    ]
    for fragment in expected:
        assert fragment in err, f"missing {fragment!r} in:\n{err}"
    lines = [line for line in err.splitlines() if line.startswith(str(path))]
    assert lines == sorted(lines, key=lambda s: [int(x) for x in s.split(":")[1:3]])
    assert "9 manifest problems found." in err


def test_no_write_happens_when_the_manifests_are_wrong(env: Env) -> None:
    env.run("plan", str(env.write("broken.yaml", BROKEN)))
    assert env.writes() == []


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(HEADER + "key: [unclosed", "problem", id="yaml-syntax"),
        pytest.param(HEADER + "kind: Nope\nmetadata: {name: x}\nspec: {}\n", "kind", id="bad-kind"),
    ],
)
def test_broken_yaml_is_an_error_not_a_traceback(env: Env, text: str, fragment: str) -> None:
    result = env.run("plan", str(env.write("bad.yaml", text)))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert fragment in result.stderr.lower()


def test_missing_path_is_a_clear_error(env: Env) -> None:
    result = env.run("plan", "does-not-exist")
    assert result.exit_code == 1
    assert "does-not-exist" in result.stderr
    assert "Traceback" not in result.output


TWICE = (
    HEADER
    + """kind: AccountManagers
metadata: {name: managers}
spec:
  customers:
    - {customer: xinghe-net, manager: zhang.wei}
    - {customerId: ed0e5914c5e5fc0a8a8d3bcc812f2330, manager: li.na}
---
"""
    + HEADER
    + """kind: ResellerQuota
metadata: {name: quota}
spec:
  distributorQuota: "2025063010300118"
  resellers:
    - {reseller: tianfu-cloud, balance: "1.00"}
    - {resellerId: 481e93b261dc952c7eebe1950ebb9fa6, balance: "2.00"}
"""
)


def test_same_object_by_name_and_by_id_is_declared_twice(env: Env) -> None:
    path = env.write("twice.yaml", TWICE)
    result = env.run("plan", str(path))
    assert result.exit_code == 1
    assert (
        f"{path}:7:7: the account manager of customer xinghe-net "
        f"(ed0e5914c5e5fc0a8a8d3bcc812f2330) is declared twice; also declared at {path}:6:7"
    ) in result.stderr
    assert f"{path}:16:7" not in result.stderr or "declared twice" in result.stderr
    assert (
        "reseller tianfu-cloud (481e93b261dc952c7eebe1950ebb9fa6) from 2025063010300118 is "
        "declared twice" in result.stderr
    )
