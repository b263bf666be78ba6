"""The manifests ``reconciler export`` writes: each kind's file, and ``settings.yaml``.

Each kind writes its own file (its ``export_render``, with the toolkit of
:mod:`reconciler.gitops.yamlout`); this module puts them together, writes the Settings (the agency
name and the roster of managers seen) and stamps every file with the checksum of its content, so
a later export can tell a file it wrote and nobody edited from a hand-written one. Output is
deterministic: the same live state gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from reconciler.gitops import yamlout as y
from reconciler.kinds import registry

if TYPE_CHECKING:
    from reconciler.bss.models import Customer
    from reconciler.gitops.account import ExportAccount
    from reconciler.gitops.export_read import ExportScope

SETTINGS_FILE = "settings.yaml"

Files = dict[str, tuple[str, str]]  # file name -> (text, what it holds)
#: Per kind id, which live objects to write (export merging into manifests that declare the
#: others); a kind not listed writes every object.
Only = Mapping[str, Callable[[Any], bool]]


def render_files(
    account: ExportAccount, scope: ExportScope, *, schema_dir: str, only: Only | None = None
) -> Files:
    """Every file of ``scope``, each stamped with the checksum of its content."""
    only = only or {}
    files: Files = {}
    for kind in registry.with_exports():
        if kind.id in scope.kinds and kind.export_file:
            keep = only.get(kind.id, lambda _obj: True)
            files[kind.export_file] = kind.export_render(account, schema_dir, keep)
    files[SETTINGS_FILE] = _settings(account, y.sorted_customers(account), schema_dir)
    return {name: (y.stamp(text), what) for name, (text, what) in files.items()}


def _settings(
    account: ExportAccount, customers: Sequence[Customer], schema_dir: str
) -> tuple[str, str]:
    lines = y.header(
        schema_dir,
        account,
        "Guards, scope and plan lifetime are left at their defaults (docs/manifests.md).",
    )
    lines += y.envelope("Settings", "settings")
    roster = sorted({m for c in customers if (m := c.account_manager) and y.writable_name(m)})
    spec: y.Pairs = []
    if account.agency_name and not y.writable_name(account.agency_name):
        account.warnings.append(
            f"the agency name {account.agency_name!r} cannot be written in a manifest; set "
            "Settings spec.agencyName by hand"
        )
    elif account.agency_name:
        spec.append(
            (f"  agencyName: {y.scalar(account.agency_name)}", "the IAM agency customers grant")
        )
    if roster:
        names = ", ".join(y.scalar(m) for m in roster)
        spec.append((f"  accountManagers: [{names}]", "every manager seen on a customer"))
    if spec:
        lines += ["spec:", *y.lines(spec)]
    else:
        lines.append("spec: {}")
    if not account.agency_name:
        lines.append(
            "# Set spec.agencyName (or RECONCILER_AGENCY_NAME) to the agency customers grant, "
            f"for {_agency_kinds()}."
        )
    agency = account.agency_name or "no agency name"
    return y.text(lines), f"{agency}, {len(roster)} account managers"


def _agency_kinds() -> str:
    """The kinds whose changes need the agency, in words: ``auto-renew``."""
    return ", ".join(k.title.lower() for k in registry.KINDS if k.uses_agency)
