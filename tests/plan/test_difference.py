"""DeepDiff-based field differences, as shown in stale-plan messages."""

from __future__ import annotations

import pytest

from reconciler.plan.difference import differences, dotted


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("root", "(the whole value)"),
        ("root['balance']", "balance"),
        ("root['before']['quotas'][1]", "before.quotas[1]"),
        ("root['it\\'s']", "it\\'s"),
    ],
)
def test_dotted(path: str, expected: str) -> None:
    assert dotted(path) == expected


def test_differences_name_every_field() -> None:
    old = {"balance": "30000.00", "quotas": ["a"], "gone": 1}
    new = {"balance": "29900.00", "quotas": ["a", "b"], "new": True}
    assert differences(old, new) == [
        "balance: '30000.00' -> '29900.00'",
        "gone: removed 1",
        "new: added True",
        "quotas[1]: added 'b'",
    ]
    assert differences(old, dict(old)) == []
