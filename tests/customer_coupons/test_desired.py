"""A CustomerCoupons document: its schema, what it builds, the checks that need no live data,
and what the manifest checksum covers."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from reconciler.kinds import customer_coupons
from reconciler.kinds.customer_coupons.desired import canonical, local_problems
from reconciler.manifests.loader import load_paths

from .builders import from_yaml

SCHEMA = json.loads(
    (Path(customer_coupons.__file__).parent / "schema.json").read_text(encoding="utf-8")
)
EXAMPLE = (
    Path(customer_coupons.__file__).parents[3] / "examples" / "manifests" / "customer-coupons.yaml"
)
HEAD = "apiVersion: partner-reconciler/v1\nkind: CustomerCoupons\nmetadata:\n  name: c\nspec:\n"

DOC = (
    HEAD
    + """\
  quota: "Q-1"
  customers:
    - customer: acme
      exclusive: true
      coupons:
        - faceValue: "500.00"
          validTime: "2026-01-01T00:00:00Z"
          expireTime: "2026-12-31T15:59:59Z"
          cloudServiceTypes: [hws.service.type.ec2]
          memo: welcome
        - faceValue: "20.00"
          quota: "Q-2"
    - customerId: "0a1b"
      resellerId: "r-1"
      coupons:
        - faceValue: "0.01"
          productIds: [p-1, p-2]
"""
)


def _errors(text: str) -> list[str]:
    import yaml

    data = yaml.safe_load(text)
    return sorted(e.message for e in Draft202012Validator(SCHEMA).iter_errors(data))


def test_the_schema_is_valid_and_accepts_the_example() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    for doc in load_paths([EXAMPLE]):
        assert list(Draft202012Validator(SCHEMA).iter_errors(dict(doc.content))) == []


REFUSED = [
    ('faceValue: "0.00"', "zero"),
    ('faceValue: "12.5"', "one decimal"),
    ('faceValue: "-1.00"', "negative"),
    ("faceValue: 12.50", "a float"),
    ('faceValue: "1.00", validTime: "2026-01-01"', "a date without time"),
    ('faceValue: "1.00", expireTime: "2026-01-01T00:00:00+08:00"', "not UTC"),
    ('faceValue: "1.00", cloudServiceTypes: []', "empty restriction"),
    ('faceValue: "1.00", productIds: [a, a]', "duplicate product"),
    ('faceValue: "1.00", productIds: [a,b,c,d,e,f,g,h,i,j,k]', "11 products"),
    ('faceValue: "1.00", faceVaule: "2.00"', "unknown property"),
]


@pytest.mark.parametrize(("coupon", "why"), REFUSED, ids=[w for _, w in REFUSED])
def test_the_schema_refuses(coupon: str, why: str) -> None:
    text = HEAD + f"  customers:\n    - customer: a\n      coupons:\n        - {{{coupon}}}\n"
    assert _errors(text), why


@pytest.mark.parametrize(
    "entry",
    [
        "{coupons: []}",
        "{customer: a, customerId: b, coupons: []}",
        "{customer: a, reseller: r, resellerId: s, coupons: []}",
        "{customer: a}",
    ],
    ids=["no-customer", "both-customer-keys", "both-reseller-keys", "no-coupons"],
)
def test_the_schema_refuses_entries(entry: str) -> None:
    assert _errors(HEAD + f"  customers:\n    - {entry}\n")


def test_a_document_builds_typed_entries_with_positions(tmp_path: Path) -> None:
    first, second = from_yaml(tmp_path, DOC)
    assert (first.customer.account_name, first.exclusive, first.reseller) == ("acme", True, None)
    a, b = first.coupons
    assert (a.face_value, a.quota_id, a.valid_time, a.cloud_service_types, a.memo) == (
        Decimal("500.00"), "Q-1", "2026-01-01T00:00:00Z", ("hws.service.type.ec2",), "welcome",
    )  # fmt: skip
    assert (b.quota_id, b.valid_time, b.expire_time, b.product_ids) == ("Q-2", None, None, None)
    assert (a.source.line, a.source.col, a.quota_source.line) == (11, 11, 6)
    assert b.quota_source.line == 17  # its own quota
    assert second.reseller is not None and second.reseller.reseller_id == "r-1"
    assert second.customer.customer_id == "0a1b" and not second.exclusive
    assert second.coupons[0].product_ids == ("p-1", "p-2")
    assert local_problems([first, second]) == []


def test_local_problems_at_their_lines(tmp_path: Path) -> None:
    entries = from_yaml(
        tmp_path,
        HEAD
        + """\
  customers:
    - customer: a
      coupons:
        - faceValue: "1.00"
          validTime: "2026-02-30T00:00:00Z"
    - customer: b
      coupons: []
    - customer: a
      coupons:
        - faceValue: "1.00"
          quota: q
          validTime: "2026-03-01T00:00:00Z"
          expireTime: "2026-03-01T00:00:00Z"
