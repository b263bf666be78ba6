"""Auto-renew in drift reports: the resource's live state in full (flag, policy, status, expiry)
on both changes and states apply cannot reach (expired, frozen, no agency)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reconciler.kinds.auto_renew.diff import KIND, Candidate, candidates
from reconciler.kinds.spec import DriftView

if TYPE_CHECKING:
    from reconciler.kinds.base import LiveState
    from reconciler.manifests.desired import DesiredState
    from reconciler.plan.model import Change, Notice

RESOURCE_STATES = {2: "in use", 3: "closed", 4: "frozen", 5: "expired"}


class RenewDrift(DriftView):
    """The candidates the diff found, by change key."""

    def __init__(self, desired: DesiredState, live: LiveState) -> None:
        found, _ = candidates(desired, live)
        self.seen: dict[str, Candidate] = {
            f"{KIND}/{c.resource.customer_id}/{c.resource.resource_id}": c for c in found
        }

    def change_live(self, change: Change) -> Mapping[str, Any]:
        cand = self.seen.get(change.key)
        return resource_live(cand) if cand is not None else dict(change.before)

    def notice_sides(self, notice: Notice) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        cand = self.seen.get(notice.key)
        if cand is None:
            return {}, {}
        return {"auto_renew": cand.enabled}, resource_live(cand)


def resource_live(cand: Candidate) -> dict[str, Any]:
    res = cand.resource
    return {
        "auto_renew": res.auto_renew,
        "expire_policy": res.expire_policy,
        "status": RESOURCE_STATES.get(res.status or 0, str(res.status)),
        "expire_time": res.expire_time,
    }
