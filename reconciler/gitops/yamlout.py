"""Writing manifests as YAML text for people: the toolkit of ``reconciler export``.

Written by hand rather than by a YAML dumper so exported files look like the ones in
``examples/manifests``: a schema modeline first in every document (the YAML language server
reads a modeline per document; :data:`UNION_SCHEMA` picks each document's schema by kind),
amounts as quoted two-decimal strings, IDs always quoted, and a comment on each line with what a
reviewer wants beside it. Each kind's export (its ``export_render``) writes its file with these;
:mod:`reconciler.gitops.export_yaml` puts the files together.

Names are chosen by third parties, so any name must round-trip: a value that is not a plain word
is a YAML double-quoted scalar with every control, bidi or invisible character as an escape
(:func:`reconciler.render.escape.yaml_quoted`), and comments spell such characters out. A name
the manifests cannot hold (a name with a space, longer than 64 characters, or not encodable) is
left out with a warning: absent means unmanaged, so plan still shows no changes.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.plan.model import ZERO
from reconciler.render.escape import yaml_comment, yaml_quoted, yaml_representable

if TYPE_CHECKING:
    from reconciler.bss.models import Customer, IndirectPartner
    from reconciler.gitops.account import ExportAccount

API_VERSION = "partner-reconciler/v1"
UNION_SCHEMA = "manifest.schema.json"
COMMENT_COLUMN = 52
PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9._-]*")
NOT_PLAIN = {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
MAX_NAME = 64

#: Code lines and their comments (``None``: no comment).
Pairs = list[tuple[str, str | None]]


def scalar(value: str) -> str:
    """A YAML scalar that reads back as exactly ``value`` (plain when that is unambiguous)."""
    if PLAIN.fullmatch(value) and value.lower() not in NOT_PLAIN:
        return value
    return yaml_quoted(value)


def quoted(value: str) -> str:
    return yaml_quoted(value)


def writable_name(name: str | None) -> bool:
    """A name a manifest can hold as a string field (``^\\S+$``, at most 64 characters)."""
    return (
        bool(name)
        and len(name or "") <= MAX_NAME
        and not any(ch.isspace() for ch in name or "")
        and yaml_representable(name or "")
    )


def lines(pairs: Iterable[tuple[str, str | None]]) -> list[str]:
    """Code lines with their comments lined up at one column (or two spaces after long ones)."""
    out = []
    for code, note in pairs:
        if note:
            pad = max(COMMENT_COLUMN - len(code), 2)
            out.append(f"{code}{' ' * pad}# {yaml_comment(note)}")
        else:
            out.append(code)
    return out


def modeline(schema_dir: str) -> str:
    """The editor modeline every exported document starts with."""
    return f"# yaml-language-server: $schema={schema_dir}/{UNION_SCHEMA}"


def header(schema_dir: str, account: ExportAccount, *about: str) -> list[str]:
    """The top of a file: the modeline, the "Exported by" line (:func:`stamp`), ``about``."""
    return [
        modeline(schema_dir),
        f"# Exported by `reconciler export` from partner {yaml_comment(account.partner_id)}.",
        *(f"# {line}" for line in about),
    ]


def envelope(kind: str, name: str) -> list[str]:
    return [f"apiVersion: {API_VERSION}", f"kind: {kind}", "metadata:", f"  name: {name}"]


def document_name(name: str, index: int, prefix: str) -> str:
    """``name`` when it is a valid ``metadata.name``, else ``<prefix>-<index + 1>``."""
    return name if len(name) <= MAX_NAME and NAME.fullmatch(name) else f"{prefix}-{index + 1}"


def unique_names(names: Iterable[str | None]) -> set[str]:
    counts = Counter(n for n in names if n)
    return {n for n, c in counts.items() if c == 1}


def usable_name(name: str | None, unique: set[str]) -> bool:
    """A name the plan's reader resolves back to the same object."""
    return writable_name(name) and name in unique


def sorted_customers(account: ExportAccount) -> list[Customer]:
    return sorted(account.customers, key=lambda c: (c.account_name or "", c.customer_id))


def sorted_resellers(account: ExportAccount) -> list[IndirectPartner]:
    return sorted(account.resellers, key=lambda r: (r.account_name or "", r.indirect_partner_id))


def customer_ref(customer: Customer, unique: set[str]) -> tuple[str, str | None]:
    """(``key: value`` text, comment) naming a customer the way the reader resolves it."""
    if usable_name(customer.account_name, unique):
        return f"customer: {scalar(customer.account_name or '')}", customer.customer_id
    note = f"account name {customer.account_name!r}" if customer.account_name else None
    return f"customerId: {quoted(customer.customer_id)}", note


def reseller_ref(reseller: IndirectPartner, unique: set[str]) -> tuple[str, str | None]:
    """(``key: value`` text, comment) naming a reseller the way the reader resolves it."""
    if usable_name(reseller.account_name, unique):
        return f"reseller: {scalar(reseller.account_name or '')}", reseller.indirect_partner_id
    note = f"account name {reseller.account_name!r}" if reseller.account_name else None
    return f"resellerId: {quoted(reseller.indirect_partner_id)}", note


def number(value: Decimal | None) -> str:
    """``12,000.00`` (a missing value as ``0.00``), for comments."""
    return f"{(value if value is not None else ZERO):,.2f}"


def text(code: Sequence[str]) -> str:
    return "\n".join(code) + "\n"


STAMP = re.compile(r"^# Exported by `reconciler export` from partner .*\.$", re.MULTILINE)
STAMPED = re.compile(r" \(content sha256:([0-9a-f]{16})\)\.$")


def _digest(content: str) -> str:
    return hashlib.sha256(STAMP.sub("", content, count=1).encode("utf-8")).hexdigest()[:16]


def stamp(content: str) -> str:
    """Put the checksum of ``content`` (without its "Exported by" line) into that line."""
    digest = _digest(content)
    return STAMP.sub(lambda m: m.group(0)[:-1] + f" (content sha256:{digest}).", content, count=1)


def unedited_export(content: str) -> bool:
    """Whether ``content`` is a file export wrote, as it wrote it."""
    line = STAMP.search(content)
    found = STAMPED.search(line.group(0)) if line else None
    if line is None or found is None:
        return False
    plain = line.group(0)[: found.start()] + "."
    return _digest(content.replace(line.group(0), plain, 1)) == found.group(1)
