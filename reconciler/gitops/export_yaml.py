"""The manifests ``reconciler export`` writes, as YAML text with comments for people.

Written by hand rather than by a YAML dumper so the files look like the ones in
``examples/manifests``: a schema modeline first in every document (the YAML language server
reads a modeline per document; :data:`UNION_SCHEMA` picks each document's schema by kind),
flow-style manager assignments, amounts as quoted two-decimal strings, IDs always quoted, and
a comment on each line with what a reviewer wants beside it (the customer ID of a name, the
resource behind an ID, issued and spent quota).
Output is deterministic: the same live state gives the same bytes.

Names are chosen by third parties, so any name must round-trip: a value that is not a plain word
is a YAML double-quoted scalar with every control, bidi or invisible character as an escape
(:func:`reconciler.render.escape.yaml_quoted`), and comments spell such characters out. A name the
manifests cannot hold (a manager name with a space, longer than 64 characters, or not encodable)
is left out with a warning: absent means unmanaged, so plan still shows no changes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.kinds.auto_renew import NOT_RENEWABLE, STATUS_CLOSED
from reconciler.kinds.reseller_quota import STATUS_NAMES, VALID, live_balance
from reconciler.plan.model import ZERO, fmt_money, money
from reconciler.render.escape import yaml_comment, yaml_quoted, yaml_representable

if TYPE_CHECKING:
    from reconciler.bss.models import CouponQuota, Customer, IndirectPartner, IssuedQuota, Resource
    from reconciler.gitops.export_read import ExportScope, LiveAccount

API_VERSION = "partner-reconciler/v1"
UNION_SCHEMA = "manifest.schema.json"
COMMENT_COLUMN = 52
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
NOT_PLAIN = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
MAX_NAME = 64

Files = dict[str, tuple[str, str]]  # file name -> (text, what it holds)


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly ``value`` (plain when that is unambiguous)."""
    if PLAIN.fullmatch(value) and value.lower() not in NOT_PLAIN:
        return value
    return yaml_quoted(value)


def quoted(value: str) -> str:
    return yaml_quoted(value)


def _comment(text: str) -> str:
    return yaml_comment(text)


def writable_name(name: str | None) -> bool:
    """A name a manifest can hold as a string field (``^\\S+$``, at most 64 characters)."""
    return (
        bool(name)
        and len(name or "") <= MAX_NAME
        and not any(ch.isspace() for ch in name or "")
        and yaml_representable(name or "")
    )


def _lines(pairs: Iterable[tuple[str, str | None]]) -> list[str]:
    """Code lines with their comments lined up at one column (or two spaces after long ones)."""
    out = []
    for code, note in pairs:
        if note:
            pad = max(COMMENT_COLUMN - len(code), 2)
            out.append(f"{code}{' ' * pad}# {_comment(note)}")
        else:
            out.append(code)
    return out


def modeline(schema_dir: str) -> str:
    """The editor modeline every exported document starts with."""
    return f"# yaml-language-server: $schema={schema_dir}/{UNION_SCHEMA}"


def _header(schema_dir: str, account: LiveAccount, *about: str) -> list[str]:
    return [
        modeline(schema_dir),
        f"# Exported by `reconciler export` from partner {_comment(account.partner_id)}.",
        *(f"# {line}" for line in about),
    ]


def _envelope(kind: str, name: str) -> list[str]:
    return [f"apiVersion: {API_VERSION}", f"kind: {kind}", "metadata:", f"  name: {name}"]


def _unique_names(names: Iterable[str | None]) -> set[str]:
    counts = Counter(n for n in names if n)
    return {n for n, c in counts.items() if c == 1}


def _usable_name(name: str | None, unique: set[str]) -> bool:
    """A name the plan's reader resolves back to the same object."""
    return writable_name(name) and name in unique


# -- the files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Only:
    """Which live objects to write (export merging into manifests that declare the others)."""

    managers: Callable[[Customer], bool] = lambda _c: True
    renewals: Callable[[Customer], bool] = lambda _c: True
    quotas: Callable[[str, IndirectPartner], bool] = lambda _q, _r: True


