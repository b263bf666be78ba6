"""Cash (REFERENCE §7.17-§7.23): typed records, request building, and the methods.

::

    accounts = await client.list_partner_balances()            # account_type 8 is allocatable
    movable = allocatable(accounts).transferable                # amount - designated_amount
    done = await client.update_customer_account_amount(customer_id, Decimal("200.00"))
    done.trans_id                                               # the ledger id, or done.failure
    balances = await client.all_customers_balances_detail(customer_ids)   # {id: CustomerBalance}
    async for record in client.iter_partner_adjust_records(trans_id=done.trans_id): ...

The four transfers move cash: none is re-sent once it may have reached the server (a lost answer
or a 5xx raises :class:`~reconciler.errors.OutcomeUnknownError`; settle it from
:meth:`CashApi.iter_partner_adjust_records`, whose records carry the transfer's ``trans_id``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

from reconciler.errors import ApiError, IncompleteAnswerError, OutcomeUnknownError

from . import operations as ops
from .core import ClientCore, _by, _required
from .fields import (
    FieldError,
    need_int,
    need_money,
    need_text,
    need_time,
    opt_int,
    opt_money,
    opt_text,
)
from .models import ItemError, Page
from .paging import DEFAULT_PREFETCH
from .queries import DEFAULT_PAGE, ListSpec, id_batch, money_amount
from .signing import query_pairs

if TYPE_CHECKING:
    from typing_extensions import Unpack

T = TypeVar("T")

#: ``account_type`` of the allocatable account cash transfers come out of.
ALLOCATABLE = 8
#: Insufficient balance for a transfer.
INSUFFICIENT_BALANCE = "CBC.99005003"
ADJUST = "SOURCE_OPERATION_BEADJUST"
RETRIEVE = "SOURCE_OPERATION_BERETRIEVE"
UNBIND = "SOURCE_OPERATION_BEUNBIND"
#: Not documented; the client (like the emulator) asks for at most 100 customers per call.
MAX_BALANCE_QUERY = 100
_ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class AccountBalance:
    """One account of the partner or of a reseller (``AccountBalanceV2``).

    ``account_type``: 1 balance, 2 credit, 5 bonus, 7 deposit, 8 allocatable. What a transfer
    rests on is read strictly (``account_id``, ``account_type``, ``amount``; a
    ``designated_amount`` that is present must be an amount; neither may be negative): absent
    or unusable, it stops the read with :class:`~reconciler.errors.IncompleteAnswerError`. An
    absent ``designated_amount`` means nothing is ring-fenced (the SDK leaves it out when unset).
    """

    account_id: str
    account_type: int
    amount: Decimal
    currency: str | None
    designated_amount: Decimal | None
    credit_amount: Decimal | None
    measure_id: int | None  # 1 = yuan
    memo: str | None

    @property
    def designated(self) -> Decimal:
        return self.designated_amount if self.designated_amount is not None else _ZERO

    @property
    def transferable(self) -> Decimal:
        """What may leave the account: ``amount - designated_amount``."""
        return self.amount - self.designated

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AccountBalance:
        return cls(
            account_id=need_text(data, "account_id"),
            account_type=need_int(data, "account_type"),
            amount=need_money(data, "amount", non_negative=True),
            currency=opt_text(data, "currency"),
            designated_amount=opt_money(data, "designated_amount", non_negative=True),
            credit_amount=opt_money(data, "credit_amount"),
            measure_id=opt_int(data, "measure_id"),
            memo=opt_text(data, "memo"),
        )


def allocatable(accounts: Sequence[AccountBalance]) -> AccountBalance | None:
    """The allocatable account (type 8) among ``accounts``, if there is exactly one."""
    found = [a for a in accounts if a.account_type == ALLOCATABLE]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, slots=True)
class CustomerBalance:
    """A resale customer's cash (``CustomerBalancesV2``). ``customer_id``, ``amount`` and
    ``debt_amount`` are read strictly (present, amounts, not negative): a customer's net cash
    (``amount - debt_amount``) is what decisions compare."""

    customer_id: str
    amount: Decimal
    debt_amount: Decimal
    currency: str | None
    measure_id: int | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> CustomerBalance:
        return cls(
            customer_id=need_text(data, "customer_id"),
            amount=need_money(data, "amount", non_negative=True),
            debt_amount=need_money(data, "debt_amount", non_negative=True),
            currency=opt_text(data, "currency"),
            measure_id=opt_int(data, "measure_id"),
        )


@dataclass(frozen=True, slots=True)
class AdjustRecord:
    """One cash transfer in the ledger (``AdjustRecordV3``; its ``amount`` is a string on the
    wire). ``customer_id`` is the customer, or the reseller for distributor-reseller transfers.
    Settlement rests on ``trans_id``, ``customer_id``, ``operation_type``, ``amount`` and
    ``operation_time``: they are read strictly (a negative amount, or a time not exactly
    ``yyyy-MM-ddTHH:mm:ssZ``, is refused; the time is parsed, never compared as text). The record
    names no operator."""

    trans_id: str
    customer_id: str
    customer_name: str | None
    operation_type: str  # SOURCE_OPERATION_BEADJUST / _BERETRIEVE / _BEUNBIND
    amount: Decimal
    currency: str | None
    operation_time: datetime  # UTC, parsed (never compared as text)
    measure_id: int | None
    apply_scene: str | None
    memo: str | None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> AdjustRecord:
        return cls(
            trans_id=need_text(data, "trans_id"),
            customer_id=need_text(data, "customer_id"),
            customer_name=opt_text(data, "customer_name"),
            operation_type=need_text(data, "operation_type"),
            amount=need_money(data, "amount", non_negative=True),
            currency=opt_text(data, "currency"),
            operation_time=need_time(data, "operation_time"),
            measure_id=opt_int(data, "measure_id"),
            apply_scene=opt_text(data, "apply_scene"),
            memo=opt_text(data, "memo"),
        )


@dataclass(frozen=True, slots=True)
class TransferResult:
    """A cash transfer: its ledger id (``transfer_id`` / ``trans_id``), or the failure the API
    answered inside HTTP 200 (nothing moved). ``target`` is the customer or reseller id."""

    target: str
    trans_id: str | None
    failure: ItemError | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


class AdjustRecordFilters(TypedDict, total=False):
    customer_id: str
    operation_type: str  # SOURCE_OPERATION_BEADJUST / _BERETRIEVE / _BEUNBIND
    operation_time_begin: str
    operation_time_end: str
    trans_id: str
    indirect_partner_id: str


ADJUST_RECORDS = ListSpec(
    ops.LIST_PARTNER_ADJUST_RECORDS,
    ("customer_id", "operation_type", "operation_time_begin", "operation_time_end", "trans_id",
     "offset", "limit", "indirect_partner_id"),
    "records",
    "total_count",
    in_body=False,
)  # fmt: skip


class CashApi(ClientCore):
    """The cash methods of :class:`~reconciler.bss.client.BssClient`."""

    async def _transfer(
        self, op: ops.Operation, body: dict[str, Any], target: str, id_key: str
    ) -> TransferResult:
        try:
            data = await self._call(op, body=body)
        except ApiError as exc:
            if not 200 <= exc.status < 300:
                raise
            return TransferResult(target, None, ItemError(target, exc.error_code, exc.error_msg))
        trans_id = data.get(id_key) if isinstance(data, Mapping) else None
        if not trans_id:
            # Success without the ledger id the REFERENCE promises: not proven, settle it.
            raise OutcomeUnknownError(op.method, op.path, f"HTTP 2xx without {id_key}")
        return TransferResult(target, str(trans_id))

    async def update_customer_account_amount(
        self, customer_id: str, amount: Decimal, *, indirect_partner_id: str | None = None
    ) -> TransferResult:
        """§7.17: move ``amount`` from the allocatable account to a resale customer. Moves cash.

        At most ``amount - designated_amount`` of the allocatable account (else 400
        ``CBC.99005003``); with ``indirect_partner_id``, out of that reseller's account to its
        customer.
        """
        body = _customer_body(customer_id, amount, indirect_partner_id)
        return await self._transfer(
            ops.UPDATE_CUSTOMER_ACCOUNT_AMOUNT, body, customer_id, "transfer_id"
        )

    async def reclaim_to_partner_account(
        self, customer_id: str, amount: Decimal, *, indirect_partner_id: str | None = None
    ) -> TransferResult:
        """§7.18: move ``amount`` from a resale customer back to the allocatable account."""
        body = _customer_body(customer_id, amount, indirect_partner_id)
        return await self._transfer(ops.RECLAIM_TO_PARTNER_ACCOUNT, body, customer_id, "trans_id")

    async def update_indirect_partner_account(
        self, indirect_partner_id: str, amount: Decimal
    ) -> TransferResult:
        """§7.21: move ``amount`` from the distributor's allocatable account to a reseller's."""
        body = _reseller_body(indirect_partner_id, amount)
        op = ops.UPDATE_INDIRECT_PARTNER_ACCOUNT
        return await self._transfer(op, body, indirect_partner_id, "transfer_id")

    async def reclaim_indirect_partner_account(
        self, indirect_partner_id: str, amount: Decimal
    ) -> TransferResult:
        """§7.22: move ``amount`` (at most the reseller's balance) back to the distributor."""
        body = _reseller_body(indirect_partner_id, amount)
        op = ops.RECLAIM_INDIRECT_PARTNER_ACCOUNT
        return await self._transfer(op, body, indirect_partner_id, "trans_id")

    async def list_customers_balances_detail(
        self, customer_ids: Sequence[str], *, indirect_partner_id: str | None = None
    ) -> tuple[CustomerBalance, ...]:
        """§7.19: the cash of up to 100 customers. Customers that are not resale customers of
        the partner (or of ``indirect_partner_id``) are left out silently: treat a missing one as
        unknown, never as zero."""
        ids = id_batch(customer_ids, MAX_BALANCE_QUERY, "customer_ids")
        body = {
            "customer_infos": [{"customer_id": cid} for cid in ids],
            "indirect_partner_id": indirect_partner_id or None,
        }
        op = ops.LIST_CUSTOMERS_BALANCES_DETAIL
        data = await self._call(op, body=body)
        return _items(op, data, "customer_balances", CustomerBalance.from_api)

    async def all_customers_balances_detail(
        self, customer_ids: Sequence[str], *, indirect_partner_id: str | None = None
    ) -> dict[str, CustomerBalance]:
        """Every listed customer's cash, 100 per call; absent ids are not resale customers."""
        ids = list(dict.fromkeys(customer_ids))
        found: dict[str, CustomerBalance] = {}
        for start in range(0, len(ids), MAX_BALANCE_QUERY):
            batch = ids[start : start + MAX_BALANCE_QUERY]
            for balance in await self.list_customers_balances_detail(
                batch, indirect_partner_id=indirect_partner_id
            ):
                seen = found.setdefault(balance.customer_id, balance)
                if seen != balance:  # two different balances for one customer: decide nothing
                    op = ops.LIST_CUSTOMERS_BALANCES_DETAIL
                    raise _incomplete(
                        op, f"customer_balances (customer_id {balance.customer_id})",
                        FieldError("amount", "differs between two entries of one customer"),
                    )  # fmt: skip
        return found

    async def list_partner_balances(
        self, *, indirect_partner_id: str | None = None
    ) -> tuple[AccountBalance, ...]:
        """§7.23: the partner's accounts, or (a distributor) one reseller's."""
        query = query_pairs({"indirect_partner_id": indirect_partner_id or None})
        data = await self._call(ops.LIST_PARTNER_BALANCES, query=query)
        return _items(ops.LIST_PARTNER_BALANCES, data, "account_balances", AccountBalance.from_api)

    async def list_partner_adjust_records(
        self,
        *,
        offset: int = 0,
        limit: int = DEFAULT_PAGE,
        **filters: Unpack[AdjustRecordFilters],
    ) -> Page[AdjustRecord]:
        """§7.20: one page (limit 1..100) of the cash ledger, oldest first."""
        return await self._page(ADJUST_RECORDS, AdjustRecord.from_api, offset, limit, filters)

    def iter_partner_adjust_records(
        self,
        *,
        page_size: int = DEFAULT_PAGE,
        prefetch: int = DEFAULT_PREFETCH,
        **filters: Unpack[AdjustRecordFilters],
    ) -> AsyncIterator[AdjustRecord]:
        """Every ledger record matching ``filters``, de-duplicated by ``trans_id``."""
        parse, key = AdjustRecord.from_api, _by("trans_id")
        return self._iter(ADJUST_RECORDS, parse, key, filters, page_size, prefetch)

    async def all_partner_adjust_records(
        self, *, page_size: int = DEFAULT_PAGE, **filters: Unpack[AdjustRecordFilters]
    ) -> list[AdjustRecord]:
        return [
            item async for item in self.iter_partner_adjust_records(page_size=page_size, **filters)
        ]


def _incomplete(op: ops.Operation, what: str, err: FieldError) -> IncompleteAnswerError:
    return IncompleteAnswerError(
        method=op.method, path=op.path, operation=op.name, what=what, field=err.field,
        problem=err.problem,
    )  # fmt: skip


def _items(
    op: ops.Operation, data: object, key: str, parse: Callable[[Mapping[str, Any]], T]
) -> tuple[T, ...]:
    """The objects of an unpaged answer, strictly: a list of objects, each with the fields a
    decision rests on (else :class:`IncompleteAnswerError` naming the object and the field)."""
    if not isinstance(data, Mapping):
        raise _incomplete(op, "the answer", FieldError("body", "is not a JSON object"))
    raw = data.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _incomplete(op, "the answer", FieldError(key, "is not a list"))
    items = []
    for n, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise _incomplete(op, f"{key}[{n}]", FieldError("item", "is not an object"))
        try:
            items.append(parse(item))
        except FieldError as err:
            named = [f"{k} {item[k]}" for k in _ID_KEYS if isinstance(item.get(k), str) and item[k]]
            where = f"{key}[{n}] ({named[0]})" if named else f"{key}[{n}]"
            raise _incomplete(op, where, err) from None
    return tuple(items)


_ID_KEYS = ("customer_id", "account_id")


def _customer_body(customer_id: str, amount: object, reseller: str | None) -> dict[str, Any]:
    return {
        "customer_id": _id(customer_id, "customer_id"),
        "amount": money_amount(amount),
        "indirect_partner_id": reseller or None,
    }


def _reseller_body(indirect_partner_id: str, amount: object) -> dict[str, Any]:
    return {
        "indirect_partner_id": _id(indirect_partner_id, "indirect_partner_id"),
        "amount": money_amount(amount),
    }


def _id(value: str, name: str) -> str:
    if len(_required(value, name)) > 64:
        raise ValueError(f"{name} is longer than 64 characters")
    return value