""",
    )
    problems = [str(p) for p in sorted(local_problems(entries))]
    assert problems == [
        f"{tmp_path}/coupons.yaml:9:11: quota: no quota: set quota here or spec.quota for the "
        "document",
        f"{tmp_path}/coupons.yaml:9:11: validTime: '2026-02-30T00:00:00Z' is not a date that "
        "exists",
        f"{tmp_path}/coupons.yaml:11:7: coupons: an empty list declares nothing: add exclusive: "
        "true to reclaim every usable coupon of this customer, or remove the entry",
        f"{tmp_path}/coupons.yaml:13:17: customer 'a' in CustomerCoupons is declared twice (also "
        f"declared at {tmp_path}/coupons.yaml:7:17); list all its coupons in one entry",
        f"{tmp_path}/coupons.yaml:15:11: expireTime: 2026-03-01T00:00:00Z is not after validTime "
        "2026-03-01T00:00:00Z",
    ]


def test_the_checksum_ignores_order_layout_and_names(tmp_path: Path) -> None:
    reordered = (
        HEAD.replace("name: c", "name: other")
        + """\
  customers:
    - customerId: "0a1b"        # moved up, keys reordered
      coupons:
        - productIds: [p-2, p-1]
          faceValue: "0.01"
          quota: "Q-1"
      resellerId: "r-1"
    - customer: acme
      exclusive: true
      coupons:
        - {faceValue: "20.00", quota: "Q-2"}
        - faceValue: "500.00"
          quota: "Q-1"
          memo: welcome
          cloudServiceTypes: [hws.service.type.ec2]
          validTime: "2026-01-01T00:00:00Z"
          expireTime: "2026-12-31T15:59:59Z"
"""
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert canonical(from_yaml(tmp_path / "a", DOC)) == canonical(
        from_yaml(tmp_path / "b", reordered)
    )
    changed = DOC.replace("memo: welcome", "memo: hello")
    (tmp_path / "c").mkdir()
    assert canonical(from_yaml(tmp_path / "c", changed)) != canonical(
        from_yaml(tmp_path / "a", DOC)
    )


def test_the_kind_checks_one_document_at_a_time_against_the_earlier_ones(tmp_path: Path) -> None:
    """The Kind's crosschecks see documents in file order: a customer declared again in a later
    document is reported there, naming the first; a document its schema rejected adds nothing."""
    from reconciler.kinds.customer_coupons.kind import CustomerCouponsKind

    entry = '  quota: "Q-1"\n  customers:\n    - customer: acme\n      coupons:\n'
    entry += '        - faceValue: "1.00"\n'
    for name, text in (("a.yaml", HEAD + entry), ("b.yaml", HEAD + entry)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(HEAD + "  customers: 7\n", encoding="utf-8")
    docs = load_paths([tmp_path / n for n in ("a.yaml", "b.yaml", "c.yaml")])
    kind = CustomerCouponsKind()
    check = kind.crosschecks()
    found = [[str(p) for p in check(doc)] for doc in docs]
    assert found == [
        [],
        [
            f"{tmp_path}/b.yaml:8:17: customer 'acme' in CustomerCoupons is declared twice (also "
            f"declared at {tmp_path}/a.yaml:8:17); list all its coupons in one entry"
        ],
        [],
    ]
    assert list(kind.crosschecks()(docs[1])) == []  # a fresh load remembers nothing
    assert list(kind.canonical(kind.build(docs[0]))) == canonical(kind.build(docs[0]))
