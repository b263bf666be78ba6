"""AccountFunds through the CLI against the emulator: manifests, the cash and the money invariant.

The ``env`` fixture is apply's (tests/apply/conftest.py): a fresh embedded emulator on the demo
seed and a fresh journal per test, the CLI in process or as real processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from reconciler.apply.journal import Journal
from reconciler.bss.cash import ADJUST, RETRIEVE
from reconciler.emulator import cash as emulator_cash
from tests.apply.conftest import Env
from tests.apply.scenarios import second_writer

__all__ = ["Env"]

D = Decimal
ZERO = D("0.00")

# The demo seed's cash (reconciler/emulator/seeds/demo.yaml).
XINGHE = "ed0e5914c5e5fc0a8a8d3bcc812f2330"  # 12000.00
JINQIAO = "2e84c4adef4eac7091036bae10449f8c"  # 5000.00
RUIXIN = "d7f5b2700f8252c9add664552a99c790"  # 800.00
HAINA = "b074af1606988abdddec41d09327c6a9"  # 20000.00
LINGYUN = "1e7b4d0f27f893eeb9e53607e347368e"  # 0.00, debt 150.00
MINGYUAN = "2ed176e54e0f4fe0526ca05a24585426"  # a referral customer
SHU = "bf71f3f9e4cc1dcc8dc09121aa1be99c"  # shu-brocade, tianfu's customer, 3000.00
HUASHAN = "b8db2ba7da789af1d58c3a0b02bec420"  # huashan-tea, qinling's customer, 1200.00
TIANFU = "481e93b261dc952c7eebe1950ebb9fa6"  # allocatable 57000.00
QINLING = "23162efcb2a584eee62cda18a8955593"  # allocatable 23800.00, 5000.00 designated
PENGCHENG = "91dfdf94a2eeb0d80e96a340e1e5e796"  # allocatable 12000.00
PARTNER = "partner"  # the partner's own allocatable account: 800000.00, 50000.00 designated

FUND_CUSTOMER = "update_customer_account_amount"
RECLAIM_CUSTOMER = "reclaim_to_partner_account"
FUND_RESELLER = "update_indirect_partner_account"
RECLAIM_RESELLER = "reclaim_indirect_partner_account"
TRANSFERS = (FUND_CUSTOMER, RECLAIM_CUSTOMER, FUND_RESELLER, RECLAIM_RESELLER)
LEDGER = "list_partner_adjust_records"

SETTINGS = """\
apiVersion: partner-reconciler/v1
kind: Settings
metadata: {name: settings}
spec:
  guards:
    maxChangePercent: 100
