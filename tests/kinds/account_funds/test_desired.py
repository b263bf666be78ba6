"""AccountFunds manifests: the schema, the typed entries, and the checks the schema cannot make."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reconciler.kinds.account_funds import desired
from reconciler.manifests.loader import Document, load_documents

D = Decimal
SCHEMA = json.loads((Path(desired.__file__).parent / "schema.json").read_text(encoding="utf-8"))
HEAD = "apiVersion: partner-reconciler/v1\nkind: AccountFunds\nmetadata:\n  name: {name}\nspec:\n"
GOOD = (
    HEAD.format(name="cash")
    + """\
  customers:
    - customer: xinghe-net
      topUpTo: "5000.00"
      atMost: "20000.00"
    - customerId: "bf71f3f9e4cc1dcc8dc09121aa1be99c"
      resellerId: "481e93b261dc952c7eebe1950ebb9fa6"
      topUpTo: "3000.00"
  resellers:
    - reseller: qinling-digital
      atMost: "20000.00"
"""
)


def documents(tmp_path: Path, *texts: str) -> list[Document]:
    path = tmp_path / "funds.yaml"
    path.write_text("---\n".join(texts), encoding="utf-8")
    result = load_documents([path])
    assert not result.problems, result.problems
    return list(result.documents)


def test_entries_carry_their_bounds_and_positions(tmp_path: Path) -> None:
    (doc,) = documents(tmp_path, GOOD)
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(dict(doc.content))) == []
    first, second, third = desired.entries(doc)
    assert (first.text, first.bounds.floor, first.bounds.cap) == (
        "customer 'xinghe-net'", D("5000.00"), D("20000.00"))  # fmt: skip
    assert (str(first.source), str(first.floor_source), str(first.cap_source)) == (
        f"{tmp_path}/funds.yaml:7:7", f"{tmp_path}/funds.yaml:8:16",
        f"{tmp_path}/funds.yaml:9:15")  # fmt: skip
    assert second.text == (
        "customerId 'bf71f3f9e4cc1dcc8dc09121aa1be99c' of "
        "resellerId '481e93b261dc952c7eebe1950ebb9fa6'"
    )
    assert (second.bounds.cap, second.cap_source) == (None, None)
    assert third.for_reseller and third.text == "reseller 'qinling-digital'"
    assert desired.problems([doc]) == []


def test_the_canonical_content_ignores_order_and_positions(tmp_path: Path) -> None:
    (doc,) = documents(tmp_path, GOOD)
    items = desired.entries(doc)
    assert list(desired.canonical(items)) == list(desired.canonical(list(reversed(items))))
    assert {"reseller": "qinling-digital", "topUpTo": None, "atMost": "20000.00"} in list(
        desired.canonical(items)
    )


def errors(spec: str) -> list[str]:
    import yaml

    content: Any = yaml.safe_load(HEAD.format(name="x") + spec)
    return sorted(e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(content))


@pytest.mark.parametrize(
    "spec",
    [
        "  customers:\n    - customer: a\n",
        "  customers:\n    - customer: a\n      customerId: b\n      topUpTo: \"1.00\"\n",
        "  customers:\n    - topUpTo: \"1.00\"\n",
        "  customers:\n    - customer: a\n      topUpTo: \"1.5\"\n",
        "  customers:\n    - customer: a\n      topUpTo: \"-1.00\"\n",
        "  customers:\n    - customer: a\n      topUpTo: \"1.00\"\n      balance: \"1.00\"\n",
        "  {}\n",
        "  resellers:\n    - reseller: a\n      resellerId: b\n      atMost: \"1.00\"\n",
        "  resellers:\n    - reseller: a b\n      atMost: \"1.00\"\n",
    ],
    ids=["no-bound", "name-and-id", "no-customer", "one-decimal", "negative", "unknown-key",
         "empty-spec", "reseller-name-and-id", "space-in-name"],
)  # fmt: skip
def test_the_schema_refuses(spec: str) -> None:
    assert errors(spec) != []


def test_what_the_schema_cannot_say(tmp_path: Path) -> None:
    bad = HEAD.format(name="a") + (
        "  customers:\n"
        '    - customer: acme\n      topUpTo: "20.00"\n      atMost: "10.00"\n'
        '    - customer: bob\n      reseller: r\n      resellerId: "1"\n      topUpTo: "1.00"\n'
        '  resellers:\n    - reseller: r\n      atMost: "1.00"\n'
    )
    again = HEAD.format(name="b") + (
        '  customers:\n    - customer: acme\n      topUpTo: "1.00"\n'
        '    - customer: acme\n      reseller: r\n      topUpTo: "1.00"\n'
        '  resellers:\n    - reseller: r\n      topUpTo: "1.00"\n'
    )
    found = [(p.position.line, p.path, p.message)
             for p in sorted(desired.problems(documents(tmp_path, bad, again)))]  # fmt: skip
    assert found == [
        (8, "spec.customers[0].topUpTo",
         "topUpTo 20.00 is above atMost 10.00: the floor must not exceed the cap "
         "(lower topUpTo or raise atMost)"),
        (10, "spec.customers[1]", "give only one of reseller or resellerId, not both"),
        (24, "spec.customers[0].customer",
         f"customer 'acme' in AccountFunds is declared twice (also declared at "
         f"{tmp_path}/funds.yaml:7:17)"),
        (30, "spec.resellers[0].reseller",
         f"reseller 'r' in AccountFunds is declared twice (also declared at "
         f"{tmp_path}/funds.yaml:15:17)"),
    ]  # fmt: skip


def test_the_example_is_valid_and_clean() -> None:
    path = Path(__file__).resolve().parents[3] / "examples" / "manifests" / "account-funds.yaml"
    loaded = load_documents([path])
    assert not loaded.problems, loaded.problems
    (doc,) = loaded.documents
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(dict(doc.content))) == []
    assert desired.problems([doc]) == []
    assert len(desired.entries(doc)) == 7
