"""Broken manifests: every case reports the right file:line:col and message, all in one run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from reconciler.errors import ManifestError, ManifestProblem
from reconciler.manifests.load import load_desired
from reconciler.manifests.yamlstrict import Limits

CORPUS = Path(__file__).parent / "corpus"

# case (a file or directory under corpus/) -> [(position, fragment of the message)], in order
CASES: dict[str, list[tuple[str, str]]] = {
    "syntax-error.yaml": [("syntax-error.yaml:8:1", "YAML syntax error: did not find expected")],
    "tab-indentation.yaml": [("tab-indentation.yaml:6:1", "a tab: indent with spaces")],
    "duplicate-key.yaml": [
        ("duplicate-key.yaml:9:7", "duplicate key 'manager' (first defined at line 8)")
    ],
    "anchor.yaml": [("anchor.yaml:6:21", "anchors and aliases are not allowed (&quota)")],
    "alias.yaml": [
        ("alias.yaml:9:16", "anchors and aliases are not allowed (&amount)"),
        ("alias.yaml:11:16", "anchors and aliases are not allowed (*amount)"),
    ],
    "unknown-kind.yaml": [
        ("unknown-kind.yaml:2:7", "unknown kind 'ResellerQuotas' (did you mean 'ResellerQuota'?)"),
    ],
    "unknown-api-version.yaml": [
        ("unknown-api-version.yaml:1:13", "'partner-reconciler/v2' is not a supported apiVersion")
    ],
    "missing-api-version.yaml": [
        (
            "missing-api-version.yaml:1:1",
            "missing apiVersion (add apiVersion: partner-reconciler/v1)",
        )
    ],
    "missing-name.yaml": [("missing-name.yaml:4:3", "metadata: missing required property 'name'")],
    "unknown-property.yaml": [
        ("unknown-property.yaml:8:7", "missing required property 'balance'"),
        ("unknown-property.yaml:9:7", "unknown property 'balanse' (did you mean 'balance'?)"),
    ],
    "autorenew-no.yaml": [
        ("autorenew-no.yaml:8:18", "autoRenew: 'no' is not a boolean (use true or false)")
    ],
    "customer-id-int.yaml": [
        ("customer-id-int.yaml:9:19", 'customerId: 12345 must be a string (quote it: "12345")')
    ],
    "money-float.yaml": [
        (
            "money-float.yaml:9:16",
            "12.5 is not a money amount: write it as a quoted string with two decimals, "
            'e.g. "12.50"',
        )
    ],
    "money-three-decimals.yaml": [
        (
            "money-three-decimals.yaml:9:16",
            """'12.345' is not a money amount (use two decimals, e.g. "12.34")""",
        )
    ],
    "money-negative.yaml": [
        ("money-negative.yaml:9:16", "'-5.00' is not a money amount: amounts cannot be negative")
    ],
    "period-type.yaml": [
        ("period-type.yaml:9:19", "'month' is not one of MONTH, YEAR (did you mean 'MONTH'?)")
    ],
    "renew-times.yaml": [("renew-times.yaml:9:19", "100 is out of range (from 0 to 99)")],
    "deep-nesting.yaml": [("deep-nesting.yaml:6:50", "nested more than 32 levels deep")],
    "not-utf8.yaml": [("not-utf8.yaml:4:12", "not UTF-8 text (byte 0xe9)")],
    "empty.yaml": [("empty.yaml:1:1", "no manifests in this file")],
    "non-string-key.yaml": [
        ("non-string-key.yaml:9:9", 'key 12345 must be a string (quote it: "12345")')
    ],
    "explicit-tag.yaml": [("explicit-tag.yaml:8:18", "tag !!bool is not allowed")],
    "mixed-file.yaml": [("mixed-file.yaml:7:1", "document 2 is not a partner-reconciler manifest")],
    "customer-reference.yaml": [
        ("customer-reference.yaml:7:7", "needs 'customer' or 'customerId'"),
        ("customer-reference.yaml:8:7", "give only one of 'customer' or 'customerId', not both"),
    ],
    "nothing-to-manage.yaml": [
        ("nothing-to-manage.yaml:7:7", "nothing to manage: give at least one of 'autoRenew'"),
        ("nothing-to-manage.yaml:10:21", "serviceTypes: must not be empty"),
    ],
    "duplicates-in-file.yaml": [
        (
            "duplicates-in-file.yaml:14:9",
            "ResellerQuota 'same-name' is declared twice (also declared at "
            "duplicates-in-file.yaml:4:9)",
        ),
        (
            "duplicates-in-file.yaml:18:17",
            "reseller 'north' for distributor quota 'QT1' is declared twice",
        ),
        ("duplicates-in-file.yaml:30:19", "resource 'r-1' is declared twice"),
    ],
    "wrong-types.yaml": [
        ("wrong-types.yaml:6:15", "agencyName: must be a string, not a list"),
        ("wrong-types.yaml:7:20", "accountManagers: must be a list (- item), not a string"),
        ("wrong-types.yaml:9:16", "customers: must not be an empty list"),
        ("wrong-types.yaml:11:23", "'30' must be a number, not a string (write it without quotes)"),
        ("wrong-types.yaml:12:21", "1000 is not a money amount: write it as a quoted string"),
        ("wrong-types.yaml:13:12", "'1 hour' is not a duration"),
        ("wrong-types.yaml:14:12", "endpoint: is empty: give a mapping"),
    ],
    "duplicate-customer": [
        (
            "duplicate-customer/second.yaml:9:17",
            "customer 'acme' in AccountManagers is declared twice "
            "(also declared at duplicate-customer/first.yaml:7:17)",
        )
    ],
    "two-settings": [
        (
            "two-settings/b.yaml:2:7",
            "only one Settings document is allowed (the first is at two-settings/a.yaml:1:1)",
        )
    ],
    "no-manifests": [("no-manifests:1:1", "no manifests in this directory")],
}


def problems_for(*paths: str | Path, limits: Limits | None = None) -> list[ManifestProblem]:
    with pytest.raises(ManifestError) as caught:
        load_desired(list(paths), limits=limits)
    return caught.value.problems


@pytest.fixture(autouse=True)
def _in_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)


@pytest.mark.parametrize("case", sorted(CASES), ids=sorted(CASES))
def test_case_reports_position_and_message(case: str) -> None:
    problems = problems_for(case)
    got = [(str(p.position), str(p)) for p in problems]
    assert [where for where, _ in got] == [where for where, _ in CASES[case]], got
    for (_, text), (_, fragment) in zip(got, CASES[case], strict=True):
        assert fragment in text


def test_every_corpus_file_has_a_case() -> None:
    top = {p.name for p in CORPUS.iterdir()}
    assert top == set(CASES) | {"billion-laughs.yaml"}


def test_billion_laughs_is_refused_fast() -> None:
    start = time.perf_counter()
    problems = problems_for("billion-laughs.yaml")
    assert time.perf_counter() - start < 1.0
    assert str(problems[0]).startswith(
        "billion-laughs.yaml:6:20: spec.accountManagers: anchors and aliases are not allowed (&a)"
    )
    refused = [p for p in problems if "anchors and aliases" in p.message]
    assert len(refused) == 9 + 8 * 9  # nine anchors, eight lines of nine aliases


def test_oversized_file(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    limit = Limits().max_file_bytes
    big.write_bytes(b"apiVersion: partner-reconciler/v1\n" + b"#" * limit)
    [problem] = problems_for(big)
    assert problem.position.line == 1
    assert f"over the limit of {limit}" in problem.message


def test_all_problems_come_out_in_one_sorted_run() -> None:
    problems = problems_for(".")
    assert problems == sorted(problems)
    texts = [str(p) for p in problems]
    skipped_in_a_walk = {"empty.yaml", "no-manifests"}  # not manifests, so skipped in a walk
    for case, expected in CASES.items():
        if case in skipped_in_a_walk:
            continue
        for where, fragment in expected:
            # Other files take part now (e.g. the first Settings is another one): drop "(... at"
            short = fragment.split(" (also declared at")[0].split(" (the first is at")[0]
            assert any(t.startswith(f"{where}: ") and short in t for t in texts), (where, short)
