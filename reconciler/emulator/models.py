"""The emulator's state: plain dataclasses, no HTTP, no business rules.

Field names follow the API's models (REFERENCE §7) so views are a straight copy. Everything
serialises to JSON-safe dicts (amounts as strings) for the state file and ``GET /_emulator/state``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

T = TypeVar("T")


@dataclass
class Partner:
    domain_id: str
    account_name: str
    name: str
    xaccount_type: str
    partner_type: str = "distributor"  # or "solution_provider"
    issue_mode: str = "new_quota"  # or "top_up"


@dataclass
class Credential:
    """A permanent AK/SK of the partner account. ``role`` is ``admin`` or ``readonly``."""

    ak: str
    sk: str
    role: str = "admin"


@dataclass
class TempCredential:
    """Temporary AK/SK + security token issued by the emulated IAM; acts as the customer."""

    ak: str
    sk: str
    token: str
    customer_id: str
    expires_at: float
    issued_to: str


@dataclass
class AccountManager:
    account_name: str
    name: str = ""


@dataclass
class Customer:
    customer_id: str
    account_name: str
    customer: str | None = None
    associated_on: str | None = None
    association_type: str | None = None
    label: str | None = None
    telephone: str | None = None
    verified_status: str | None = None
    country_code: str | None = None
    customer_type: int | None = None
    is_frozen: int | None = None
    xaccount_id: str | None = None
    xaccount_type: str | None = None
    customer_level: str | None = None
    email: str | None = None
    account_manager: str | None = None
    agency_granted: bool = False
    indirect_partner_id: str | None = None  # set for a reseller's customer
    renew_config: dict[str, str] = field(default_factory=dict)
    amount: Decimal = Decimal("0.00")  # cash balance (CustomerBalancesV2), resale customers only
    debt_amount: Decimal = Decimal("0.00")

    DECIMALS: ClassVar[tuple[str, ...]] = ("amount", "debt_amount")


@dataclass
class Resource:
    resource_id: str
    customer_id: str
    id: str
    resource_name: str | None = None
    region_code: str | None = None
    service_type_code: str | None = None
    resource_type_code: str | None = None
    resource_type_name: str | None = None
    service_type_name: str | None = None
    resource_spec_code: str | None = None
    project_id: str | None = None
    product_id: str | None = None
    parent_resource_id: str | None = None
    is_main_resource: int = 1
    status: int = 2
    effective_time: str | None = None
    expire_time: str | None = None
    expire_policy: int = 0  # only meaningful on main resources; attached ones follow the main
    product_spec_desc: str | None = None
    spec_size: Decimal | None = None
    spec_size_measure_id: int | None = None
    update_time: str | None = None
    enterprise_project: dict[str, str] | None = None
    order_id: str | None = None
    auto_renew_times: int | None = None
    period_type: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("spec_size",)


@dataclass
class Reseller:
    indirect_partner_id: str
    account_name: str
    name: str | None = None
    mobile_phone: str | None = None
    email: str | None = None
    associated_on: str | None = None
    account_manager_id: str | None = None
    account_manager_name: str | None = None
    exiting: bool = False


@dataclass
class Quota:
    """A coupon quota. ``indirect_partner_id`` is ``None`` for the distributor's own quotas."""

    quota_id: str
    quota_value: Decimal
    balance: Decimal
    quota_type: int = 0
    quota_status: int = 0
    measure_id: int = 1
    currency: str = "CNY"
    create_time: str | None = None
    last_update_time: str | None = None
    effective_time: str | None = None
    expire_time: str | None = None
    limit_infos: list[dict[str, Any]] = field(default_factory=list)
    indirect_partner_id: str | None = None
    parent_quota_id: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("quota_value", "balance")


@dataclass
class QuotaRecord:
    id: str
    operation_type: str
    amount: Decimal
    operation_time: str
    result: str
    quota_id: str | None = None
    parent_quota_id: str | None = None
    operator: str | None = None
    indirect_partner_id: str | None = None
    indirect_partner_account_name: str | None = None
    indirect_partner_name: str | None = None
    remark: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("amount",)


