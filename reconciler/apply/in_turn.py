"""Running the changes of kinds that draw on one pool one after the other, and concluding the
changes of a group that stopped on an error.

The plan checked a sequence's draws together (:mod:`reconciler.plan.shared`): what the later
steps take counts on what the earlier ones give back. When a change that was to give back to a
pool did not apply (failed, unknown, frozen or skipped), that premise is gone: the changes after
it that take from the pool are not run (``skipped``, saying which change and which pool) and the
run exits non-zero; changes that only give back, or take from other pools, still run.
"""

from __future__ import annotations

from collections.abc import Sequence

from reconciler.apply.ops import ExecContext
from reconciler.apply.settle import describe_item
from reconciler.errors import LockHeldError, ReconcilerError
from reconciler.kinds import registry
from reconciler.kinds.spec import Group, PoolKey
from reconciler.plan import shared
from reconciler.plan.model import ZERO, Change


def in_turn(steps: Sequence[shared.Step]) -> Group:
    """The steps of one sequence as one group: each step's groups one after the other. A group
    stopped by an error leaves the next ones to run (each re-reads what it writes) unless it
    lost the lease, or unless what it was to give back is what a later change takes."""

    async def run(ctx: ExecContext) -> None:
        before: list[shared.Drawn] = []
        for step in steps:
            broken = _broken(ctx, [*before, *step.drawn])
            todo = []
            for d in step.drawn:
                if ctx.result(d.change).status != "pending":
                    continue
                why = next((why for pool, why in broken.items() if _takes(d, pool)), None)
                if why is None:
                    todo.append(d.change)
                else:
                    ctx.conclude(d.change, "skipped", why, crash=False)
            await _run(ctx, step.kind, todo)
            before += step.drawn

    return Group(tuple(c for step in steps for c in step.changes), run)


async def _run(ctx: ExecContext, kind_id: str, changes: Sequence[Change]) -> None:
    for group in registry.kind(kind_id).groups(changes):
        try:
            await group.run(ctx)
        except LockHeldError:
            raise
        except ReconcilerError as err:
            abandon(ctx, group.changes, err)


def _broken(ctx: ExecContext, drawn: Sequence[shared.Drawn]) -> dict[PoolKey, str]:
    """The pools a change of ``drawn`` was to give back to and did not (it is concluded, but not
    applied; one still pending is an earlier step's frozen or this step's own), with why a
    change taking from one is not run."""
    found: dict[PoolKey, str] = {}
    for d in drawn:
        status = ctx.result(d.change).status
        if status in ("pending", "applied"):
            continue
        for draw in d.draws:
            if draw.returns > ZERO and draw.pool not in found:
                found[draw.pool] = (
                    f"not run: it takes from {draw.pool[0].replace('-', ' ')} {draw.pool[1]}, "
                    f"which {d.change.key} was to give back {draw.returns:,.2f} to first and did "
                    f"not ({status}); the plan's combined check of the quota counted on it. "
                    "Nothing was written for it: run apply again"
                )
    return found


def _takes(d: shared.Drawn, pool: PoolKey) -> bool:
    return any(draw.takes > ZERO or draw.whole for draw in d.on(pool))


def abandon(ctx: ExecContext, changes: Sequence[Change], err: ReconcilerError) -> None:
    """Changes of a group that stopped on an error: unknown if something was sent for them (the
    detail says what, and how it ended), failed if nothing was."""
    touched = ctx.journal.change_keys_written(ctx.run_id)
    for change in changes:
        if ctx.result(change).status != "pending":
            continue
        if change.key in touched:
            written = _written(ctx, change.key)
            ctx.conclude(change, "unknown", *written, f"then stopped: {err}", crash=False)
        else:
            ctx.conclude(change, "failed", f"stopped before any write: {err}", crash=False)


def _written(ctx: ExecContext, key: str) -> list[str]:
    """What this run sent for change ``key``, and how each call ended (from the journal)."""
    words = {
        "committed": "written (committed)",
        "failed": "failed: nothing happened",
        "pending": "sent, outcome unknown: the next apply settles it from the API's records",
        "unknown": "sent, outcome unknown: the next apply settles it from the API's records",
    }
    return [
        f"{describe_item(op, item)} [{op.op_id}]: {words.get(item.state, item.state)}"
        for op in ctx.journal.operations(run_id=ctx.run_id)
        for item in op.items
        if item.change_key == key and op.state != "intent"
    ]