%(guards)s  planTtl: 1h
"""


@dataclass(frozen=True)
class Want:
    """One AccountFunds entry: ``who`` is a customer or reseller id, or ``name:<account name>``."""

    who: str
    floor: str | None = None
    cap: str | None = None
    reseller: str | None = None  # for a reseller's customer

    def line(self, key: str) -> str:
        field = f"{key}Id" if not self.who.startswith("name:") else key
        value = self.who.removeprefix("name:")
        parts = [f'{field}: "{value}"']
        if self.reseller:
            parts.append(f'resellerId: "{self.reseller}"')
        if self.floor:
            parts.append(f'topUpTo: "{self.floor}"')
        if self.cap:
            parts.append(f'atMost: "{self.cap}"')
        return "    - {" + ", ".join(parts) + "}"


def funds_manifest(customers: Iterable[Want] = (), resellers: Iterable[Want] = ()) -> str:
    lines = ["apiVersion: partner-reconciler/v1", "kind: AccountFunds",
             "metadata: {name: cash}", "spec:"]  # fmt: skip
    customers, resellers = list(customers), list(resellers)
    if customers:
        lines += ["  customers:", *(w.line("customer") for w in customers)]
    if resellers:
        lines += ["  resellers:", *(w.line("reseller") for w in resellers)]
    return "\n".join(lines) + "\n"


def manifests(
    env: Env,
    customers: Iterable[Want] = (),
    resellers: Iterable[Want] = (),
    *,
    guards: Mapping[str, str] | None = None,
    name: str = "funds",
) -> Path:
    folder = env.root / name
    folder.mkdir(exist_ok=True)
    limits = {"maxCashPerRun": "900000.00", "maxCashPerRecipient": "900000.00",
              "maxCashReclaimPerRun": "900000.00", **(guards or {})}  # fmt: skip
    text = "".join(f'    {k}: "{v}"\n' for k, v in limits.items())
    (folder / "settings.yaml").write_text(SETTINGS % {"guards": text}, encoding="utf-8")
    (folder / "funds.yaml").write_text(funds_manifest(customers, resellers), encoding="utf-8")
    return folder


def cash(state: Mapping[str, Any]) -> dict[str, Decimal]:
    """Recipient -> its cash: a customer's net (amount - debt), an owner's allocatable amount
    (the partner's under :data:`PARTNER`)."""
    out: dict[str, Decimal] = {}
    for account in state["accounts"].values():
        if account["account_type"] == emulator_cash.ALLOCATABLE:
            out[account["owner"] or PARTNER] = D(account["amount"])
    for cid, customer in state["customers"].items():
        if customer["association_type"] == "2":
            out[cid] = D(customer["amount"]) - D(customer["debt_amount"])
    return out


def writes(env: Env, since: int = 0) -> list[dict[str, Any]]:
    return [c for c in env.calls() if c["operation"] in TRANSFERS and c["seq"] > since]


def new_records(env: Env) -> list[dict[str, Any]]:
    """The ledger records written since the test began (the demo seed has 10)."""
    return list(env.state()["adjust_records"][len(env.initial["adjust_records"]) :])


@dataclass(frozen=True)
class Moved:
    operation: str
    recipient: str
    owner: str | None
    amount: Decimal
    record_id: str | None


def journal_moves(journal: str | Path) -> list[Moved]:
    """Every transfer the journal says took effect."""
    jrnl = Journal.open(journal)
    try:
        out = []
        for op in jrnl.operations():
            if op.operation not in TRANSFERS:
                continue
            owner = op.request.get("indirect_partner_id") if "customer_id" in op.request else None
            for item in op.items:
                if item.committed:
                    out.append(Moved(op.operation, item.item_id, owner, D(str(item.amount)),
                                     item.record_id))  # fmt: skip
        return out
    finally:
        jrnl.close()


def assert_cash_invariant(
    env: Env,
    journal: str | Path | None = None,
    external: Mapping[str, Decimal] | None = None,
    outside: int = 0,
) -> None:
    """Every ledger record since the test began is one committed transfer of the journal (its
    ``trans_id`` is the item's record id; a transfer a person settled by hand has none, and
    accounts for one record of its recipient, type, amount and ledger) but ``outside`` records
    someone else made, and every account and customer holds exactly its initial cash plus what
    the journal (and ``external``: recipient or source -> net change by someone else) says
    moved."""
    moves = journal_moves(journal or env.journal_file)
    external = dict(external or {})
    records = {r["trans_id"]: r for r in new_records(env)}
    linked = [m for m in moves if m.record_id is not None]
    ours = {m.record_id: m for m in linked}
    assert len(ours) == len(linked), "a record attributed twice"
    for trans_id, move in ours.items():
        assert _fits(records.pop(str(trans_id)), move), move
    for move in (m for m in moves if m.record_id is None):  # settled by hand
        trans_id = next(t for t, r in records.items() if _fits(r, move))
        del records[trans_id]
    assert len(records) == outside, f"ledger records the journal does not account for: {records}"
    want = cash(env.initial)
    for m in moves:
        fund = m.operation in (FUND_CUSTOMER, FUND_RESELLER)
        source = m.owner or PARTNER
        want[m.recipient] += m.amount if fund else -m.amount
        want[source] += -m.amount if fund else m.amount
    for who, value in external.items():
        want[who] += value
    assert cash(env.state()) == want


def _fits(record: Mapping[str, Any], move: Moved) -> bool:
    fund = move.operation in (FUND_CUSTOMER, FUND_RESELLER)
    return (
        record["customer_id"] == move.recipient
        and record["operation_type"] == (ADJUST if fund else RETRIEVE)
        and D(record["amount"]) == move.amount
        and record["owner"] == move.owner
    )


def outside_transfer(
    env: Env, recipient: str, amount: str, *, reclaim: bool = False, owner: str | None = None
) -> None:
    """Someone else (a person in Partner Center, another tool) moves cash for ``recipient``."""
    emu = env.emu

    def act(state: Any) -> None:
        t = emulator_cash.Transfer(D(amount), emu.clock.time(), owner)
        if recipient in state.resellers:
            to_reseller = emulator_cash.reclaim_reseller if reclaim else emulator_cash.fund_reseller
            to_reseller(state, recipient, t)
        else:
            customer = state.customers[recipient]
            to_customer = emulator_cash.reclaim_customer if reclaim else emulator_cash.fund_customer
            to_customer(state, customer, t)

    emu._mutate(act)


def second_writer_stopped(env: Env, folder: Path, laptop: Mapping[str, str]) -> str:
    """Two applies with two journals: the laptop's run (``laptop``: its journal, maybe its
    gateway) reads the recipient's ledger right before its transfer; that read is held while the
    CI runner (the default journal) plans, checks and makes the same transfer. The laptop must
    stop as the second writer and move nothing; its output is returned."""
    second, first = second_writer(env, LEDGER, folder, laptop_env=laptop)
    assert first.returncode == 0, first.stderr
    out = second.stdout
    assert second.returncode == 5, (out, second.stderr)
    assert "another writer is moving cash for this recipient" in out
    assert "1 frozen" in out
    assert len(env.calls(FUND_CUSTOMER)) == 1
    assert_cash_invariant(env)
    return str(out)