@dataclass
class Account:
    """An account (``AccountBalanceV2``) of the partner (``owner=None``) or of one reseller.
    ``account_type``: 1 balance, 2 credit, 5 bonus, 7 deposit, 8 allocatable (transfers)."""

    account_id: str
    account_type: int
    amount: Decimal
    currency: str = "CNY"
    designated_amount: Decimal | None = None
    credit_amount: Decimal | None = None
    measure_id: int = 1
    memo: str | None = None
    owner: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("amount", "designated_amount", "credit_amount")


@dataclass
class Coupon:
    """A customer's coupon cut from ``quota_id`` (``IQueryUserPartnerCouponsResultV2``). Status:
    1 not activated, 2 usable, 3 used, 4 expired, 5 reclaimed. ``owner``: the holder's reseller."""

    coupon_id: str
    customer_id: str
    quota_id: str
    face_value: Decimal
    balance: Decimal
    status: int = 2
    coupon_type: int = 1  # 1 cash voucher (from a type-0 quota), 4 cash coupon (type 1)
    quota_type: int = 0
    measure_id: int = 1
    effective_time: str | None = None
    expire_time: str | None = None
    create_time: str | None = None
    active_time: str | None = None
    last_used_time: str | None = None
    order_id: str | None = None
    promotion_plan_id: str | None = None
    promotion_plan_name: str | None = None
    promotion_plan_desc: str | None = None
    promotion_id: str | None = None
    media_type: int = 1  # electronic
    fetch_method: int = 3  # issued online
    use_limits: list[dict[str, Any]] = field(default_factory=list)
    lock_order_id: str | None = None
    is_frozen: str = "0"
    memo: str | None = None
    owner: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("face_value", "balance")


@dataclass
class CouponRecord:
    """One line of ``list_partner_coupons_record`` (``CouponRecordV2``) plus whose it is."""

    id: str
    operation_type: str  # 1 issue, 2 manual reclaim, 4 reclaim on expiry, ...
    operation_amount: Decimal
    operation_time: str
    result: str
    quota_id: str | None = None
    quota_type: int | None = None
    coupon_id: str | None = None
    customer_id: str | None = None
    remark: str | None = None
    owner: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("operation_amount",)


@dataclass
class AdjustRecord:
    """One cash transfer in ``list_partner_adjust_records`` (``AdjustRecordV3``) plus whose it is.

    ``customer_id`` is the customer or, for transfers between distributor and reseller, the
    reseller. ``owner`` is the reseller whose ledger it is (``None``: the partner's own).
    """

    trans_id: str
    customer_id: str
    operation_type: str  # SOURCE_OPERATION_BEADJUST / _BERETRIEVE / _BEUNBIND
    amount: Decimal
    operation_time: str
    customer_name: str | None = None
    currency: str = "CNY"
    apply_scene: str | None = None
    measure_id: int = 1
    memo: str | None = None
    owner: str | None = None

    DECIMALS: ClassVar[tuple[str, ...]] = ("amount",)


@dataclass
class Order:
    """A renewal order created by ``renewal_resources``."""

    order_id: str
    customer_id: str
    resource_ids: list[str]
    period_type: int
    period_num: int
    paid: bool
    create_time: str


