"""Seed documents: load (YAML or JSON), validate (every problem, naming its entry), build state.

The format is described in ``README.md`` next to this file; ``seeds/demo.yaml`` is a full example.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Container, Mapping
from pathlib import Path
from typing import Any

import yaml

from reconciler.emulator import jsonutil, seed_funds
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS, DEFAULT_READONLY_CREDENTIALS
from reconciler.emulator.errors import SeedError
from reconciler.emulator.models import (
    AccountManager,
    Credential,
    Customer,
    Partner,
    Quota,
    QuotaRecord,
    Reseller,
    Resource,
    State,
)
from reconciler.emulator.seedspec import (
    ATTACHED,
    CREDENTIAL,
    CUSTOMER,
    ISSUED,
    MANAGER,
    PARTNER,
    QUOTA,
    RECORD,
    RESELLER,
    RESOURCE,
    TOP,
    F,
    convert,
    expected,
)

DEMO_SEED_PATH = Path(__file__).parent / "seeds" / "demo.yaml"
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

SeedSource = Mapping[str, Any] | str | os.PathLike[str]


def load_document(seed: SeedSource) -> dict[str, Any]:
    """The seed as a dict: a mapping is copied, a path is read (``.json`` as JSON, else YAML)."""
    if isinstance(seed, Mapping):
        return dict(seed)
    path = Path(seed)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError([f"cannot read seed file: {exc.strerror or exc}"], str(path)) from exc
    return parse_document(text.encode("utf-8"), source=str(path))


def parse_document(data: bytes, *, source: str = "seed") -> dict[str, Any]:
    """Parse a seed sent as bytes: JSON first (exact decimals), then YAML."""
    try:
        doc = jsonutil.loads(data)
    except ValueError:
        try:
            doc = yaml.load(data, Loader=_YAML_LOADER)  # a safe loader (C if available)
        except yaml.YAMLError as exc:
            raise SeedError([f"not valid YAML or JSON: {_yaml_problem(exc)}"], source) from exc
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise SeedError(["the document must be a mapping (partner, customers, ...)"], source)
    return doc


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """One line: what is wrong and where (line and column are 1-based)."""
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return str(problem)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})"


def build_state(doc: Mapping[str, Any] | None, *, source: str = "seed") -> State:
    """Validate ``doc`` and build a fresh state from it (``None`` = the partner only)."""
    builder = _Builder(source)
    state = builder.build(dict(doc or {}))
    if builder.problems:
        raise SeedError(builder.problems, source)
    return state


def default_id(prefix: str, key: str) -> str:
    """A stable 32-hex id derived from ``key`` (no randomness at load time)."""
    return hashlib.sha256(f"{prefix}:{key}".encode()).hexdigest()[:32]


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    # --- generic field checking -------------------------------------------------------------
    def fields(self, where: str, raw: object, spec: Mapping[str, F]) -> dict[str, Any]:
        """The valid fields of one entry; ``{}`` if a required one is missing or invalid."""
        if not isinstance(raw, Mapping):
            self.problems.append(f"{where}: must be a mapping")
            return {}
        out: dict[str, Any] = {}
        for key, value in raw.items():
            field_spec = spec.get(key)
            if field_spec is None:
                allowed = ", ".join(spec)
                self.problems.append(f"{_join(where, key)}: unknown field (allowed: {allowed})")
            elif value is not None:
                checked = self.value(_join(where, key), value, field_spec)
                if checked is not None:
                    out[key] = checked
        complete = True
        for name in _required(spec):
            if name not in out:
                complete = False
                if raw.get(name) is None:
                    self.problems.append(f"{_join(where, name)}: required")
        return out if complete else {}  # an incomplete entry is skipped (already reported)

    def value(self, where: str, value: object, spec: F) -> Any:
        converted = convert(spec.kind, value)
        if converted is None:
            self.problems.append(f"{where}: {expected(spec.kind)}, got {value!r}")
            return None
        if spec.enum is not None and converted not in spec.enum:
            allowed = ", ".join(repr(v) for v in spec.enum)
            self.problems.append(f"{where}: {converted!r} is not one of {allowed}")
            return None
        if spec.kind == "money" and converted < 0:
            self.problems.append(f"{where}: must not be negative")
            return None
        return converted

    def items(self, where: str, raw: object) -> list[tuple[str, object]]:
        if not isinstance(raw, list):
            return []  # a non-list was already reported by fields()
        return [(f"{where}[{index}]", item) for index, item in enumerate(raw)]

    def unique(self, where: str, key: str, existing: Container[str], what: str) -> bool:
        """False (and a problem) if ``key`` is already in ``existing``; callers then add it."""
        if key in existing:
            self.problems.append(f"{where}: duplicate {what} {key!r}")
            return False
        return True

    # --- the document -----------------------------------------------------------------------
    def build(self, doc: dict[str, Any]) -> State:
        self.fields("", doc, TOP)
        state = State(partner=self.partner(doc.get("partner")))
        self.credentials(state, doc.get("partner"))
        for where, raw in self.items("account_managers", doc.get("account_managers")):
            data = self.fields(where, raw, MANAGER)
            if data and self.unique(where, data["account_name"], state.account_managers, "manager"):
                state.account_managers[data["account_name"]] = AccountManager(**data)
        for where, raw in self.items("customers", doc.get("customers")):
            self.customer(state, where, raw, owner=None)
        for where, raw in self.items("resellers", doc.get("resellers")):
            self.reseller(state, where, raw)
        for where, raw in self.items("quotas", doc.get("quotas")):
            self.quota(state, where, raw)
        for where, raw in self.items("issued_quotas", doc.get("issued_quotas")):
            self.issued(state, where, raw, auto_record="records" not in doc)
        for where, raw in self.items("records", doc.get("records")):
            self.record(state, where, raw)
        state.records.sort(key=lambda r: r.operation_time)  # the API lists them in time order
        seed_funds.build(self, state, doc)
        return state

    def partner(self, raw: object) -> Partner:
        default = DEFAULT_CREDENTIALS
        base = {
            "domain_id": default.domain_id,
            "account_name": default.account_name,
            "name": "Demo Distributor Co., Ltd.",
            "xaccount_type": "demo_distributor_platform",
        }
        if raw is None:
            return Partner(**base)
        data = self.fields("partner", raw, PARTNER)
        data.pop("credentials", None)
        return Partner(**{**base, **data})

    def credentials(self, state: State, raw_partner: object) -> None:
        raw = raw_partner.get("credentials") if isinstance(raw_partner, Mapping) else None
        if raw is None:
            for cred in (DEFAULT_CREDENTIALS, DEFAULT_READONLY_CREDENTIALS):
                state.credentials[cred.ak] = Credential(cred.ak, cred.sk, cred.role)
            return
        for where, item in self.items("partner.credentials", raw):
            data = self.fields(where, item, CREDENTIAL)
            if data and self.unique(where, data["ak"], state.credentials, "ak"):
                state.credentials[data["ak"]] = Credential(**data)

    def customer(self, state: State, where: str, raw: object, owner: str | None) -> None:
        data = self.fields(where, raw, CUSTOMER)
        if not data or not self.unique(where, data["customer_id"], state.customers, "customer_id"):
            return
        resources = data.pop("resources", None)
        manager = data.get("account_manager")
        if manager is not None and manager not in state.account_managers:
            self.problems.append(
                f"{where}.account_manager: {manager!r} is not listed in account_managers"
            )
        data.setdefault("xaccount_type", state.partner.xaccount_type)
        customer = Customer(**data, indirect_partner_id=owner)
        state.customers[customer.customer_id] = customer
        for res_where, res_raw in self.items(f"{where}.resources", resources):
            self.resource(state, res_where, res_raw, customer.customer_id)

    def resource(self, state: State, where: str, raw: object, customer_id: str) -> None:
        data = self.fields(where, raw, RESOURCE)
        if not data or not self.unique(where, data["resource_id"], state.resources, "resource_id"):
            return
        attached = data.pop("attached", None)
        data.setdefault("id", default_id("order-instance", data["resource_id"]))
        main = Resource(customer_id=customer_id, **data)
        state.resources[main.resource_id] = main
        for sub_where, sub_raw in self.items(f"{where}.attached", attached):
            sub = self.fields(sub_where, sub_raw, ATTACHED)
            if not sub or not self.unique(
                sub_where, sub["resource_id"], state.resources, "resource_id"
            ):
                continue
            sub.setdefault("id", default_id("order-instance", sub["resource_id"]))
            for inherited in (
                "status",
                "effective_time",
                "expire_time",
                "region_code",
                "project_id",
            ):
                sub.setdefault(inherited, getattr(main, inherited))
            state.resources[sub["resource_id"]] = Resource(
                customer_id=customer_id,
                parent_resource_id=main.resource_id,
                is_main_resource=0,
                expire_policy=main.expire_policy,
                **sub,
            )

    def reseller(self, state: State, where: str, raw: object) -> None:
        data = self.fields(where, raw, RESELLER)
        rid = data.get("indirect_partner_id")
        if not rid or not self.unique(where, rid, state.resellers, "indirect_partner_id"):
            return
        customers = data.pop("customers", None)
        reseller_accounts = data.pop("accounts", None)
        state.resellers[rid] = Reseller(**data)
        seed_funds.accounts(self, state, f"{where}.accounts", reseller_accounts, owner=rid)
        for cust_where, cust_raw in self.items(f"{where}.customers", customers):
            self.customer(state, cust_where, cust_raw, owner=rid)

    def quota(self, state: State, where: str, raw: object) -> None:
        data = self.fields(where, raw, QUOTA)
        if not data or not self.unique(where, data["quota_id"], state.quotas, "quota_id"):
            return
        data.setdefault("balance", data["quota_value"])
        if data["balance"] > data["quota_value"]:
            self.problems.append(f"{where}.balance: greater than quota_value")
        data.setdefault("create_time", data.get("effective_time"))
        data.setdefault("last_update_time", data.get("create_time"))
        state.quotas[data["quota_id"]] = Quota(**data)

    def issued(self, state: State, where: str, raw: object, *, auto_record: bool) -> None:
        data = self.fields(where, raw, ISSUED)
        if not data or not self.unique(where, data["quota_id"], state.quotas, "quota_id"):
            return
        parent = state.quotas.get(data["parent_quota_id"])
        if parent is None or parent.indirect_partner_id is not None:
            self.problems.append(
                f"{where}.parent_quota_id: no distributor quota {data['parent_quota_id']!r}"
            )
            return
        reseller = state.resellers.get(data["indirect_partner_id"])
        if reseller is None:
            self.problems.append(
                f"{where}.indirect_partner_id: no reseller {data['indirect_partner_id']!r}"
            )
            return
        data.setdefault("balance", data["quota_value"])
        for inherited in ("quota_type", "effective_time", "expire_time", "create_time"):
            data.setdefault(inherited, getattr(parent, inherited))
        data.setdefault("last_update_time", data["create_time"])
        quota = Quota(currency=parent.currency, measure_id=parent.measure_id, **data)
        state.quotas[quota.quota_id] = quota
        if auto_record:
            state.records.append(self._issue_record(state, quota, reseller))

    def _issue_record(self, state: State, quota: Quota, reseller: Reseller) -> QuotaRecord:
        return QuotaRecord(
            id=default_id("record", f"seed-issue:{quota.quota_id}"),
            operation_type="10",
            amount=quota.quota_value,
            operation_time=quota.create_time or "",
            result="0",
            quota_id=quota.quota_id,
            parent_quota_id=quota.parent_quota_id,
            operator=state.partner.account_name,
            indirect_partner_id=reseller.indirect_partner_id,
            indirect_partner_account_name=reseller.account_name,
            indirect_partner_name=reseller.name,
        )

    def record(self, state: State, where: str, raw: object) -> None:
        data = self.fields(where, raw, RECORD)
        if not data:
            return
        reseller = state.resellers.get(data["indirect_partner_id"])
        if reseller is None:
            self.problems.append(
                f"{where}.indirect_partner_id: no reseller {data['indirect_partner_id']!r}"
            )
            return
        data.setdefault("id", default_id("record", f"seed:{where}"))
        data.setdefault("result", "0")
        data.setdefault("operator", state.partner.account_name)
        state.records.append(
            QuotaRecord(
                indirect_partner_account_name=reseller.account_name,
                indirect_partner_name=reseller.name,
                **data,
            )
        )


_REQUIRED: dict[int, tuple[str, ...]] = {}


def _required(spec: Mapping[str, F]) -> tuple[str, ...]:
    key = id(spec)
    if key not in _REQUIRED:
        _REQUIRED[key] = tuple(name for name, f in spec.items() if f.required)
    return _REQUIRED[key]


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)
