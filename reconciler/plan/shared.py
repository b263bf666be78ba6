"""Pools more than one kind draws on in one run: the combined check, and the order apply keeps.

A kind says what each of its changes takes from and gives back to a pool
(:meth:`Kind.draws <reconciler.kinds.spec.Kind.draws>`, e.g. a coupon quota that reseller quota
is issued from and customer coupons are cut from). Each kind checks its own draws against the
pool's balance in its diff; what no single kind sees is the sum. When two or more kinds draw on
one pool in a run:

* **apply** runs their changes one after the other, never concurrently (the API refuses a second
  operation on a quota while one runs): first every change that depends on the balance of a
  pool another kind moves in the run (its fingerprint covers that balance, so it must run before
  the balance moves), then every change that only gives back (net 0 or less on every pool it
  draws on), then the others; within each phase kinds in plan order, each
  kind's changes through its own groups. Pools linked by a change that draws on both form one
  such sequence; everything else runs concurrently as before. :func:`sequences` is that order.
* **the plan** walks the same order and stops (a problem at the first change that draws on the
  pool, exit 1) when what the kinds take together, after what they give back before it, exceeds
  the pool's balance, when a change takes a pool's whole balance while another kind draws on
  it, or when no kind can say the pool's balance. :func:`check` is that check.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from reconciler.errors import ManifestProblem
from reconciler.kinds import registry
from reconciler.plan.model import ZERO, money

if TYPE_CHECKING:
    from reconciler.kinds.base import LiveState
    from reconciler.kinds.spec import Draw, PoolKey
    from reconciler.plan.model import Change


@dataclass(frozen=True)
class Drawn:
    """A change and what it draws (asked of its kind once)."""

    change: Change
    draws: tuple[Draw, ...]

    @property
    def phase(self) -> int:
        """0 for a change that gives back at least what it takes on every pool, else 1."""
        return 0 if all(d.net <= ZERO for d in self.draws) else 1

    def on(self, pool: PoolKey) -> list[Draw]:
        return [d for d in self.draws if d.pool == pool]


@dataclass(frozen=True)
class Step:
    """One kind's changes of one phase of a sequence (-1: they depend on a pool's balance another
    kind moves, 0: they only give back, 1: the rest)."""

    phase: int
    kind: str
    drawn: tuple[Drawn, ...]

    @property
    def changes(self) -> tuple[Change, ...]:
        return tuple(d.change for d in self.drawn)


def _drawn(changes: Sequence[Change]) -> list[Drawn]:
    return [Drawn(c, tuple(registry.kind(c.kind).draws(c))) for c in changes]


def _shared(drawn: Sequence[Drawn]) -> set[PoolKey]:
    """The pools two or more kinds draw on."""
    kinds: dict[PoolKey, set[str]] = {}
    for d in drawn:
        for draw in d.draws:
            kinds.setdefault(draw.pool, set()).add(d.change.kind)
    return {pool for pool, found in kinds.items() if len(found) > 1}


def _components(drawn: Sequence[Drawn], shared: set[PoolKey]) -> dict[PoolKey, PoolKey]:
    """Each pool linked to a shared pool (through changes drawing on both) -> the
    representative of its linked set."""
    parent: dict[PoolKey, PoolKey] = {}

    def root(pool: PoolKey) -> PoolKey:
        while parent.setdefault(pool, pool) != pool:
            pool = parent[pool]
        return pool

    for d in drawn:
        pools = sorted({draw.pool for draw in d.draws})
        for pool in pools[1:]:
            a, b = root(pools[0]), root(pool)
            if a != b:
                parent[max(a, b)] = min(a, b)
    linked = {root(pool) for pool in shared}
    return {pool: root(pool) for pool in list(parent) if root(pool) in linked}


def sequences(changes: Sequence[Change]) -> tuple[list[Change], list[list[Step]]]:
    """The changes apply may run as before (each kind's groups concurrently), and the sequences
    whose steps it must run one after the other, in order."""
    free, found = _sequences(_drawn(changes))
    return [d.change for d in free], found


def _sequences(drawn: Sequence[Drawn]) -> tuple[list[Drawn], list[list[Step]]]:
    shared = _shared(drawn)
    if not shared:
        return list(drawn), []
    component = _components(drawn, shared)
    free: list[Drawn] = []
    linked: dict[PoolKey, list[Drawn]] = {}
    for d in drawn:
        roots = {component[draw.pool] for draw in d.draws if draw.pool in component}
        if roots:
            linked.setdefault(min(roots), []).append(d)
        else:
            free.append(d)
    return free, [_steps(found) for _, found in sorted(linked.items())]


def _steps(drawn: Sequence[Drawn]) -> list[Step]:
    order = {kind_id: n for n, kind_id in enumerate(registry.IDS)}
    moved: dict[PoolKey, set[str]] = {}  # pool -> the kinds that take from or give back to it
    for d in drawn:
        for draw in d.draws:
            if draw.takes or draw.returns or draw.whole:
                moved.setdefault(draw.pool, set()).add(d.change.kind)
    by_step: dict[tuple[int, int], list[Drawn]] = {}
    for d in drawn:
        by_step.setdefault((_phase(d, moved), order[d.change.kind]), []).append(d)
    return [Step(ph, registry.IDS[n], tuple(found)) for (ph, n), found in sorted(by_step.items())]


def _phase(d: Drawn, moved: dict[PoolKey, set[str]]) -> int:
    """-1 for a change that depends on the balance of a pool another kind moves in the run (its
    fingerprint covers that balance: run after the move, it would look changed since the plan),
    else :attr:`Drawn.phase`."""
    depends = [draw.pool for draw in d.draws if not (draw.takes or draw.returns or draw.whole)]
    return -1 if any(moved.get(pool, set()) - {d.change.kind} for pool in depends) else d.phase


# -- the plan's check ------------------------------------------------------------------------


def check(changes: Sequence[Change], live: LiveState) -> list[ManifestProblem]:
    """A problem for each shared pool the run cannot draw on as planned (see the module)."""
    drawn = _drawn(changes)
    shared = _shared(drawn)
    if not shared:
        return []
    _, found = _sequences(drawn)
    problems: list[ManifestProblem] = []
    for pool in sorted(shared):
        steps = [s for seq in found for s in seq if any(d.on(pool) for d in s.drawn)]
        problem = _pool_problem(pool, steps, live)
        if problem is not None:
            problems.append(problem)
    return problems


def _pool_problem(pool: PoolKey, steps: Sequence[Step], live: LiveState) -> ManifestProblem | None:
    on = [(s.kind, d.change, draw) for s in steps for d in s.drawn for draw in d.on(pool)]
    first = on[0][1].source
    what = pool[0].replace("-", " ")
    kinds = len({kind for kind, _, _ in on})
    drawn = f"{what} {pool[1]} is drawn on by {kinds} kinds ({_per_kind(on)})"
    wholes = {kind for kind, _, draw in on if draw.whole}
    moving = {kind for kind, _, draw in on if draw.takes or draw.returns}
    if wholes and len(wholes | moving) > 1:
        return ManifestProblem(first, "", f"{drawn}: a change that takes its whole balance "
                               "cannot run with another kind's draws on it in one run; leave one "
                               "of them to a later run")  # fmt: skip
    balance = _balance(pool, steps, live)
    if balance is None:
        why = f"{drawn}, and none of them read its balance: nothing is planned on it until one does"
        return ManifestProblem(first, "", why)
    need, running = ZERO, ZERO
    for step in steps:
        running += sum((draw.net for d in step.drawn for draw in d.on(pool)), ZERO)
        need = max(need, running)
    if need <= balance:
        return None
    return ManifestProblem(
        first,
        "",
        f"{drawn}: {_words(need)} together (what is given back first counted), and it holds "
        f"{_words(balance)}: lower them by {_words(need - balance)} or top up the {what}",
    )


def _per_kind(on: Sequence[tuple[str, Change, Draw]]) -> str:
    """Each kind's draws on one pool in words (where its first change is declared), kinds in
    plan order: ``Reseller quota: takes 5,000.00 (at q.yaml:7:5); Customer coupons: ...``."""
    parts = []
    for kind_id in registry.IDS:
        mine = [(change, draw) for kind, change, draw in on if kind == kind_id]
        if not mine:
            continue
        takes = sum((draw.takes for _, draw in mine), ZERO)
        returns = sum((draw.returns for _, draw in mine), ZERO)
        words = [f"takes {_words(takes)}"] if takes else []
        words += [f"gives back {_words(returns)}"] if returns else []
        words += ["takes its whole balance"] if any(draw.whole for _, draw in mine) else []
        said = ", ".join(words) or "depends on its balance"
        parts.append(f"{registry.kind(kind_id).title}: {said} (at {mine[0][0].source})")
    return "; ".join(parts)


def _words(value: Decimal) -> str:
    return f"{money(value):,.2f}"


def _balance(pool: PoolKey, steps: Sequence[Step], live: LiveState) -> Decimal | None:
    """The lowest balance any drawing kind reads for the pool (``None``: none can)."""
    seen = [
        b
        for kind_id in dict.fromkeys(s.kind for s in steps)
        if (b := registry.kind(kind_id).balance(pool, live)) is not None
    ]
    return min(seen) if seen else None
