"""Fixtures for apply: a fresh embedded emulator and journal per test, driven through the CLI.

``Env`` runs ``reconciler`` in process (click's CliRunner) or as a real process (for crashes and
concurrent runs); both share the emulator state file and the journal through
``RECONCILER_STATE_DIR``. Faults go in through ``Env.emu`` (the same state file).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from reconciler.apply.journal import Journal
from reconciler.cli import main
from reconciler.emulator import DEFAULT_DOMAIN_ID, DEMO_SEED_PATH, Emulator
from reconciler.emulator.credentials import DEFAULT_PARTNER_AK, DEFAULT_PARTNER_SK
from reconciler.emulator.seed import load_document
from reconciler.emulator.server import make_server
from reconciler.kinds import registry

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "manifests"
DEMO_DOC: dict[str, Any] = load_document(DEMO_SEED_PATH)
ENTRY = "from reconciler.cli import main; main()"
#: Every write a registered kind journals (its operations).
WRITES = {op.name for kind in registry.KINDS for op in kind.operations}
CLEARED_ENV = (
    "RECONCILER_ENDPOINT",
    "RECONCILER_PROFILE",
    "RECONCILER_JOURNAL",
    "RECONCILER_CRASH_AT",
    "RECONCILER_AGENCY_NAME",
    "RECONCILER_RATE",
    "RECONCILER_IN_FLIGHT_HORIZON",
    "RECONCILER_RECORDS_CLOCK_SKEW",
    "RECONCILER_JOURNAL_URL",
    "HUAWEICLOUD_SDK_AK",
    "HUAWEICLOUD_SDK_SK",
    "HUAWEICLOUD_SDK_DOMAIN_ID",
)

# The demo seed (reconciler/emulator/seeds/demo.yaml).
MAIN = "2025063010300118"  # 500000.00, balance 445000.00
SECOND = "2025093014152207"  # 200000.00, balance 185000.00
TIANFU = "481e93b261dc952c7eebe1950ebb9fa6"  # 30000.00 from MAIN
QINLING = "23162efcb2a584eee62cda18a8955593"  # 18500.00 left of 25000.00 from MAIN
PENGCHENG = "91dfdf94a2eeb0d80e96a340e1e5e796"  # 15000.00 from SECOND
QINLING_CHILD = "2025081506220412"
NAMES = {TIANFU: "tianfu-cloud", QINLING: "qinling-digital", PENGCHENG: "pengcheng-cloud"}

SETTINGS = """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  operator: demo-distributor
  guards:
    maxChangePercent: 100
    maxIssuePerRun: "900000.00"
    maxIssuePerReseller: "%(per_reseller)s"
    maxReclaimsPerRun: 50
  planTtl: 1h