def to_plain(obj: Any) -> Any:
    """A JSON-safe copy: dataclasses become dicts, ``Decimal`` becomes a string."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    return obj


def from_plain(cls: type[T], data: dict[str, Any]) -> T:
    """Rebuild a dataclass written by :func:`to_plain`."""
    decimals: tuple[str, ...] = getattr(cls, "DECIMALS", ())
    kwargs = {
        key: (Decimal(value) if key in decimals and value is not None else value)
        for key, value in data.items()
    }
    return cls(**kwargs)


@dataclass
class State:
    """Everything the emulator remembers. Mutated only by the backend and the control plane."""

    partner: Partner
    credentials: dict[str, Credential] = field(default_factory=dict)
    temp_credentials: dict[str, TempCredential] = field(default_factory=dict)
    account_managers: dict[str, AccountManager] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    resources: dict[str, Resource] = field(default_factory=dict)
    resellers: dict[str, Reseller] = field(default_factory=dict)
    quotas: dict[str, Quota] = field(default_factory=dict)
    records: list[QuotaRecord] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)
    coupons: dict[str, Coupon] = field(default_factory=dict)
    coupon_records: list[CouponRecord] = field(default_factory=list)
    adjust_records: list[AdjustRecord] = field(default_factory=list)
    faults: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    busy: dict[str, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    _index: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    COLLECTIONS: ClassVar[dict[str, type[Any]]] = {
        "credentials": Credential,
        "temp_credentials": TempCredential,
        "account_managers": AccountManager,
        "customers": Customer,
        "resources": Resource,
        "resellers": Reseller,
        "quotas": Quota,
        "accounts": Account,
        "coupons": Coupon,
    }
    LISTS: ClassVar[dict[str, type[Any]]] = {
        "records": QuotaRecord,
        "orders": Order,
        "coupon_records": CouponRecord,
        "adjust_records": AdjustRecord,
    }

    def next_counter(self, name: str) -> int:
        value = self.counters.get(name, 0) + 1
        self.counters[name] = value
        return value

    def invalidate(self) -> None:
        """Drop cached indexes after customers or resources were added or removed."""
        self._index.clear()

    def customer_order(self, owner: str | None) -> list[Customer]:
        """Customers of the partner (``owner=None``) or of one reseller, in a stable order."""
        key = f"customers:{owner}"
        if key not in self._index:
            chosen = [c for c in self.customers.values() if c.indirect_partner_id == owner]
            chosen.sort(key=lambda c: (c.associated_on or "", c.customer_id))
            self._index[key] = chosen
        result: list[Customer] = self._index[key]
        return result

    def resources_of(self, customer_id: str) -> list[Resource]:
        """A customer's resources: each main resource followed by its attached ones."""
        key = "resources"
        if key not in self._index:
            by_customer: dict[str, list[Resource]] = {}
            for res in self.resources.values():
                by_customer.setdefault(res.customer_id, []).append(res)
            self._index[key] = {cid: _main_first(rs) for cid, rs in by_customer.items()}
        result: list[Resource] = self._index[key].get(customer_id, [])
        return result

    def to_plain(self) -> dict[str, Any]:
        data = {f.name: to_plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        data.pop("_index")
        return data

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> State:
        kwargs: dict[str, Any] = {"partner": from_plain(Partner, data["partner"])}
        for name, item_cls in cls.COLLECTIONS.items():
            kwargs[name] = {k: from_plain(item_cls, v) for k, v in data.get(name, {}).items()}
        for name, item_cls in cls.LISTS.items():
            kwargs[name] = [from_plain(item_cls, item) for item in data.get(name, [])]
        for name in ("faults", "calls"):
            kwargs[name] = list(data.get(name, []))
        kwargs["busy"] = {k: float(v) for k, v in data.get("busy", {}).items()}
        kwargs["counters"] = {k: int(v) for k, v in data.get("counters", {}).items()}
        return cls(**kwargs)


def _main_first(resources: list[Resource]) -> list[Resource]:
    mains = [r for r in resources if not r.parent_resource_id]
    attached: dict[str, list[Resource]] = {}
    for res in resources:
        if res.parent_resource_id:
            attached.setdefault(res.parent_resource_id, []).append(res)
    ordered: list[Resource] = []
    for main in mains:
        ordered.append(main)
        ordered.extend(attached.pop(main.resource_id, []))
    for orphans in attached.values():
        ordered.extend(orphans)
    return ordered
