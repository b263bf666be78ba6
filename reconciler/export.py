"""Export: write the live partner account as manifests, so an existing account can be adopted.

``reconciler export DIR`` reads live state through the client and writes, in the layout a person
would write by hand (``examples/manifests``):

======================== ================================================================
``account-managers.yaml`` every customer and its manager (``null``: none)
``auto-renew.yaml``       per customer, the majority as ``autoRenew`` and the other resources
                          as overrides by resource ID
``reseller-quotas.yaml``  one ``ResellerQuota`` document per distributor quota
``settings.yaml``         the agency name and the roster of managers seen
======================== ================================================================

The promise is a round trip: ``plan`` on what export wrote shows no changes, and ``drift`` none.
So export writes exactly what the plan reads: the same main resources, balances counted the
same way (:func:`reconciler.kinds.reseller_quota.live_balance`), and references the reader
resolves (an account name when it is unique and has no space, else the ID). Expired and frozen
resources cannot be changed: they do not count towards a customer's default, and where they
differ from it they are pinned to their live value so that they show no drift. Closed resources
and customers without a renewable resource are left out. Nothing here writes to the account.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError
from reconciler.pools import pool_map, workers_for
from reconciler.reader import QUOTA_IDS_PER_CALL
from reconciler.references import by_id_or_name, customer_directory, reseller_directory

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import CouponQuota, Customer, IndirectPartner, IssuedQuota, Resource
    from reconciler.emulator.clock import Clock

KINDS = ("account-manager", "auto-renew", "reseller-quota")
FILES = {
    "account-manager": "account-managers.yaml",
    "auto-renew": "auto-renew.yaml",
    "reseller-quota": "reseller-quotas.yaml",
    "settings": "settings.yaml",
}


@dataclass(frozen=True)
class ExportScope:
    """What to export: kinds, and customers / resellers by account name or ID (empty: all)."""

    kinds: frozenset[str] = frozenset(KINDS)
    customers: tuple[str, ...] = ()
    resellers: tuple[str, ...] = ()

    @property
    def needs_customers(self) -> bool:
        return bool(self.kinds & {"account-manager", "auto-renew"})


@dataclass
class LiveAccount:
    """The live state an export is written from."""

    partner_id: str
    endpoint: str
    agency_name: str | None
    customers: list[Customer] = field(default_factory=list)
    #: customer id -> its main yearly/monthly resources
    resources: dict[str, list[Resource]] = field(default_factory=dict)
    resellers: list[IndirectPartner] = field(default_factory=list)
    #: reseller id -> every quota issued to it
    issued: dict[str, list[IssuedQuota]] = field(default_factory=dict)
    distributor_quotas: dict[str, CouponQuota] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


async def read_account(client: BssClient, scope: ExportScope, account: LiveAccount) -> None:
    """Fill ``account`` with what ``scope`` asks for; unknown filter values are an error."""
    unknown: list[str] = []
    if scope.needs_customers:
        account.customers = await _customers(client, scope.customers, unknown)
    if "reseller-quota" in scope.kinds:
        account.resellers = await _resellers(client, scope.resellers, unknown)
    if unknown:
        raise ConfigError(
            "not found in the partner account: "
            + ", ".join(unknown)
            + " (give account names or IDs exactly)"
        )
    await asyncio.gather(_resources(client, scope, account), _quotas(client, account))


async def _customers(
    client: BssClient, wanted: Sequence[str], unknown: list[str]
) -> list[Customer]:
    if not wanted:
        return await client.all_sub_customers()

    d = customer_directory(client)
    found = await pool_map(
        wanted, lambda v: by_id_or_name(v, d), workers_for(client.rate_for(d.api))
    )
    unknown += [f"customer {v!r}" for v, c in zip(wanted, found, strict=True) if c is None]
    return list({c.customer_id: c for c in found if c is not None}.values())


async def _resellers(
    client: BssClient, wanted: Sequence[str], unknown: list[str]
) -> list[IndirectPartner]:
    if not wanted:
        return await client.all_indirect_partners()

    d = reseller_directory(client)
    found = await pool_map(
        wanted, lambda v: by_id_or_name(v, d), workers_for(client.rate_for(d.api))
    )
    unknown += [f"reseller {v!r}" for v, r in zip(wanted, found, strict=True) if r is None]
    return list({r.indirect_partner_id: r for r in found if r is not None}.values())


async def _resources(client: BssClient, scope: ExportScope, account: LiveAccount) -> None:
    if "auto-renew" not in scope.kinds:
        return
    ids = sorted(c.customer_id for c in account.customers)

    async def main_resources(cid: str) -> list[Resource]:
        return [
            r
            async for r in client.iter_customer_resources(cid, only_main_resource=1)
            if r.is_main_resource
        ]

    rate = client.rate_for("list_pay_per_use_customer_resources")
    lists = await pool_map(ids, main_resources, workers_for(rate))
    account.resources = dict(zip(ids, lists, strict=True))


async def _quotas(client: BssClient, account: LiveAccount) -> None:
    ids = sorted(r.indirect_partner_id for r in account.resellers)
    rate = client.rate_for("list_issued_coupon_quotas")
    lists = await pool_map(
        ids,
        lambda rid: client.all_issued_coupon_quotas(indirect_partner_id=rid),
        workers_for(rate),
    )
    account.issued = dict(zip(ids, lists, strict=True))
    parents = sorted({q.parent_quota_id for qs in lists for q in qs if q.parent_quota_id})
    for start in range(0, len(parents), QUOTA_IDS_PER_CALL):
        batch = parents[start : start + QUOTA_IDS_PER_CALL]
        async for quota in client.iter_quota_coupons(quota_ids=batch):
            account.distributor_quotas[quota.quota_id] = quota
    for missing in sorted(set(parents) - set(account.distributor_quotas)):
        account.warnings.append(
            f"distributor quota {missing} has quotas issued from it but is not listed among "
            "yours (expired or of another type?): its reseller balances are not exported"
        )


# -- the command's work ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    directory: Path
    written: tuple[tuple[str, str], ...]  # (file name, what it holds)
    warnings: tuple[str, ...]
    partner_id: str
    endpoint: str


def run_export(
    directory: Path,
    scope: ExportScope,
    *,
    force: bool = False,
    endpoint: str | None = None,
    profile: str | None = None,
    clock: Clock | None = None,
) -> ExportResult:
    """Read live state, write the manifests into ``directory`` and check they validate."""
    from reconciler.connect import connect, resolve_target
    from reconciler.export_yaml import render_files

    target = resolve_target(endpoint, profile)
    _refuse_overwrite(directory, scope, force)

    async def read() -> LiveAccount:
        async with connect(target, clock=clock) as conn:
            account = LiveAccount(conn.partner_id, target.label, conn.agency_name)
            await read_account(conn.client, scope, account)
            return account

    account = asyncio.run(read())
    files = render_files(account, scope, schema_dir=_schema_dir(directory))
    directory.mkdir(parents=True, exist_ok=True)
    for name, (text, _) in files.items():
        _write(directory / name, text)
    _check(directory, files)
    return ExportResult(
        directory=directory,
        written=tuple((name, what) for name, (_, what) in files.items()),
        warnings=tuple(account.warnings),
        partner_id=account.partner_id,
        endpoint=account.endpoint,
    )


def target_files(scope: ExportScope) -> list[str]:
    return [FILES[k] for k in KINDS if k in scope.kinds] + [FILES["settings"]]


def _refuse_overwrite(directory: Path, scope: ExportScope, force: bool) -> None:
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory} exists and is not a directory")
    existing = [directory / n for n in target_files(scope) if (directory / n).exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise ConfigError(f"refusing to overwrite {names}; pass --force to replace them")


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _check(directory: Path, files: Collection[str]) -> None:
    """What export writes must load; anything else is a bug worth a loud error."""
    from reconciler.desired import load_desired
    from reconciler.errors import ManifestError

    try:
        load_desired([directory / name for name in files])
    except ManifestError as err:
        raise ConfigError(
            f"the exported manifests do not validate (a bug, please report it):\n{err}"
        ) from err


def _schema_dir(directory: Path) -> str:
    """The modeline's path to ``schemas/``: the nearest one above ``directory``, else ``../``."""
    here = directory.resolve()
    for parent in [here, *here.parents]:
        if (parent / "schemas" / "manifest.schema.json").is_file():
            rel = Path(*[".."] * len(here.relative_to(parent).parts)) / "schemas"
            return rel.as_posix()
    return "../schemas"