"""


def quota_manifest(targets: Mapping[str, Mapping[str, str]]) -> str:
    """ResellerQuota documents: parent quota -> {reseller id: balance}."""
    docs = []
    for n, (parent, balances) in enumerate(sorted(targets.items())):
        lines = [
            "apiVersion: partner-reconciler/v1",
            "kind: ResellerQuota",
            f"metadata: {{name: quota-{n}}}",
            "spec:",
            f'  distributorQuota: "{parent}"',
            "  resellers:",
        ]
        lines += [
            f'    - {{resellerId: "{rid}", balance: "{bal}"}}' for rid, bal in balances.items()
        ]
        docs.append("\n".join(lines))
    return "\n---\n".join(docs) + "\n"


@dataclass
class Env:
    root: Path
    runner: CliRunner = field(default_factory=CliRunner)
    initial: dict[str, Any] = field(default_factory=dict)
    #: a served emulator to use instead of the embedded one, and the environment that points at it
    served: Emulator | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.root / ".reconciler"

    @property
    def journal_file(self) -> Path:
        return self.state_dir / "journal.sqlite"

    @property
    def emu(self) -> Emulator:
        if self.served is not None:
            return self.served
        return Emulator(state_file=self.state_dir / "emulator-state.json", seed=DEMO_DOC)

    @property
    def env(self) -> dict[str, str]:
        # A higher rate than the API's 10/s keeps the tests fast; the embedded emulator enforces
        # the same rate, so pacing and throttling still apply.
        return {
            "RECONCILER_STATE_DIR": str(self.state_dir),
            "RECONCILER_RATE": "500",
            "NO_COLOR": "1",
            # A call sent less than this ago with no evidence is in flight: reruns that must
            # settle one pass --wait (the default, 35 minutes, suits the real API only).
            "RECONCILER_IN_FLIGHT_HORIZON": "1",
            **self.extra,
        }

    def manifests(
        self,
        targets: Mapping[str, Mapping[str, str]],
        *,
        per_reseller: str = "900000.00",
        name: str = "manifests",
    ) -> Path:
        folder = self.root / name
        folder.mkdir(exist_ok=True)
        (folder / "settings.yaml").write_text(SETTINGS % {"per_reseller": per_reseller})
        (folder / "quotas.yaml").write_text(quota_manifest(targets))
        return folder

    def cli(self, *args: str | Path, extra_env: Mapping[str, str] | None = None) -> Result:
        env = {**self.env, **(extra_env or {})}
        return self.runner.invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)

    def process(
        self, *args: str | Path, extra_env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env.update(self.env, **(extra_env or {}))
        return subprocess.run(
            [sys.executable, "-c", ENTRY, *(str(a) for a in args)],
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def popen(self, *args: str | Path, extra_env: Mapping[str, str] | None = None) -> Any:
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env.update(self.env, **(extra_env or {}))
        cmd = [sys.executable, "-c", ENTRY, *(str(a) for a in args)]
        return subprocess.Popen(
            cmd, env=env, cwd=self.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    # -- what the emulator saw -----------------------------------------------------------------

    def calls(self, operation: str | None = None) -> list[dict[str, Any]]:
        return self.emu.call_log(operation)

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        return [c for c in self.calls() if c["operation"] in WRITES and c["seq"] > since]

    def last_seq(self) -> int:
        calls = self.calls()
        return int(calls[-1]["seq"]) if calls else 0

    def state(self) -> dict[str, Any]:
        return self.emu.state()

    def balance(self, reseller: str, parent: str) -> Decimal:
        return balances(self.state())[(reseller, parent)]

    def issue_records(self, reseller: str) -> list[dict[str, Any]]:
        return [
            r
            for r in self.state()["records"][len(DEMO_DOC.get("records") or []) :]
            if r["operation_type"] == "10"
            and r["result"] == "0"
            and r["indirect_partner_id"] == reseller
        ]

    def journal_rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.journal_file) as db:
            return db.execute(sql, args).fetchall()


def balances(state: Mapping[str, Any]) -> dict[tuple[str, str], Decimal]:
    """(reseller, parent) -> the valid children's total, and (parent, "") -> the parent's."""
    out: dict[tuple[str, str], Decimal] = {}
    for q in state["quotas"].values():
        if q["indirect_partner_id"] is None:
            out[(q["quota_id"], "")] = Decimal(q["balance"])
        elif q["quota_status"] == 0:
            key = (q["indirect_partner_id"], q["parent_quota_id"])
            out[key] = out.get(key, Decimal("0.00")) + Decimal(q["balance"])
    return out


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / ".reconciler"))
    made = Env(tmp_path)
    made.initial = made.state()  # also creates the state file from the demo seed
    yield made


@contextmanager
def serving(
    env: Env, seed: Mapping[str, Any], state_file: Path | None = None, **extra: str
) -> Iterator[Env]:
    """``env`` against the emulator served over HTTP (in a thread of the test process), with the
    partner's own credentials: real processes talk to it as to the real API."""
    srv = make_server("127.0.0.1", 0, state_file=state_file, seed=seed, rate_limit=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    env.served = srv.emulator
    env.extra = {
        "RECONCILER_ENDPOINT": srv.url,
        "HUAWEICLOUD_SDK_AK": DEFAULT_PARTNER_AK,
        "HUAWEICLOUD_SDK_SK": DEFAULT_PARTNER_SK,
        "HUAWEICLOUD_SDK_DOMAIN_ID": DEFAULT_DOMAIN_ID,
        **extra,
    }
    env.initial = env.state()
    try:
        yield env
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


@pytest.fixture
def served_env(env: Env) -> Iterator[Env]:
    """``env`` against the demo seed served over HTTP, its state in a file."""
    with serving(env, DEMO_DOC, env.root / "served-state.json") as served:
        yield served


def wait_for(predicate: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out")


def journal_money(
    env: Env, journal: str | Path | None = None
) -> dict[tuple[str, str, str], Decimal]:
    """(operation, reseller, parent) -> the committed amount the journal accounts for."""
    out: dict[tuple[str, str, str], Decimal] = {}
    jrnl = Journal.open(journal or env.journal_file)
    try:
        for op in jrnl.operations():
            if op.operation not in ("update_coupon_quotas", "reclaim_coupon_quotas"):
                continue
            for item in op.items:
                if item.committed and item.amount is not None:
                    key = (op.operation, str(item.reseller_id), op.target)
                    out[key] = out.get(key, Decimal("0.00")) + Decimal(item.amount)
    finally:
        jrnl.close()
    return out


def assert_money_invariant(
    env: Env,
    external: Mapping[tuple[str, str], Decimal] | None = None,
    journal: str | Path | None = None,
) -> None:
    """initial + issued - reclaimed = live, per reseller and per parent quota, exactly.

    Issued and reclaimed come from the journal (what apply says it did), and the emulator's own
    issue/reclaim records must agree with it, so every committed call is accounted for exactly
    once. ``external``: (reseller, parent) -> value someone else issued through the API meanwhile.
    """
    zero = Decimal("0.00")
    issue, reclaim = "update_coupon_quotas", "reclaim_coupon_quotas"
    external = dict(external or {})
    initial, live = balances(env.initial), balances(env.state())
    moved = journal_money(env, journal)
    expected_records = dict(moved)
    for (rid, parent), value in external.items():
        expected_records[(issue, rid, parent)] = (
            expected_records.get((issue, rid, parent), zero) + value
        )
    records: dict[tuple[str, str, str], Decimal] = {}
    for r in env.state()["records"][len(env.initial["records"]) :]:
        if r["result"] == "0":
            key = (
                issue if r["operation_type"] == "10" else reclaim,
                r["indirect_partner_id"],
                r["parent_quota_id"],
            )
            records[key] = records.get(key, zero) + Decimal(r["amount"])
    assert records == expected_records
    for rid, parent in {k for k in (*initial, *live) if k[1] != ""}:
        want = (
            initial.get((rid, parent), zero)
            + moved.get((issue, rid, parent), zero)
            - moved.get((reclaim, rid, parent), zero)
            + external.get((rid, parent), zero)
        )
        assert live.get((rid, parent), zero) == want, (rid, parent)
    # the distributor quotas resellers' quotas come from (a quota for customer coupons moves
    # with its coupons: tests/apply/coupons.py has that invariant)
    parents = {k[1] for k in (*initial, *live) if k[1]} | {k[2] for k in expected_records}
    for parent in {k[0] for k in initial if k[1] == ""} & parents:
        out = sum(
            (v for k, v in expected_records.items() if k[0] == issue and k[2] == parent), zero
        )
        back = sum((v for k, v in moved.items() if k[0] == reclaim and k[2] == parent), zero)
        assert live[(parent, "")] == initial[(parent, "")] - out + back, parent
