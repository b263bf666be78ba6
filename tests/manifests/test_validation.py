"""Schema messages for single values, table-driven over small inline manifests."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import ManifestError
from reconciler.manifests.loader import load_paths
from reconciler.manifests.validation import money_message, validate, validate_documents

ENTRY = """\
apiVersion: partner-reconciler/v1
kind: {kind}
metadata:
  name: case
spec:
{spec}
"""


def problems(tmp_path: Path, kind: str, spec: str) -> list[str]:
    path = tmp_path / "m.yaml"
    path.write_text(ENTRY.format(kind=kind, spec=spec), encoding="utf-8")
    return [f"{p.path}: {p.message}" for p in validate_documents(load_paths([path]))]


QUOTA = '  distributorQuota: "QT1"\n  resellers:\n    - {{reseller: north, balance: {}}}'
RENEW = "  customers:\n    - customer: acme\n      {}"
MANAGERS = "  customers:\n    - {}"
COUPONS = '  quota: "Q1"\n  customers:\n    - customer: acme\n      coupons:\n        - {{{}}}'


@pytest.mark.parametrize(
    ("kind", "spec", "expected"),
    [
        ("ResellerQuota", QUOTA.format('"5000.00"'), []),
        ("ResellerQuota", QUOTA.format('"0.00"'), []),
        (
            "ResellerQuota",
            QUOTA.format('"5000"'),
            [
                """spec.resellers[0].balance: '5000' is not a money amount """
                """(use two decimals, e.g. "5000.00")"""
            ],
        ),
        (
            "ResellerQuota",
            QUOTA.format('"1000000000000.00"'),
            [
                "spec.resellers[0].balance: '1000000000000.00' is not a money amount: "
                "at most 999999999999.99"
            ],
        ),
        (
            "ResellerQuota",
            QUOTA.format("5000"),
            [
                "spec.resellers[0].balance: 5000 is not a money amount: write it as a quoted "
                'string with two decimals, e.g. "5000.00"'
            ],
        ),
        ("AccountManagers", MANAGERS.format("{customerId: 0123, manager: alice}"), []),
        ("AccountManagers", MANAGERS.format("{customerId: !!str 12345, manager: alice}"), []),
        ("AccountManagers", MANAGERS.format("{customer: acme, manager: null}"), []),
        ("AccountManagers", MANAGERS.format("{customer: acme, manager: }"), []),
        (
            "AccountManagers",
            MANAGERS.format("{customer: acme}"),
            ["spec.customers[0]: missing required property 'manager'"],
        ),
        (
            "AccountManagers",
            MANAGERS.format("{customer: 'two words', manager: x}"),
            ["spec.customers[0].customer: 'two words' must not contain spaces"],
        ),
        (
            "AccountManagers",
            MANAGERS.format("{customer: " + "a" * 65 + ", manager: x}"),
            [f"spec.customers[0].customer: '{'a' * 57}...' is longer than 64 characters"],
        ),
        (
            "AccountManagers",
            MANAGERS.format("{customerID: '42', manager: x}"),
            [
                "spec.customers[0]: needs 'customer' or 'customerId'",
                "spec.customers[0].customerID: unknown property 'customerID' "
                "(did you mean 'customerId'?)",
            ],
        ),
        ("AutoRenew", RENEW.format("autoRenew: false"), []),
        (
            "AutoRenew",
            RENEW.format("autoRenew: 'true'"),
            ["spec.customers[0].autoRenew: 'true' is not a boolean (use true or false)"],
        ),
        (
            "AutoRenew",
            RENEW.format("autoRenew: 1"),
            ["spec.customers[0].autoRenew: 1 is not a boolean (use true or false)"],
        ),
        (
            "AutoRenew",
            RENEW.format("autoRenew: true\n      renewTimes: 2.5"),
            ["spec.customers[0].renewTimes: 2.5 is not a whole number"],
        ),
        (
            "AutoRenew",
            RENEW.format("serviceTypes: {ebs: true}"),
            [
                "spec.customers[0].serviceTypes.ebs: key 'ebs' is not a service type code "
                "(e.g. hws.service.type.ebs)"
            ],
        ),
        (
            "CustomerCoupons",
            COUPONS.format('faceValue: "0.00", expireTime: "2026-01-01 00:00"'),
            [
                "spec.customers[0].coupons[0].faceValue: '0.00' is not an amount more than zero "
                'with two decimals, e.g. "500.00"',
                "spec.customers[0].coupons[0].expireTime: '2026-01-01 00:00' is not a UTC "
                "time written 2026-01-01T00:00:00Z",
            ],
        ),
        (
            "CustomerCoupons",
            COUPONS.format('faceValue: "1.00", validTime: "2026-02-30T00:00:00Z"'),
            ["validTime: '2026-02-30T00:00:00Z' is not a date that exists"],
        ),
        (
            "AutoRenew",
            RENEW.format("resources: {r-1: 'yes'}"),
            ["""spec.customers[0].resources["r-1"]: 'yes' is not a boolean (use true or false)"""],
        ),
        (
            "Settings",
            "  accountManagers: [alice, bob, alice]",
            ["spec.accountManagers[2]: 'alice' is listed twice"],
        ),
        (
            "Settings",
            "  planTtl: 0h",
            ["spec.planTtl: '0h' is not a duration: a number and a unit s, m, h or d, e.g. \"1h\""],
        ),
        (
            "Settings",
            "  guards: {maxChangePercent: 101}",
            ["spec.guards.maxChangePercent: 101 is out of range (from 0 to 100)"],
        ),
        (
            "Settings",
            "  guards: {minObjects: -1}",
            ["spec.guards.minObjects: -1 is out of range (must be at least 0)"],
        ),
        ("Settings", "  endpoint:\n    profile: |\n      default", None),
    ],
)
def test_messages(tmp_path: Path, kind: str, spec: str, expected: list[str] | None) -> None:
    got = problems(tmp_path, kind, spec)
    if expected is None:
        assert len(got) == 1
        assert "must not contain spaces" in got[0]  # a block scalar ends in a newline
    else:
        assert got == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("metadata: {name: x}\nspec: {}", "missing 'kind' (one of AccountFunds, AccountManagers"),
        ("kind: [AutoRenew]\nmetadata: {name: x}\nspec: {}", "unknown kind a list; valid kinds"),
        ("kind: Settings\nspec: {}", "missing required property 'metadata'"),
        ("kind: Settings\nmetadata: {name: -x}\nspec: {}", "'-x' is not a valid name"),
        ("kind: Settings\nmetadata: {name: x}\nspecs: {}", "unknown property 'specs' (did you"),
    ],
)
def test_envelope(tmp_path: Path, head: str, expected: str) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: partner-reconciler/v1\n" + head + "\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        validate(load_paths([path]))
    assert any(expected in str(p) for p in caught.value.problems), caught.value


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("12.5", 'e.g. "12.50"'),
        ("12.345", 'e.g. "12.34"'),
        ("abc", 'e.g. "12.34"'),
        ("012.00", 'e.g. "12.00"'),
        (" -1.00", "cannot be negative"),
        (True, "true is not a money amount"),
    ],
)
def test_money_message(value: object, fragment: str) -> None:
    assert fragment in money_message(value)
