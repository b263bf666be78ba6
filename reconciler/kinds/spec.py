"""The interface every kind implements: :class:`Kind`, and the pieces a kind declares.

A kind is a package, ``reconciler/kinds/<kind>/``, holding everything that is that kind's: its
JSON Schema, its typed desired entries, the reads it needs, its pure diff, the guards it adds,
its executor and the settlement of its journal operations, its drift healing, its export and
the text it adds to renderings. :mod:`reconciler.kinds.registry` lists the kinds; the pipeline
(manifests, reader, planner, guards, apply, settlement, drift, export, renderers, CLI) iterates
the registry and never names a kind. The shared machinery stays shared and a kind plugs into it:

==========================  ===================================================================
a kind declares              the pipeline does, for every kind alike
==========================  ===================================================================
identity (id, manifest       plan keys, ordering, titles, ``--target KIND/NAME``,
kind, title, order, marks)   ``export --kind``, the union schema that dispatches on ``kind``
``schema.json``              validation with file:line:col (``schemas/`` is a generated copy)
``build`` / ``canonical``    the typed desired state and the manifest checksum
``crosschecks``              every problem of every document, reported at once
``references``               resolving customers and resellers (the fewest calls), Settings
                             ``spec.scope`` and ``--target``
``reads``                    scheduling and pacing each declared read at each API's floor
``diff``                     problems, guards, the plan (frozen data, canonical order)
``guards``                   ``--allow NAME``, Settings ``spec.guards.<key>``
``draws`` / ``balance``      one check of what every kind takes from a shared pool (a coupon
                             quota) against its balance; apply runs kinds sharing one in turn
``groups``                   the journal, the lease, fencing of every attempt, concurrency
``operations``               settlement of unknown outcomes, the in-flight horizon, freezing
``heal`` / ``drift_view``    the drift report
``export``                   staging, validation and merging of exported files
``change_text``, ...         escaping for every medium (terminal, Markdown, CI, JSON)
==========================  ===================================================================

docs/architecture.md ("Adding a kind") says what a new kind's package must provide and how to
register it. The members of :class:`Kind` marked *abstract* are what every kind must define; the
others have defaults that fit a kind without money, without agency or without export.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, Protocol, TypeVar, cast

from reconciler.kinds.base import (
    HEAL_APPLY,
    HEAL_MANUAL,
    HEAL_NONE,
    DriftView,
    money_heal_text,
)
from reconciler.kinds.reads import Batched, EachCall, EachListing, Once, Read, Subject
from reconciler.plan.guards import (
    GuardSpec,
    Observation,
    count_per_run,
    money_per_recipient,
    money_per_run,
)

if TYPE_CHECKING:
    from reconciler.apply.evidence import Evidence, Verdict
    from reconciler.apply.journal import Item, Journal, Operation
    from reconciler.apply.ops import ExecContext
    from reconciler.bss.client import BssClient
    from reconciler.bss.models import Customer
    from reconciler.errors import ManifestProblem, SourcePosition
    from reconciler.gitops.account import ExportAccount, ExportProgress
    from reconciler.kinds.base import KindResult, LiveState
    from reconciler.manifests.desired import CustomerRef, DesiredState, ResellerRef
    from reconciler.manifests.document import Document
    from reconciler.plan.model import Change
    from reconciler.render.words import Escaper

E = TypeVar("E")

# -- references ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuotaRef:
    """A coupon quota of the partner account as a manifest names it (always by ID)."""

    quota_id: str
    source: SourcePosition


@dataclass(frozen=True, slots=True)
class References:
    """What one desired entry names in the partner account.

    The reader resolves every customer and reseller named by any kind (by ID or account name,
    with the fewest calls) and reads every quota named (by ID, many per call). An entry naming
    both a customer and a reseller names a customer *of that reseller*: the reader resolves only
    the reseller, and the kind finds the customer through its own reads. Settings
    ``spec.scope`` keeps an entry when its customer and its reseller (those it names) are in
    scope; ``--target customer/NAME`` and ``--target reseller/NAME`` select the entries naming
    that customer or reseller.
    """

    customer: CustomerRef | None = None
    reseller: ResellerRef | None = None
    quotas: tuple[QuotaRef, ...] = ()

    def names(self) -> set[str]:
        """Every ID and account name written for the objects named (for ``--target``)."""
        found: set[str] = set()
        if self.customer is not None:
            found.update(v for v in (self.customer.customer_id, self.customer.account_name) if v)
        if self.reseller is not None:
            found.update(v for v in (self.reseller.reseller_id, self.reseller.account_name) if v)
        found.update(q.quota_id for q in self.quotas)
        return found


# -- shared pools ----------------------------------------------------------------------------

#: A pool of money more than one kind may draw on, e.g. ``("coupon-quota", quota_id)``: its
#: first part says what it is in words (``coupon quota``), the second which one.
PoolKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Draw:
    """What one change takes from and gives back to a pool (both ``Decimal``, two places).

    ``whole``: the change takes the pool's whole balance, whatever it is by then (a reclaim of
    the quota itself): no other kind may take from or give back to it in the same run. A draw
    of nothing (no ``takes``, ``returns`` or ``whole``) says the change depends on the pool's
    balance (its fingerprint covers it): apply never runs it beside another kind's draw on the
    pool. Within one of its groups a kind gives back before it takes (its reclaims before its
    issues), which the combined check relies on.
    """

    pool: PoolKey
    takes: Decimal = Decimal("0.00")
    returns: Decimal = Decimal("0.00")
    whole: bool = False

    @property
    def net(self) -> Decimal:
        return self.takes - self.returns


# -- apply -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """Changes the executor runs together; groups run concurrently. When ``run`` raises, every
    change of the group it left pending ends ``unknown`` (something was sent) or ``failed``."""

    changes: tuple[Change, ...]
    run: Callable[[ExecContext], Awaitable[None]]


Settle = Callable[
    ["BssClient", "Journal", "Operation", Sequence["Item"], "Evidence"],
    Awaitable[dict[str, "Verdict"]],
]


@dataclass(frozen=True)
class OperationSpec:
    """One journal operation of a kind (the API operation it sends) and how to settle it.

    ``settle`` gets the open items of an operation that was sent, and returns a
    :class:`~reconciler.apply.evidence.Verdict` per item from the API's records and live state
    (see :mod:`reconciler.apply.evidence`: only records carrying our operator prove anything;
    absent evidence is *not committed* only once nothing can still land, which the shared
    settlement decides). ``money`` says how committed item amounts count in the apply report:
    ``"out"`` (issued, funded) or ``"in"`` (reclaimed). ``delta`` marks a call that adds an
    amount to a recipient with no key to find its record by: the records check before each
    write explains such records by our items of the same recipient, amount and result.
    """

    name: str
    settle: Settle
    describe: Callable[[Operation, Item], str]
    where_to_look: Callable[[Operation], str]
    money: Literal["out", "in"] | None = None
    delta: bool = False


# -- export ----------------------------------------------------------------------------------


class ExportModule(Protocol):
    """What a kind's ``export`` module provides (``Kind.export``); the kind's id is passed in,
    so the module names no kind."""

    async def read(
        self, client: BssClient, account: ExportAccount, shown: ExportProgress, kind_id: str, /
    ) -> None:
        """Read the kind's live data for ``account`` into ``account.data[kind_id]``."""

    def of(self, account: ExportAccount, kind_id: str, /) -> Any:
        """What :meth:`read` put into ``account`` (empty when it read nothing)."""

    def render(
        self, account: ExportAccount, data: Any, schema_dir: str, keep: Callable[[Any], bool], /
    ) -> tuple[str, str]:
        """The file's text and a few words on what it holds (``Kind.export_render``)."""

    def undeclared(self, entries: Sequence[Any], /) -> Callable[[Any], bool]:
        """Accepts the live objects ``entries`` do not declare (``Kind.export_undeclared``)."""