def render_files(
    account: LiveAccount, scope: ExportScope, *, schema_dir: str, only: Only | None = None
) -> Files:
    """Every file of ``scope``, each stamped with the checksum of its content (so a later export
    can tell a file it wrote and nobody edited from a hand-written one)."""
    only = only or Only()
    files: Files = {}
    customers = sorted(account.customers, key=lambda c: (c.account_name or "", c.customer_id))
    unique = _unique_names(c.account_name for c in customers)
    if "account-manager" in scope.kinds:
        kept = [c for c in customers if only.managers(c)]
        files["account-managers.yaml"] = _managers(account, kept, unique, schema_dir)
    if "auto-renew" in scope.kinds:
        kept = [c for c in customers if only.renewals(c)]
        files["auto-renew.yaml"] = _auto_renew(account, kept, unique, schema_dir)
    if "reseller-quota" in scope.kinds:
        files["reseller-quotas.yaml"] = _quotas(account, schema_dir, only.quotas)
    files["settings.yaml"] = _settings(account, customers, schema_dir)
    return {name: (stamp(text), what) for name, (text, what) in files.items()}


STAMP = re.compile(r"^# Exported by `reconciler export` from partner .*\.$", re.MULTILINE)
STAMPED = re.compile(r" \(content sha256:([0-9a-f]{16})\)\.$")


def _digest(text: str) -> str:
    return hashlib.sha256(STAMP.sub("", text, count=1).encode("utf-8")).hexdigest()[:16]


def stamp(text: str) -> str:
    """Put the checksum of ``text`` (without its "Exported by" line) into that line."""
    digest = _digest(text)
    return STAMP.sub(lambda m: m.group(0)[:-1] + f" (content sha256:{digest}).", text, count=1)


def unedited_export(text: str) -> bool:
    """Whether ``text`` is a file export wrote, as it wrote it."""
    line = STAMP.search(text)
    found = STAMPED.search(line.group(0)) if line else None
    if line is None or found is None:
        return False
    plain = line.group(0)[: found.start()] + "."
    return _digest(text.replace(line.group(0), plain, 1)) == found.group(1)


def _customer_ref(customer: Customer, unique: set[str]) -> tuple[str, str | None]:
    """(``key: value`` text, comment) naming a customer the way the reader resolves it."""
    if _usable_name(customer.account_name, unique):
        return f"customer: {scalar(customer.account_name or '')}", customer.customer_id
    note = f"account name {customer.account_name!r}" if customer.account_name else None
    return f"customerId: {quoted(customer.customer_id)}", note


def _managers(
    account: LiveAccount, customers: Sequence[Customer], unique: set[str], schema_dir: str
) -> tuple[str, str]:
    lines = _header(
        schema_dir,
        account,
        "Every customer and its account manager (null: none). The partner API cannot assign",
        "managers: a difference is planned as a manual change with the Partner Center steps.",
    )
    lines += [*_envelope("AccountManagers", "account-managers"), "spec:", "  customers:"]
    pairs: list[tuple[str, str | None]] = []
    written = [c for c in customers if _manager_writable(account, c)]
    for c in written:
        ref, note = _customer_ref(c, unique)
        manager = scalar(c.account_manager) if c.account_manager else "null"
        pairs.append((f"    - {{{ref}, manager: {manager}}}", note))
    if pairs:
        lines += _lines(pairs)
    else:
        lines[-1] = "  customers: []"
    with_manager = sum(1 for c in written if c.account_manager)
    return _text(lines), f"{len(written)} customers ({with_manager} with a manager)"


def _manager_writable(account: LiveAccount, customer: Customer) -> bool:
    """Whether the customer's manager can be written; a warning when it cannot."""
    if customer.account_manager is None or writable_name(customer.account_manager):
        return True
    account.warnings.append(
        f"customer {customer.customer_id}: its account manager {customer.account_manager!r} "
        "cannot be written in a manifest (a name has at most 64 characters and no spaces); "
        "the customer is left out of account-managers.yaml (unmanaged)"
    )
    return False


def _resource_note(res: Resource) -> str:
    service = (res.service_type_code or "?").rsplit(".", 1)[-1]
    where = f" {res.region_code}" if res.region_code else ""
    return f"{res.resource_name or '(no name)'} [{service}{where}]"


