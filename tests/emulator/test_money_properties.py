"""Property test: any sequence of coupon and cash operations, spending and time keeps the money
adding up, the records reconcile with the balances, and every answer is the one the rules predict.

A hypothesis state machine drives the demo seed through the signed API (coupon issue and reclaim,
the four transfers, direct and for a reseller), the control plane (customers spending coupons and
cash) and the clock (coupons activating and expiring). Derandomised: the same examples every run.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from reconciler.emulator import Emulator, VirtualClock
from reconciler.emulator.models import Quota
from reconciler.emulator.timefmt import fmt

from . import demo
from .client import Api
from .conftest import DEMO_DOC

D = Decimal
ZERO = D("0.00")
RESALE = [demo.XINGHE, demo.HUAXIA, demo.HAINA, demo.RUIXIN, demo.LINGYUN]
CUSTOMERS = [*RESALE, demo.MINGYUAN]  # mingyuan-design is a referral customer
RESELLERS = [demo.TIANFU, demo.QINLING, demo.PENGCHENG]
THEIR_CUSTOMERS = {demo.TIANFU: demo.SHU_BROCADE, demo.QINLING: demo.HUASHAN_TEA}
AMOUNTS = st.decimals(min_value=D("0.01"), max_value=D("60000.00"), places=2)
COUPONS = "/v2/promotions/benefits/partner-coupons"
FUND = "/v2/accounts/partner-accounts/adjust-amount"
RETRIEVE = "/v2/accounts/partner-accounts/reclaim"
FUND_RESELLER = "/v2/accounts/partner-accounts/indirect-partner-adjust"
RETRIEVE_RESELLER = "/v2/accounts/partner-accounts/indirect-partner-reclaim"


class MoneyMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = VirtualClock()
        self.emu = self.new_emulator(self.clock)
        self.api = Api(self.emu)
        self.state = self.emu._store.state
        self.spent_coupons = ZERO  # value customers spent from coupons: gone for good
        self.spent_cash = ZERO
        self.family_start = self.family()
        self.cash_start = self.cash_total()
        self.accounts_start = {o: self.allocatable(o) for o in (None, *RESELLERS)}
        self.ledger_start = len(self.state.adjust_records)

    def new_emulator(self, clock: VirtualClock) -> Emulator:
        """The emulator under test (``test_state_log`` runs the machine on a state file)."""
        return Emulator(clock=clock, seed=DEMO_DOC, rate_limit=0)

    # --- what the state says ------------------------------------------------------------------
    def quota(self) -> Quota:
        return self.state.quotas[demo.QUOTA_COUPONS]

    def family(self) -> Decimal:
        held = (c.balance for c in self.state.coupons.values() if c.quota_id == demo.QUOTA_COUPONS)
        return self.quota().balance + sum(held, ZERO)

    def allocatable(self, owner: str | None) -> Decimal:
        (account,) = [
            a for a in self.state.accounts.values() if a.owner == owner and a.account_type == 8
        ]
        return D(account.amount)

    def movable(self, owner: str | None) -> Decimal:
        (account,) = [
            a for a in self.state.accounts.values() if a.owner == owner and a.account_type == 8
        ]
        return D(account.amount) - (account.designated_amount or ZERO)

    def cash_total(self) -> Decimal:
        accounts = sum(
            (a.amount for a in self.state.accounts.values() if a.account_type == 8), ZERO
        )
        return accounts + sum((c.amount for c in self.state.customers.values()), ZERO)

    # --- coupons -------------------------------------------------------------------------------
    @rule(
        customers=st.lists(st.sampled_from(CUSTOMERS), min_size=1, max_size=4, unique=True),
        face=AMOUNTS,
    )
    def issue(self, customers: list[str], face: Decimal) -> None:
        expected: dict[str, str | None] = {}
        left = self.quota().balance
        for cid in customers:
            if cid == demo.MINGYUAN:
                expected[cid] = "CBC.99000014"
            elif left < face:
                expected[cid] = "CBC.99000013"
            else:
                expected[cid], left = None, left - face
        expired = fmt(self.clock.time()) >= (self.quota().expire_time or "")
        body = {"quota_id": demo.QUOTA_COUPONS, "customer_ids": customers, "face_value": face}
        reply = self.api.post(COUPONS, body)
        if expired:
            assert (reply.status, reply.code) == (400, "CBC.99000017")
            return
        assert reply.status == 200, reply.body
        got: dict[str, str | None] = {i["id"]: None for i in reply.json["coupon_infos"]}
        got.update({e["id"]: e["error_code"] for e in reply.json["error_details"]})
        assert got == expected
        assert self.quota().balance == left

    @rule(pick=st.integers(min_value=0, max_value=1000))
    def reclaim(self, pick: int) -> None:
        coupons = sorted(self.state.coupons.values(), key=lambda c: c.coupon_id)
        coupon = coupons[pick % len(coupons)]
        usable, held, before = coupon.status == 2, coupon.balance, self.quota().balance
        owner = {"indirect_partner_id": coupon.owner} if coupon.owner else {}
        reply = self.api.post(f"{COUPONS}/reclaim", {"coupon_id": coupon.coupon_id, **owner})
        if usable:
            assert reply.status == 204
            assert (coupon.status, coupon.balance) == (5, ZERO)
            if coupon.quota_id == demo.QUOTA_COUPONS:
                assert self.quota().balance == before + held
        else:
            assert (reply.status, reply.code) == (200, "CBC.99000048")

    @precondition(
        lambda self: any(c.status == 2 and c.balance for c in self.state.coupons.values())
    )
    @rule(pick=st.integers(min_value=0, max_value=1000), share=st.integers(1, 100))
    def spend_coupon(self, pick: int, share: int) -> None:
        usable = sorted(
            (c for c in self.state.coupons.values() if c.status == 2 and c.balance),
            key=lambda c: c.coupon_id,
        )
        coupon = usable[pick % len(usable)]
        amount = max(D("0.01"), (coupon.balance * share / 100).quantize(D("0.01")))
        self.emu.spend_coupon(coupon.coupon_id, str(amount))
        if coupon.quota_id == demo.QUOTA_COUPONS:
            self.spent_coupons += amount

    @rule(days=st.integers(min_value=1, max_value=400))
    def time_passes(self, days: int) -> None:
        self.clock.advance(days * 86400)
        self.api.get(COUPONS)  # any call lets coupons follow the clock

    # --- cash ----------------------------------------------------------------------------------
    def _transfer(self, path: str, body: dict[str, Any], allowed: bool) -> None:
        reply = self.api.post(path, body)
        if allowed:
            assert reply.status == 200, reply.body
        else:
            assert (reply.status, reply.code) == (400, "CBC.99005003")

    @rule(customer=st.sampled_from(RESALE), amount=AMOUNTS)
    def fund_customer(self, customer: str, amount: Decimal) -> None:
        body = {"customer_id": customer, "amount": amount}
        self._transfer(FUND, body, amount <= self.movable(None))

    @rule(customer=st.sampled_from(RESALE), amount=AMOUNTS)
    def reclaim_customer(self, customer: str, amount: Decimal) -> None:
        allowed = amount <= self.state.customers[customer].amount
        self._transfer(RETRIEVE, {"customer_id": customer, "amount": amount}, allowed)

    @rule(reseller=st.sampled_from(list(THEIR_CUSTOMERS)), amount=AMOUNTS, back=st.booleans())
    def for_a_resellers_customer(self, reseller: str, amount: Decimal, back: bool) -> None:
        customer = THEIR_CUSTOMERS[reseller]
        body = {"customer_id": customer, "amount": amount, "indirect_partner_id": reseller}
        if back:
            self._transfer(RETRIEVE, body, amount <= self.state.customers[customer].amount)
        else:
            self._transfer(FUND, body, amount <= self.movable(reseller))

    @rule(reseller=st.sampled_from(RESELLERS), amount=AMOUNTS, back=st.booleans())
    def reseller_transfer(self, reseller: str, amount: Decimal, back: bool) -> None:
        body = {"indirect_partner_id": reseller, "amount": amount}
        if back:
            self._transfer(RETRIEVE_RESELLER, body, amount <= self.movable(reseller))
        else:
            self._transfer(FUND_RESELLER, body, amount <= self.movable(None))

    @rule(customer=st.sampled_from(RESALE), amount=AMOUNTS)
    def spend_cash(self, customer: str, amount: Decimal) -> None:
        paid = min(amount, self.state.customers[customer].amount)
        self.emu.spend_cash(customer, str(amount))
        self.spent_cash += paid

    # --- what must always hold -----------------------------------------------------------------
    @invariant()
    def coupon_value_is_conserved(self) -> None:
        assert self.family() + self.spent_coupons == self.family_start

    @invariant()
    def coupon_records_reconcile_with_the_quota(self) -> None:
        ok = [
            r for r in self.state.coupon_records
            if r.quota_id == demo.QUOTA_COUPONS and r.result == "0"
        ]  # fmt: skip
        issued = sum((r.operation_amount for r in ok if r.operation_type == "1"), ZERO)
        returned = sum((r.operation_amount for r in ok if r.operation_type in ("2", "4")), ZERO)
        assert issued - returned == self.quota().quota_value - self.quota().balance

    @invariant()
    def cash_is_conserved(self) -> None:
        assert self.cash_total() + self.spent_cash == self.cash_start

    @invariant()
    def the_ledger_reconciles_with_the_accounts(self) -> None:
        new = self.state.adjust_records[self.ledger_start :]
        for owner in (None, *RESELLERS):
            delta = ZERO
            for r in new:
                sign = 1 if r.operation_type == "SOURCE_OPERATION_BERETRIEVE" else -1
                if r.owner == owner:  # the owner's own transfers to and from customers/resellers
                    delta += sign * r.amount
                if owner is not None and r.owner is None and r.customer_id == owner:
                    delta -= sign * r.amount  # the distributor funding or reclaiming this reseller
            assert self.allocatable(owner) - self.accounts_start[owner] == delta

    @invariant()
    def nothing_is_negative_or_sub_cent(self) -> None:
        amounts = [
            *(a.amount for a in self.state.accounts.values()),
            *(c.amount for c in self.state.customers.values()),
            *(c.balance for c in self.state.coupons.values()),
            *(q.balance for q in self.state.quotas.values()),
        ]
        assert all(a >= 0 and a == a.quantize(D("0.01")) for a in amounts)


MoneyMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_money_adds_up = MoneyMachine.TestCase
