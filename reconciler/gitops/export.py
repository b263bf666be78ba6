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

The files are staged and validated before any of them replaces a file in the target directory
(:func:`reconciler.files.write_files`): if what export produced does not load, the directory is
left as it was.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reconciler.errors import ConfigError
from reconciler.files import write_files
from reconciler.gitops.export_read import FILES, KINDS, ExportScope, LiveAccount, read_account
from reconciler.gitops.export_yaml import render_files

if TYPE_CHECKING:
    from reconciler.emulator.clock import Clock


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

    target = resolve_target(endpoint, profile)
    _refuse_overwrite(directory, scope, force)

    async def read() -> LiveAccount:
        async with connect(target, clock=clock) as conn:
            account = LiveAccount(conn.partner_id, target.label, conn.agency_name)
            await read_account(conn.client, scope, account)
            return account

    account = asyncio.run(read())
    files = render_files(account, scope, schema_dir=_schema_dir(directory))
    texts = {name: text for name, (text, _) in files.items()}
    write_files(directory, texts, check=lambda staged: _check(directory, staged))
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


def _check(directory: Path, staged: Mapping[str, Path]) -> None:
    """What export writes must load (as the staged directory, the way ``plan DIR`` reads it);
    anything else is a bug worth a loud error, and nothing is written."""
    from reconciler.errors import ManifestError
    from reconciler.manifests.load import load_desired

    stage = next(iter(staged.values())).parent
    try:
        load_desired([stage])
    except ManifestError as err:
        shown = str(err).replace(str(stage), str(directory))
        raise ConfigError(
            "the exported manifests do not validate (a bug, please report it); nothing was "
            f"written:\n{shown}"
        ) from err


def _schema_dir(directory: Path) -> str:
    """The modeline's path to ``schemas/``: the nearest one above ``directory``, else ``../``."""
    here = directory.resolve()
    for parent in [here, *here.parents]:
        if (parent / "schemas" / "manifest.schema.json").is_file():
            rel = Path(*[".."] * len(here.relative_to(parent).parts)) / "schemas"
            return rel.as_posix()
    return "../schemas"
