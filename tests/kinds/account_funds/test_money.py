"""The money of AccountFunds, table-driven and as properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler.kinds.account_funds.money import (
    ZERO,
    Bounds,
    Flows,
    customer_move,
    money,
    reseller_move,
    supply,
)

D = Decimal


@pytest.mark.parametrize(
    ("amount", "debt", "floor", "cap", "fund", "reclaim", "target"),
    [
        ("800.00", "0.00", "5000.00", None, "4200.00", "0.00", "5000.00"),
        ("5000.00", "0.00", "5000.00", None, "0.00", "0.00", "5000.00"),
        ("25000.00", "0.00", None, "20000.00", "0.00", "5000.00", "20000.00"),
        ("12000.00", "0.00", "5000.00", "20000.00", "0.00", "0.00", "12000.00"),
        ("0.00", "150.00", "1000.00", None, "1150.00", "0.00", "1000.00"),
        ("0.00", "150.00", None, "0.00", "0.00", "0.00", "-150.00"),
        ("300.00", "100.00", None, "0.00", "0.00", "200.00", "0.00"),
        ("0.01", "0.00", None, "0.00", "0.00", "0.01", "0.00"),
        ("0.00", "0.00", "0.00", None, "0.00", "0.00", "0.00"),
    ],
    ids=["below-floor", "at-floor", "above-cap", "inside", "debt-counts", "debt-under-cap",
         "cap-zero-with-debt", "one-cent", "zero-floor"],
)  # fmt: skip
def test_customer_moves(amount: str, debt: str, floor: str | None, cap: str | None,
                        fund: str, reclaim: str, target: str) -> None:  # fmt: skip
    bounds = Bounds(D(floor) if floor else None, D(cap) if cap else None)
    move = customer_move(D(amount), D(debt), bounds)
    assert (move.fund, move.reclaim, move.target) == (D(fund), D(reclaim), D(target))


@pytest.mark.parametrize(
    ("floor", "cap", "message"),
    [(None, None, "needs topUpTo, atMost or both"), ("5.00", "4.00", "above atMost"),
     ("-1.00", None, "not a two-place amount"), ("1.001", None, "more than two decimal places")],
)  # fmt: skip
def test_bounds_refuse_nonsense(floor: str | None, cap: str | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Bounds(D(floor) if floor else None, D(cap) if cap else None)


def test_negative_live_cash_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        customer_move(D("-1.00"), ZERO, Bounds(D("5.00")))
    with pytest.raises(ValueError, match="more than two decimal places"):
        money("1.005")


@pytest.mark.parametrize(
    ("amount", "designated", "reclaimed", "funded", "floor", "cap",
     "fund", "reclaim", "stuck", "final", "short"),
    [
        ("57000.00", "0.00", "0", "0", "60000.00", None, "3000.00", "0", "0", "60000.00", "0"),
        ("57000.00", "0.00", "0", "4000.00", "60000.00", None, "7000.00", "0", "0", "60000.00",
         "0"),
        ("23800.00", "5000.00", "0", "0", None, "10000.00", "0", "13800.00", "0", "10000.00", "0"),
        ("23800.00", "5000.00", "0", "0", None, "0.00", "0", "18800.00", "5000.00", "5000.00",
         "0"),
        ("23800.00", "5000.00", "1200.00", "0", None, "20000.00", "0", "5000.00", "0",
         "20000.00", "0"),
        ("1000.00", "800.00", "0", "500.00", None, None, "0", "0", "0", "500.00", "300.00"),
        ("1000.00", "800.00", "0", "500.00", "600.00", None, "100.00", "0", "0", "600.00",
         "200.00"),
        ("12000.00", "0.00", "0", "0", None, None, "0", "0", "0", "12000.00", "0"),
    ],
    ids=["fund", "fund-covers-customers", "reclaim", "designated-stuck", "after-customer-reclaim",
         "undeclared-short", "floor-below-designated", "undeclared-idle"],
)  # fmt: skip
def test_reseller_moves(amount: str, designated: str, reclaimed: str, funded: str,
                        floor: str | None, cap: str | None, fund: str, reclaim: str, stuck: str,
                        final: str, short: str) -> None:  # fmt: skip
    bounds = None if floor is None and cap is None else Bounds(
        D(floor) if floor else None, D(cap) if cap else None)  # fmt: skip
    move = reseller_move(D(amount), D(designated), Flows(D(reclaimed), D(funded)), bounds)
    assert (move.fund, move.reclaim, move.stuck, move.final, move.shortfall) == (
        D(fund), D(reclaim), D(stuck), D(final), D(short))  # fmt: skip


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda n: Decimal(n) / 100)


@st.composite
def bound_pairs(draw: st.DrawFn) -> Bounds:
    floor = draw(st.none() | cents)
    cap = draw(st.none() | cents)
    if floor is None and cap is None:
        cap = draw(cents)
    if floor is not None and cap is not None and floor > cap:
        floor, cap = cap, floor
    return Bounds(floor, cap)


@given(amount=cents, debt=cents, bounds=bound_pairs())
def test_a_customer_ends_inside_its_bounds_with_one_minimal_transfer(
    amount: Decimal, debt: Decimal, bounds: Bounds
) -> None:
    move = customer_move(amount, debt, bounds)
    assert not (move.fund and move.reclaim)
    assert move.fund >= ZERO and move.reclaim >= ZERO
    after = move.net + move.fund - move.reclaim
    assert after == move.target and bounds.clamp(after) == after
    if bounds.clamp(move.net) == move.net:
        assert move.fund == move.reclaim == ZERO  # nothing moves inside the bounds
    assert move.reclaim <= amount  # never more than the live balance
    for value in (move.fund, move.reclaim, move.target):
        assert money(value) == value


@given(amount=cents, designated=cents, reclaimed=cents, funded=cents,
       bounds=st.none() | bound_pairs())  # fmt: skip
def test_a_reseller_never_overdraws_and_ends_inside_or_says_why(
    amount: Decimal, designated: Decimal, reclaimed: Decimal, funded: Decimal, bounds: Bounds | None
) -> None:
    move = reseller_move(amount, designated, Flows(reclaimed, funded), bounds)
    assert not (move.fund and move.reclaim)
    # step 2: a reclaim takes no more than may leave the account then
    assert move.reclaim <= max(ZERO, move.before_own_transfer - designated)
    # step 4: with no shortfall, the customers' transfers are covered
    at_step_4 = move.before_own_transfer - move.reclaim + move.fund
    if not move.shortfall:
        assert funded <= max(ZERO, at_step_4 - designated) or funded == ZERO
    else:
        assert funded > at_step_4 - designated
    if bounds is not None:
        assert move.final == bounds.clamp(move.projected) + move.stuck
        if move.stuck:
            assert move.final <= designated or move.reclaim == ZERO
    else:
        assert move.fund == move.reclaim == ZERO


@given(st.lists(st.tuples(cents, cents, bound_pairs()), max_size=6), cents)
def test_the_partner_supply_counts_every_transfer(
    customers: list[tuple[Decimal, Decimal, Bounds]], transferable: Decimal
) -> None:
    moves = [customer_move(a, d, b) for a, d, b in customers]
    found = supply(transferable, moves, [])
    assert found.outflow == sum((m.fund for m in moves), ZERO)
    assert found.inflow == sum((m.reclaim for m in moves), ZERO)
    assert (found.shortfall > ZERO) == (found.outflow > transferable + found.inflow)
