"""The fast "is this manifest valid?" check: our compiler against fastjsonschema and jsonschema-rs.

``reconciler.manifests.validation`` asks a fast check first and runs ``jsonschema`` only when the
check says *not valid*, for the messages. So a candidate must never say *valid* where jsonschema
(with the ECMA-262 ``$`` of our patterns) says *invalid*: that would hide an error. Measured here:

* speed: each candidate on large real manifests (YAML written like examples/manifests and loaded
  with the reconciler's own strict loader), microseconds per list entry, best of 3;
* verdicts: every document of the manifest test corpus, the good set and the examples, plus
  hostile variants of the examples (each string with a trailing newline, each scalar swapped for
  a value of another type), against jsonschema's verdict;
* messages: ``validate_documents`` over the corpus with the candidate as the fast check, compared
  with jsonschema alone (every message with its file:line:col).
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import fastjsonschema

from bench.replaced.fastschema_closures import compile_schema as compile_closures
from reconciler.manifests import validation
from reconciler.manifests.fastschema import compile_schema as compile_jsonschema_rs
from reconciler.manifests.loader import Document, load_documents, load_paths

REPO = Path(__file__).resolve().parents[1]
CORPUS_DIRS = ("tests/manifests/corpus", "tests/manifests/good", "examples/manifests")
Check = Callable[[object], bool]
Compiler = Callable[[Mapping[str, Any]], Check]


def _fastjsonschema(schema: Mapping[str, Any]) -> Check:
    validate = fastjsonschema.compile(copy.deepcopy(dict(schema)))

    def check(value: object) -> bool:
        try:
            validate(value)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return check


def _jsonschema(schema: Mapping[str, Any]) -> Check:
    kind = next(
        k for k, f in validation.SCHEMA_FILES.items() if validation.load_schema(f) == schema
    )
    validator: Any = validation.validator_for(kind)
    return lambda value: bool(validator.is_valid(value))


#: name -> compiler; the first is the baseline of the ratios, the last the ground truth.
CANDIDATES: dict[str, Compiler] = {
    "ours: closures (replaced)": compile_closures,
    "fastjsonschema": _fastjsonschema,
    "jsonschema-rs (kept)": compile_jsonschema_rs,
    "jsonschema alone": _jsonschema,
}


@dataclass
class SchemaFigures:
    name: str
    compile_ms: float
    us_per_entry: float
    entries: int
    unsafe: int  # said valid where jsonschema says invalid: hides an error
    slow_path: int  # said invalid where jsonschema says valid: jsonschema runs for nothing
    verdicts: int
    messages_identical: bool


def large_manifests(directory: Path, customers: int) -> list[Document]:
    """Account managers and auto-renew for ``customers`` customers, 500 reseller balances."""
    head = "apiVersion: partner-reconciler/v1\nkind: {kind}\nmetadata:\n  name: {name}\nspec:\n"
    managers = [head.format(kind="AccountManagers", name="all-managers"), "  customers:\n"]
    renew = [head.format(kind="AutoRenew", name="all-renewals"), "  customers:\n"]
    for i in range(customers):
        managers.append(f"    - {{customer: cust-{i:06d}, manager: manager-{i % 40:02d}}}\n")
        renew.append(f"    - customer: cust-{i:06d}\n      autoRenew: {str(i % 3 > 0).lower()}\n")
        if i % 4 == 0:
            renew.append("      periodType: YEAR\n      renewTimes: 2\n")
        if i % 5 == 0:
            renew.append("      serviceTypes:\n        hws.service.type.rds: false\n")
    quotas = [head.format(kind="ResellerQuota", name="main-quota")]
    quotas.append('  distributorQuota: "2025063010300118"\n  resellers:\n')
    for i in range(500):
        quotas.append(f'    - reseller: reseller-{i:03d}\n      balance: "{i * 10}.00"\n')
    for name, lines in (("managers", managers), ("renew", renew), ("quotas", quotas)):
        (directory / f"{name}.yaml").write_text("".join(lines), encoding="utf-8")
    return load_paths([directory])


def corpus_documents() -> list[Document]:
    docs: list[Document] = []
    for folder in CORPUS_DIRS:
        for path in sorted((REPO / folder).iterdir()):
            docs.extend(d for d in load_documents([path]).documents if _kind(d) is not None)
    return docs


def _kind(doc: Document) -> str | None:
    kind = doc.content.get("kind")
    return kind if isinstance(kind, str) and kind in validation.SCHEMA_FILES else None


def hostile_variants(value: object) -> Iterator[object]:
    """``value`` with one leaf changed: a trailing newline on a string, a scalar of another type."""
    if isinstance(value, dict):
        for key, item in value.items():
            for changed in hostile_variants(item):
                yield {**value, key: changed}
    elif isinstance(value, list):
        for i, item in enumerate(value):
            for changed in hostile_variants(item):
                yield [*value[:i], changed, *value[i + 1 :]]
    elif isinstance(value, str):
        yield from (value + "\n", value + "\n\n", 1, True, None)
    elif isinstance(value, bool):
        yield from ("yes", 1, None)
    elif isinstance(value, int):
        yield from (str(value), True, -value, 10**20)


def _entries(docs: Sequence[Document]) -> int:
    total = 0
    for doc in docs:
        spec: Any = doc.content.get("spec", {})
        total += len(spec.get("customers", ())) + len(spec.get("resellers", ()))
    return total


def _time_checks(checks: Mapping[str, Check], docs: Sequence[Document]) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for doc in docs:
            checks[str(_kind(doc))](doc.content)
        best = min(best, time.perf_counter() - start)
    return best


def _verdicts(checks: Mapping[str, Check], docs: Sequence[Document]) -> tuple[int, int, int]:
    unsafe = slow = total = 0
    cases: list[tuple[str, Any]] = [(str(_kind(d)), d.content) for d in docs]
    for doc in docs:
        if "examples/" in doc.file:  # the examples: also their hostile variants
            cases += [(str(_kind(doc)), v) for v in hostile_variants(doc.content)]
    for kind, value in cases:
        truth = validation.validator_for(kind).is_valid(value)
        said = checks[kind](value)
        unsafe += said and not truth
        slow += truth and not said
        total += 1
    return unsafe, slow, total


def _messages(compiler: Compiler, docs: Sequence[Document]) -> list[str]:
    checks = {
        kind: compiler(validation.load_schema(f)) for kind, f in validation.SCHEMA_FILES.items()
    }
    with mock.patch.object(validation, "_fast_check", lambda kind: checks[kind]):
        return [str(p) for p in validation.validate_documents(docs)]


def measure(customers: int = 100_000) -> list[SchemaFigures]:
    corpus = corpus_documents()
    with tempfile.TemporaryDirectory() as tmp:
        big = large_manifests(Path(tmp), customers)
    truth = _messages(lambda _schema: lambda _value: False, corpus)  # jsonschema alone
    figures = []
    for name, compiler in CANDIDATES.items():
        start = time.perf_counter()
        checks = {
            kind: compiler(validation.load_schema(f)) for kind, f in validation.SCHEMA_FILES.items()
        }
        compile_ms = (time.perf_counter() - start) * 1000
        seconds = _time_checks(checks, big)
        unsafe, slow, total = _verdicts(checks, corpus)
        same = _messages(compiler, corpus) == truth
        figures.append(
            SchemaFigures(
                name,
                compile_ms,
                seconds / _entries(big) * 1e6,
                _entries(big),
                unsafe,
                slow,
                total,
                same,
            )
        )
    return figures
