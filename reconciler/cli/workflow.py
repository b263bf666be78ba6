"""The commands' work, without click: load manifests, connect, plan (and later apply).

The CLI calls these; tests may call them directly. Each function runs its own event loop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from reconciler.connect import connect, resolve_target
from reconciler.emulator.clock import Clock, SystemClock
from reconciler.files import write_private
from reconciler.manifests.desired import DesiredState
from reconciler.manifests.load import load_desired
from reconciler.memory import run as run_coroutine
from reconciler.plan.model import Plan
from reconciler.plan.planfile import plan_key, sealed_document
from reconciler.plan.planner import PlanContext, build_plan
from reconciler.plan.progress import Progress
from reconciler.plan.scope import parse_targets
from reconciler.render.escape import for_output


async def plan_async(
    desired: DesiredState,
    *,
    endpoint: str | None,
    profile: str | None,
    allow: Sequence[str],
    clock: Clock,
    progress: Progress | None = None,
    verify_agencies: bool = True,
    targets: Sequence[str] = (),
) -> Plan:
    selected = parse_targets(targets)
    target = resolve_target(endpoint, profile or desired.settings.endpoint_profile)
    async with connect(target, agency_name=desired.settings.agency_name, clock=clock) as conn:
        ctx = PlanContext(
            endpoint=target.label,
            partner_id=conn.partner_id,
            allow=tuple(allow),
            verify_agencies=verify_agencies,
            targets=selected,
        )
        return await build_plan(desired, conn.client, ctx, clock, progress=progress)


def compute_plan(
    paths: Sequence[str | Path],
    *,
    endpoint: str | None = None,
    profile: str | None = None,
    allow: Sequence[str] = (),
    clock: Clock | None = None,
    progress: Progress | None = None,
    verify_agencies: bool = True,
    targets: Sequence[str] = (),
) -> Plan:
    """Load, connect, plan. ``progress`` (a terminal's) hears what is going on as it happens."""
    if progress is not None:
        progress.line(f"Loading manifests from {', '.join(str(p) for p in paths)}...")
    desired = load_desired(paths)
    return run_coroutine(
        plan_async(
            desired,
            endpoint=endpoint,
            profile=profile,
            allow=allow,
            clock=clock or SystemClock(),
            progress=progress,
            verify_agencies=verify_agencies,
            targets=targets,
        )
    )


def write_plan(plan: Plan, path: Path, manifest_paths: Sequence[str | Path] = ()) -> None:
    """Save the JSON plan, sealed, atomically, readable by the owner only (it names customers).

    ``manifest_paths`` (covered by the seal, outside the checksum) let ``reconciler apply --plan
    FILE`` find the manifests again when no paths are given. With ``RECONCILER_PLAN_KEY`` set the
    seal is an HMAC under that key (see :mod:`reconciler.plan.planfile`).
    """
    data = sealed_document(plan, manifest_paths, key=plan_key())
    text = json.dumps(data, indent=2, sort_keys=True) + "\n"
    write_private(path, for_output(text, "json"))
