"""Saved plans (``reconciler plan --out FILE``) and whether one may still be applied.

A saved plan is applied only while it still describes what would happen (Terraform's "Saved plan
is stale", octoDNS's ``--checksum``):

* the file is intact: its own checksum matches its content;
* it has not expired (Settings ``spec.planTtl``);
* the manifests have the checksum the plan was made from;
* it targets the same partner account and endpoint;
* a fresh plan, computed after settling any open operation and with the guard overrides the
  saved plan was made with, has exactly the same changes: the same keys and actions, each
  computed from a live object with the same fingerprint.

Anything else is a :class:`~reconciler.errors.StalePlanError` (exit 4) that lists every
difference, raised before any write.
"""

from __future__ import annotations

import calendar
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.errors import ConfigError, StalePlanError
from reconciler.plan.difference import differences
from reconciler.plan.model import FORMAT_VERSION, fingerprint

if TYPE_CHECKING:
    from reconciler.plan.model import Plan

_NOT_CHECKSUMMED = ("tool_version", "created_at", "expires_at", "checksum", "manifest_paths")


def parse_time(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    data: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> SavedPlan:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ConfigError(f"{path}: cannot read the saved plan ({err})") from err
        if not isinstance(data, dict) or "changes" not in data or "checksum" not in data:
            raise ConfigError(f"{path}: not a plan saved by `reconciler plan --out`")
        if data.get("format_version") != FORMAT_VERSION:
            raise ConfigError(
                f"{path}: plan format {data.get('format_version')!r} is not "
                f"{FORMAT_VERSION!r}; make the plan again with this version"
            )
        return cls(path, data)

    @property
    def checksum(self) -> str:
        return str(self.data["checksum"])

    @property
    def manifest_paths(self) -> list[str]:
        return [str(p) for p in self.data.get("manifest_paths") or []]

    @property
    def allow(self) -> tuple[str, ...]:
        """The guards the saved plan was allowed past (its ``--allow`` flags)."""
        return tuple(g["name"] for g in self.data.get("guards", []) if g.get("overridden"))

    @property
    def targets(self) -> tuple[str, ...]:
        """The ``--target`` selections the saved plan was made with (checksummed)."""
        return tuple(str(t) for t in self.data.get("targets") or ())

    def changes(self) -> dict[str, tuple[str, str]]:
        return {c["key"]: (c["action"], c["fingerprint"]) for c in self.data["changes"]}

    def befores(self) -> dict[str, Any]:
        return {c["key"]: c.get("before") for c in self.data["changes"]}

    def check_static(self, manifest_checksum: str, now: float) -> None:
        """What can be checked without reading the API: integrity, expiry, manifests."""
        problems = []
        content = {k: v for k, v in self.data.items() if k not in _NOT_CHECKSUMMED}
        if fingerprint(content) != self.checksum:
            problems.append("the file was modified after it was saved (its checksum differs)")
        expires = self.data.get("expires_at")
        if not expires or parse_time(str(expires)) <= now:
            problems.append(f"the plan expired at {expires} (Settings spec.planTtl)")
        if self.data.get("manifest_checksum") != manifest_checksum:
            problems.append(
                "the manifests changed since the plan was made "
                f"({self.data.get('manifest_checksum')} then, {manifest_checksum} now)"
            )
        self._raise(problems)

    def check_fresh(self, fresh: Plan) -> None:
        """The fresh plan must have exactly the saved plan's changes and target."""
        problems = []
        for field in ("partner_id", "endpoint"):
            if self.data.get(field) != getattr(fresh, field):
                problems.append(
                    f"{field} is {getattr(fresh, field)!r}, the plan was made for "
                    f"{self.data.get(field)!r}"
                )
        saved = self.changes()
        now = {c.key: (c.action, c.fingerprint) for c in fresh.changes}
        befores = self.befores()
        fresh_befores = {c.key: dict(c.before) for c in fresh.changes}
        for key in sorted(set(saved) | set(now)):
            if key not in now:
                problems.append(f"{key}: no longer needed (live state changed since the plan)")
            elif key not in saved:
                problems.append(f"{key}: {now[key][0]} is needed now but not in the saved plan")
            elif saved[key][0] != now[key][0]:
                problems.append(f"{key}: now {now[key][0]}, the plan says {saved[key][0]}")
            elif saved[key][1] != now[key][1]:
                moved = differences(befores.get(key), fresh_befores[key])
                detail = "; ".join(moved) if moved else "its fingerprint changed"
                problems.append(
                    f"{key}: the live object changed since the plan was made ({detail})"
                )
        self._raise(problems)

    def _raise(self, problems: list[str]) -> None:
        if not problems:
            return
        lines = "\n".join(f"  - {p}" for p in problems)
        raise StalePlanError(
            f"stale plan {self.path} ({self.checksum}); nothing was written:\n{lines}\n"
            "Make a new plan (`reconciler plan PATH... --out FILE`), review it, and apply that."
        )