# -- the kind --------------------------------------------------------------------------------


class Kind(ABC, Generic[E]):
    """One kind of desired state; ``E`` is its typed desired entry. See the module docstring.

    A kind is stateless: the registry holds one instance of each.
    """

    # identity ------------------------------------------------------------------------------

    #: Plan kind id: ``Change.kind``, the first part of change keys, ``--target ID/NAME``,
    #: ``export --kind ID``. Lower case words joined by ``-``.
    id: ClassVar[str]
    #: The ``kind:`` of its manifest documents, e.g. ``ResellerQuota``.
    manifest_kind: ClassVar[str]
    #: Heading of its changes in plans and drift reports.
    title: ClassVar[str]
    #: Plans show and apply kinds by ascending ``order`` (money comes back before it goes out).
    order: ClassVar[int]
    #: Its change actions, in the order they sort inside the kind (``reclaim`` before ``issue``).
    actions: ClassVar[tuple[str, ...]]
    #: The mark of each action in renderings: ``+`` adds, ``-`` takes away, ``~`` both,
    #: ``!`` manual. An action not listed shows ``~``.
    marks: ClassVar[Mapping[str, str]]
    #: Identifiers that are this kind's alone besides its id and manifest kind (its journal
    #: operations, its key in the checksum content, its entry classes): no code outside
    #: ``reconciler/kinds/`` may contain them (tests/architecture/test_kind_names.py). Its package
    #: is guarded by tests/architecture/test_imports.py (nothing imports it but the registry).
    owns: ClassVar[frozenset[str]] = frozenset()

    # manifests -----------------------------------------------------------------------------

    #: Its JSON Schema, a file of its package; ``schemas/<published_schema>`` is a generated copy.
    schema_file: ClassVar[str] = "schema.json"
    published_schema: ClassVar[str]
    #: What a value that fails one of its schema's own patterns is, in words, by pattern
    #: (``"is not a UTC time written 2026-01-01T00:00:00Z"``): validation says that instead of
    #: "does not match <regex>". The shared patterns (names, no spaces, money) have theirs.
    pattern_hints: ClassVar[Mapping[str, str]] = {}
    #: Its list in the content the manifest checksum covers.
    canonical_key: ClassVar[str]

    @property
    def package(self) -> str:
        """The kind's package, e.g. ``reconciler.kinds.reseller_quota``."""
        return type(self).__module__.rpartition(".")[0]

    def schema(self) -> dict[str, Any]:
        """Its JSON Schema (Draft 2020-12), read from its package."""
        text = resources.files(self.package).joinpath(self.schema_file).read_text("utf-8")
        loaded: dict[str, Any] = json.loads(text)
        return loaded

    @abstractmethod
    def build(self, doc: Document) -> Sequence[E]:
        """The typed entries of one document of this kind that passed its schema, each with the
        source position of what it asks for (:mod:`reconciler.manifests.build` has the readers).
        The desired state keeps every document's entries, in file order, under :attr:`id`."""

    @abstractmethod
    def canonical(self, entries: Sequence[E]) -> Iterator[Mapping[str, Any]]:
        """The entries without positions, one at a time in the order of their key: what the
        manifest checksum covers (renaming files, reordering entries or editing comments leaves
        it unchanged). Streamed, so 100,000 entries are hashed without a list of them."""

    #: The list under ``spec`` (e.g. ``customers``) a load may validate, check and build an
    #: item at a time as it parses it, never holding the document whole: only for a kind whose
    #: :meth:`build` and :meth:`crosschecks` read each item of it alone, nothing else of the
    #: document (:mod:`reconciler.manifests.stream`). ``None``: the documents are read whole.
    streamed_list: ClassVar[str | None] = None

    def crosschecks(self) -> Callable[[Document], Iterable[ManifestProblem]]:
        """A fresh checker for one load. It is given every document of this kind in file order
        (a document may be emptied once it has seen it) and returns the problems that document
        has with the ones before it (e.g. a customer declared twice), each at the later
        occurrence, naming the first. Entries their schema rejected are skipped, not reported
        twice. Default: no such checks."""
        return lambda _doc: ()

    @abstractmethod
    def references(self, entry: E) -> References:
        """The customers, resellers and quotas one entry names."""

    def target_names(self, entry: E) -> set[str]:
        """What ``--target <id>/NAME`` matches on this entry: every name of its references."""
        return self.references(entry).names()

    def entries(self, desired: DesiredState) -> tuple[E, ...]:
        """This kind's entries of a desired state, in file order."""
        return cast("tuple[E, ...]", desired.entries_of(self.id))

    # reads ---------------------------------------------------------------------------------

    #: What the reader reads for this kind besides the referenced customers, resellers and
    #: quotas themselves: scheduled by the shared reader at each API's rate.
    reads: ClassVar[tuple[Read, ...]] = ()
    #: The fields of a customer record (:class:`~reconciler.bss.models.Customer`) its diff and
    #: its renderings read besides its ID, account name and account manager (which every plan
    #: keeps): the reader drops the others of the customers only kinds not using them name.
    customer_fields: ClassVar[frozenset[str]] = frozenset()

    def customer_fields_for(self, entries: Sequence[E], customer: Customer) -> frozenset[str]:
        """The fields of ``customer`` (as read) its ``entries`` naming it need: by default
        :attr:`customer_fields`; a kind may need fewer for entries that will plan nothing."""
        return self.customer_fields

    #: True when its changes call the API as the customer (temporary credentials through the
    #: agency the customer granted, ``Call.identity == "customer"``): the plan then needs an
    #: agency name and checks the agency of every customer :meth:`agency_customers` names.
    uses_agency: ClassVar[bool] = False

    def needs_agency(self, entries: Sequence[E], customer_id: str, live: LiveState) -> bool:
        """Whether customer ``customer_id`` will need its agency, asked as soon as every
        per-object read (``EachListing``, ``EachCall``) of that customer is in (the agency check
        then runs alongside the remaining reads); ``entries`` are this kind's entries naming
        that customer. :meth:`agency_customers`, asked once every read is in, has the last
        word."""
        return False

    def agency_customers(self, desired: DesiredState, live: LiveState) -> set[str]:
        """Every customer whose agency the plan must check, once all reads are in."""
        return set()

    def managers_named(self, desired: DesiredState) -> set[str]:
        """Account managers its entries name: before the diff calls one unknown, the reader
        looks for it on every customer and reseller (unless the Settings roster has it)."""
        return set()

    # plan ----------------------------------------------------------------------------------

    @abstractmethod
    def diff(self, desired: DesiredState, live: LiveState) -> KindResult:
        """Pure: the changes, not-applicable notices, problems and the in-scope count of this
        kind's entries against ``live``. Keys start with ``<id>/``; every change carries the
        source position that asked for it and the fingerprint of the live object."""

    #: Limits on its changes (money per run and per recipient, counts), see :class:`GuardSpec`.
    guards: ClassVar[tuple[GuardSpec, ...]] = ()

    def draws(self, change: Change) -> Sequence[Draw]:
        """What one of its changes takes from and gives back to pools another kind may draw on
        too (from the change alone: apply asks it of the plan's changes). When two kinds draw
        on one pool in a run, the planner checks their draws together against the pool's
        :meth:`balance` and apply runs them one after the other. Default: none."""
        return ()

    def balance(self, pool: PoolKey, live: LiveState) -> Decimal | None:
        """The balance of a pool it draws on, as live state shows it (``None``: not read)."""
        return None

    # apply ---------------------------------------------------------------------------------

    def groups(self, changes: Sequence[Change]) -> Sequence[Group]:
        """How to execute its changes (neither frozen nor manual), as concurrent groups. Every
        write goes through :func:`reconciler.apply.ops.journalled` (intent, fenced attempts,
        outcome) and every change ends through ``ctx.conclude`` after a verifying read."""
        if changes:
            raise NotImplementedError(f"kind {self.id} plans changes it cannot execute")
        return ()

    #: Its journal operations and their settlement.
    operations: ClassVar[tuple[OperationSpec, ...]] = ()

    # drift ---------------------------------------------------------------------------------

    #: Why a manual change of this kind cannot be healed by apply (drift reports).
    manual_reason: ClassVar[str] = "a person makes this change (steps in the notes)"

    def heal(self, change: Change) -> tuple[str, str]:
        """How a planned change heals its drift, and the reason in words."""
        if change.manual:
            return HEAL_MANUAL, self.manual_reason
        return HEAL_APPLY, money_heal_text(change)

    def drift_view(self, desired: DesiredState, live: LiveState) -> DriftView:
        """Both sides of this kind's drifted objects (what the diff saw of them)."""
        return DriftView()

    # export --------------------------------------------------------------------------------

    #: The file ``reconciler export`` writes for this kind (``None``: not exported).
    export_file: ClassVar[str | None] = None
    #: The shared listings its export needs (``--customer`` / ``--reseller`` filter them).
    export_subjects: ClassVar[frozenset[Subject]] = frozenset()

    #: Its ``export`` module (:class:`ExportModule`): the default ``export_*`` members below
    #: delegate to it. ``None``: the kind is not exported.
    export: ClassVar[ExportModule | None] = None

    async def export_read(
        self, client: BssClient, account: ExportAccount, shown: ExportProgress
    ) -> None:
        """Read this kind's live data for the customers and resellers in ``account``, into
        ``account.data[self.id]`` (and warnings into ``account.warnings``)."""
        if self.export is not None:
            await self.export.read(client, account, shown, self.id)

    def export_render(
        self, account: ExportAccount, schema_dir: str, keep: Callable[[Any], bool]
    ) -> tuple[str, str]:
        """The file's text (documents starting with the modeline, see
        :mod:`reconciler.gitops.yamlout`) and a few words on what it holds. ``keep`` filters
        the live objects written (see :meth:`export_undeclared`)."""
        if self.export is None:
            raise NotImplementedError(f"kind {self.id} has an export file but no export module")
        return self.export.render(account, self.export.of(account, self.id), schema_dir, keep)

    def export_undeclared(self, desired: DesiredState) -> Callable[[Any], bool]:
        """For merging into a directory: accepts the live objects ``desired`` does not declare."""
        if self.export is None:
            return lambda _obj: True
        return self.export.undeclared(self.entries(desired))

    # render --------------------------------------------------------------------------------

    @abstractmethod
    def change_text(self, change: Change, esc: Escaper) -> str:
        """Before and after of a change in words (``balance 1.00 -> 2.00``), every value from
        live data or a manifest through ``esc``."""

    @abstractmethod
    def side_text(self, values: Mapping[str, Any], esc: Escaper) -> str:
        """One side (desired or live) of a drifted object in words, values through ``esc``."""

    #: Columns of its Markdown table: the object's, then the values' (:meth:`table_cells`);
    #: the mark comes first and the source last.
    table_columns: ClassVar[tuple[str, ...]] = ("Object", "Change")
    #: A sentence under its Markdown table (e.g. "These have no API ...").
    table_note: ClassVar[str | None] = None
    #: Drift's "What to do" line for its manual items.
    manual_hint: ClassVar[str | None] = None

    def table_cells(self, change: Change, esc: Escaper) -> tuple[str, ...]:
        """The value cells of one change (:attr:`table_columns` after the object's), values
        through ``esc``."""
        return (self.change_text(change, esc),)

    def reclaim_banner(self, changes: Sequence[Change]) -> str | None:
        """A warning atop the pull-request comment when its changes take money back."""
        return None


__all__ = [
    "HEAL_APPLY",
    "HEAL_MANUAL",
    "HEAL_NONE",
    "Batched",
    "Draw",
    "DriftView",
    "EachCall",
    "EachListing",
    "ExportModule",
    "Group",
    "GuardSpec",
    "Kind",
    "Observation",
    "Once",
    "OperationSpec",
    "PoolKey",
    "QuotaRef",
    "Read",
    "References",
    "Settle",
    "Subject",
    "count_per_run",
    "money_heal_text",
    "money_per_recipient",
    "money_per_run",
]
