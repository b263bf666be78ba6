"""What export reads: the scope asked for, the shared listings, and each kind's own reads.

The customers and resellers in scope are read here (every one, or those ``--customer`` and
``--reseller`` name); each kind then reads what it writes (its ``export_read``) into the
:class:`~reconciler.gitops.account.ExportAccount`, concurrently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError
from reconciler.gitops.account import ExportAccount, ExportProgress
from reconciler.kinds import registry
from reconciler.plan.pools import pool_map, workers_for
from reconciler.plan.references import by_id_or_name, customer_directory, reseller_directory

if TYPE_CHECKING:
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer, IndirectPartner
    from reconciler.emulator.clock import Clock
    from reconciler.plan.progress import Progress

#: The kinds ``export --kind`` takes (every kind that exports a file).
KINDS: tuple[str, ...] = tuple(k.id for k in registry.with_exports())
#: The live account an export is written from (the name the tests and callers know).
LiveAccount = ExportAccount


def _all_kinds() -> frozenset[str]:
    return frozenset(KINDS)


@dataclass(frozen=True)
class ExportScope:
    """What to export: kinds, and customers / resellers by account name or ID (empty: all)."""

    kinds: frozenset[str] = field(default_factory=_all_kinds)
    customers: tuple[str, ...] = ()
    resellers: tuple[str, ...] = ()

    def needs(self, subject: str) -> bool:
        """Whether a kind in scope needs the shared listing of ``subject`` (customers, ...)."""
        return any(subject in k.export_subjects for k in registry.KINDS if k.id in self.kinds)

    @property
    def needs_customers(self) -> bool:
        return self.needs("customer")


async def read_account(
    client: BssClient,
    scope: ExportScope,
    account: ExportAccount,
    *,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> None:
    """Fill ``account`` with what ``scope`` asks for; unknown filter values are an error."""
    shown = ExportProgress(client, progress, clock)
    shown.progress.line("Reading the partner account (export)...")
    unknown: list[str] = []
    try:
        if scope.needs("customer"):
            account.customers = await _customers(client, scope.customers, unknown)
        if scope.needs("reseller"):
            account.resellers = await _resellers(client, scope.resellers, unknown)
        if unknown:
            raise ConfigError(
                "not found in the partner account: "
                + ", ".join(unknown)
                + " (give account names or IDs exactly)"
            )
        c = shown.counters
        c.customers = c.customers_found = len(account.customers)
        c.resellers = c.resellers_found = len(account.resellers)
        shown.progress.update(c)
        kinds = [k for k in registry.with_exports() if k.id in scope.kinds]
        await asyncio.gather(*(k.export_read(client, account, shown) for k in kinds))
    finally:
        shown.progress.finish()


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