def _auto_renew(
    account: LiveAccount, customers: Sequence[Customer], unique: set[str], schema_dir: str
) -> tuple[str, str]:
    lines = _header(
        schema_dir,
        account,
        "Per customer, autoRenew is what most of its yearly/monthly resources have now; the",
        "others are listed by resource ID. Expired and frozen resources cannot be changed: they",
        "are pinned to their live value where it differs. Closed resources are left out.",
    )
    lines += [*_envelope("AutoRenew", "auto-renew"), "spec:", "  customers:"]
    pairs: list[tuple[str, str | None]] = []
    counted = overrides = 0
    for c in customers:
        rule = _renew_rule(c, account.resources.get(c.customer_id, []), unique)
        if rule is None:
            continue
        pairs += rule[0]
        counted += rule[1]
        overrides += rule[2]
    if not pairs:
        lines[-1] = "  customers: []"
    lines += _lines(pairs)
    n = sum(1 for code, _ in pairs if code.startswith("    - "))
    return _text(lines), f"{n} customers, {counted} resources ({overrides} by resource ID)"


def _renew_rule(
    customer: Customer, resources: Sequence[Resource], unique: set[str]
) -> tuple[list[tuple[str, str | None]], int, int] | None:
    live = sorted((r for r in resources if r.status != STATUS_CLOSED), key=lambda r: r.resource_id)
    renewable = [r for r in live if r.status not in NOT_RENEWABLE]
    if not renewable:
        return None
    on = sum(1 for r in renewable if r.auto_renew)
    default = on * 2 > len(renewable)  # a tie gives false: nothing renews unless stated
    ref, note = _customer_ref(customer, unique)
    pairs: list[tuple[str, str | None]] = [
        (f"    - {ref}", note),
        (
            f"      autoRenew: {'true' if default else 'false'}",
            f"{'on' if default else 'off'} for {on if default else len(renewable) - on} of "
            f"{len(renewable)} renewable resources",
        ),
    ]
    differing = [r for r in live if r.auto_renew != default]
    if differing:
        pairs.append(("      resources:", None))
    for r in differing:
        note = _resource_note(r)
        if r.status in NOT_RENEWABLE:
            note += f", {NOT_RENEWABLE[r.status or 0]}: cannot change until it is renewed"
        flag = "true" if r.auto_renew else "false"
        pairs.append((f"        {quoted(r.resource_id)}: {flag}", note))
    return pairs, len(live), len(differing)


def _reseller_ref(reseller: IndirectPartner, unique: set[str]) -> tuple[str, str | None]:
    if _usable_name(reseller.account_name, unique):
        return f"reseller: {scalar(reseller.account_name or '')}", reseller.indirect_partner_id
    note = f"account name {reseller.account_name!r}" if reseller.account_name else None
    return f"resellerId: {quoted(reseller.indirect_partner_id)}", note


def _quotas(
    account: LiveAccount, schema_dir: str, only: Callable[[str, IndirectPartner], bool]
) -> tuple[str, str]:
    resellers = sorted(
        account.resellers, key=lambda r: (r.account_name or "", r.indirect_partner_id)
    )
    unique = _unique_names(r.account_name for r in resellers)
    docs: list[list[str]] = []
    targets = 0
    for index, parent in enumerate(
        sorted(account.distributor_quotas.values(), key=lambda q: q.quota_id)
    ):
        pairs: list[tuple[str, str | None]] = []
        for reseller in resellers:
            children = [
                q
                for q in account.issued.get(reseller.indirect_partner_id, [])
                if q.parent_quota_id == parent.quota_id
            ]
            if children and only(parent.quota_id, reseller):
                ref, note = _reseller_ref(reseller, unique)
                pairs.append((f"    - {ref}", note))
                balance = fmt_money(live_balance(children))
                pairs.append((f"      balance: {quoted(balance)}", _balance_note(children)))
        if not pairs:
            continue
        targets += sum(1 for code, _ in pairs if code.startswith("    - "))
        doc = _envelope("ResellerQuota", _quota_doc_name(parent.quota_id, index))
        doc += ["spec:"]
        doc += _lines([(f"  distributorQuota: {quoted(parent.quota_id)}", _parent_note(parent))])
        doc += ["  resellers:", *_lines(pairs)]
        docs.append(doc)
    lines = _header(
        schema_dir,
        account,
        "One document per distributor quota: the balance each reseller holds from it now",
        "(valid quotas only). Raising a balance issues the difference; lowering one reclaims",
        "whole reseller quotas, and what a reseller already spent never comes back.",
    )
    if not docs:
        lines.append("# No reseller holds quota issued from your distributor quotas.")
    for n, doc in enumerate(docs):
        lines += (["---", modeline(schema_dir)] if n else []) + doc
    return _text(lines), f"{len(docs)} distributor quotas, {targets} reseller balances"


def _quota_doc_name(quota_id: str, index: int) -> str:
    name = f"quota-{quota_id}"
    return name if len(name) <= MAX_NAME and NAME.fullmatch(name) else f"quota-{index + 1}"


def _parent_note(parent: CouponQuota) -> str:
    cur = parent.currency or "CNY"
    parts = [f"{_amount(parent.quota_value)} {cur}", f"balance {_amount(parent.balance)}"]
    if parent.quota_status not in (None, VALID):
        parts.append(STATUS_NAMES.get(parent.quota_status, f"status {parent.quota_status}"))
    if parent.expire_time:
        parts.append(f"until {parent.expire_time}")
    return ", ".join(parts)


def _amount(value: Decimal | None) -> str:
    return f"{(value if value is not None else ZERO):,.2f}"


def _balance_note(children: Sequence[IssuedQuota]) -> str | None:
    valid = [q for q in children if q.quota_status == VALID]
    parts = []
    if valid:
        issued = money(sum((q.quota_value or ZERO for q in valid), ZERO))
        spent = money(
            sum((max(ZERO, (q.quota_value or ZERO) - (q.balance or ZERO)) for q in valid), ZERO)
        )
        noun = "quota" if len(valid) == 1 else "quotas"
        parts.append(f"{len(valid)} {noun}: issued {fmt_money(issued)}, spent {fmt_money(spent)}")
    reclaimed = sum(1 for q in children if q.reclaimed)
    if reclaimed:
        parts.append(f"{reclaimed} reclaimed")
    for q in children:
        if q.quota_status not in (VALID, 6):
            status = STATUS_NAMES.get(q.quota_status or -1, f"status {q.quota_status}")
            parts.append(f"{q.quota_id} {status} with {fmt_money(q.balance or ZERO)}, not counted")
    return "; ".join(parts) or None


def _settings(
    account: LiveAccount, customers: Sequence[Customer], schema_dir: str
) -> tuple[str, str]:
    lines = _header(
        schema_dir,
        account,
        "Guards, scope and plan lifetime are left at their defaults (docs/manifests.md).",
    )
    lines += _envelope("Settings", "settings")
    roster = sorted({m for c in customers if (m := c.account_manager) and writable_name(m)})
    spec: list[tuple[str, str | None]] = []
    if account.agency_name and not writable_name(account.agency_name):
        account.warnings.append(
            f"the agency name {account.agency_name!r} cannot be written in a manifest; set "
            "Settings spec.agencyName by hand"
        )
    elif account.agency_name:
        spec.append(
            (f"  agencyName: {scalar(account.agency_name)}", "the IAM agency customers grant")
        )
    if roster:
        names = ", ".join(scalar(m) for m in roster)
        spec.append((f"  accountManagers: [{names}]", "every manager seen on a customer"))
    if spec:
        lines += ["spec:", *_lines(spec)]
    else:
        lines.append("spec: {}")
    if not account.agency_name:
        lines.append(
            "# Set spec.agencyName (or RECONCILER_AGENCY_NAME) to the agency customers grant, "
            "for auto-renew."
        )
    agency = account.agency_name or "no agency name"
    return _text(lines), f"{agency}, {len(roster)} account managers"


def _text(lines: Sequence[str]) -> str:
    return "\n".join(lines) + "\n"
