"""Saved plans (``reconciler plan --out FILE``) and whether one may still be applied.

A saved plan is applied only while it still describes what would happen (Terraform's "Saved plan
is stale", octoDNS's ``--checksum``):

* the file is intact: its ``seal`` covers every field of the file (times and manifest paths
  included) and its ``checksum`` matches its content; with ``RECONCILER_PLAN_KEY`` set the seal is
  an HMAC-SHA256 under that key, made by the plan job and checked by the apply job, and a plan
  without it is refused;
* it has not expired: the expiry is derived from its sealed ``created_at`` and the Settings
  ``spec.planTtl`` of the manifests (whose checksum it must have), never read on trust;
* the manifests have the checksum the plan was made from;
* it targets the same partner account and endpoint;
* a fresh plan, computed after settling any open operation and with the **apply command's own**
  guard overrides (``--allow``), has exactly the same changes: the same keys and actions, each
  computed from a live object with the same fingerprint. Apply then executes the fresh plan.

So nothing in the file can make apply do more than a fresh plan with the apply command's flags
would: the file only decides whether apply may go ahead without a prompt. Anything else is a
:class:`~reconciler.errors.StalePlanError` (exit 4) that lists every difference, raised before
any write. Without a key the seal only detects edits by hand or by mistake (anyone who can write
the file can recompute it); see docs/security.md.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.bss.credentials import Secret
from reconciler.errors import ConfigError, StalePlanError
from reconciler.plan.difference import differences
from reconciler.plan.model import FORMAT_VERSION, canonical_json, fingerprint

if TYPE_CHECKING:
    from reconciler.plan.model import Plan

_NOT_CHECKSUMMED = (
    "tool_version", "created_at", "expires_at", "checksum", "manifest_paths", "seal",
)  # fmt: skip
ENV_PLAN_KEY = "RECONCILER_PLAN_KEY"
MIN_KEY_LENGTH = 32
KEYED, UNKEYED = "hmac-sha256:", "sha256:"
#: How far in the future a plan's ``created_at`` may be (clock skew between two CI jobs).
CLOCK_SKEW = 300.0


def plan_key(env: Mapping[str, str] | None = None) -> Secret | None:
    """The key that seals and verifies saved plans (``RECONCILER_PLAN_KEY``), if set."""
    value = (os.environ if env is None else env).get(ENV_PLAN_KEY) or ""
    if not value:
        return None
    if len(value) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{ENV_PLAN_KEY} is shorter than {MIN_KEY_LENGTH} characters; use a random key, "
            "e.g. the output of `openssl rand -hex 32`"
        )
    return Secret(value)


def seal(data: Mapping[str, Any], key: Secret | None) -> str:
    """The seal over every field of a saved plan but ``seal`` itself."""
    payload = canonical_json({k: v for k, v in data.items() if k != "seal"}).encode()
    if key is None:
        return UNKEYED + hashlib.sha256(payload).hexdigest()
    return KEYED + hmac.new(key.reveal().encode(), payload, hashlib.sha256).hexdigest()


def sealed_document(
    plan: Plan, manifest_paths: Sequence[str | Path] = (), key: Secret | None = None
) -> dict[str, Any]:
    """What ``plan --out`` writes: the JSON plan, the manifest paths and the seal."""
    data: dict[str, Any] = json.loads(canonical_json(plan.to_dict()))  # as it reads back
    if manifest_paths:
        data["manifest_paths"] = [str(p) for p in manifest_paths]
    data["seal"] = seal(data, key)
    return data


def parse_time(text: str) -> float:
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ")))


def _time_or_none(value: object) -> float | None:
    try:
        return parse_time(str(value))
    except ValueError:
        return None


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
        """The guards the saved plan says it was allowed past. Informational only: apply takes
        guard overrides from its own command line."""
        guards = self.data.get("guards")
        if not isinstance(guards, list):
            return ()
        return tuple(str(g["name"]) for g in guards if isinstance(g, dict) and g.get("overridden"))

    def allow_hint(self, fresh: Plan) -> str:
        """For a blocked apply: the overrides the plan was made with, to pass to apply."""
        wanted = [g.name for g in fresh.guards if g.blocks and g.name in self.allow]
        if not wanted:
            return ""
        flags = " ".join(f"--allow {name}" for name in wanted)
        return (
            f" The saved plan was made with {flags}; apply takes guard overrides from its own "
            f"command line, never from the file: pass {flags} to apply it."
        )

    @property
    def targets(self) -> tuple[str, ...]:
        """The ``--target`` selections the saved plan was made with (checksummed)."""
        return tuple(str(t) for t in self.data.get("targets") or ())

    def changes(self) -> dict[str, tuple[str, str]]:
        return {c["key"]: (c["action"], c["fingerprint"]) for c in self.data["changes"]}

    def befores(self) -> dict[str, Any]:
        return {c["key"]: c.get("before") for c in self.data["changes"]}

    def check_static(
        self, manifest_checksum: str, now: float, plan_ttl: float, key: Secret | None = None
    ) -> None:
        """What can be checked without reading the API: seal, integrity, expiry, manifests.

        ``plan_ttl`` is the Settings ``spec.planTtl`` (seconds) of the manifests; ``key`` the
        sealing key (default: ``RECONCILER_PLAN_KEY`` from the environment).
        """
        key = plan_key() if key is None else key
        problems = self._seal_problems(key)
        content = {k: v for k, v in self.data.items() if k not in _NOT_CHECKSUMMED}
        if fingerprint(content) != self.checksum:
            problems.append("the file was modified after it was saved (its checksum differs)")
        problems += self._expiry_problems(now, plan_ttl)
        if self.data.get("manifest_checksum") != manifest_checksum:
            problems.append(
                "the manifests changed since the plan was made "
                f"({self.data.get('manifest_checksum')} then, {manifest_checksum} now)"
            )
        self._raise(problems)

    def _seal_problems(self, key: Secret | None) -> list[str]:
        found = self.data.get("seal")
        if not isinstance(found, str) or not found.startswith((KEYED, UNKEYED)):
            return ["the file has no seal (make the plan again with this version)"]
        if key is not None and not found.startswith(KEYED):
            return [f"the plan is not sealed with {ENV_PLAN_KEY}; only plans made with the key "
                    "are applied while it is set"]  # fmt: skip
        if key is None and found.startswith(KEYED):
            return [f"the plan is sealed with a key: set {ENV_PLAN_KEY} to the key the plan "
                    "was made with to verify it"]  # fmt: skip
        if not hmac.compare_digest(found, seal(self.data, key)):
            return ["the file was modified after it was saved (its seal does not match)"]
        return []

    def _expiry_problems(self, now: float, plan_ttl: float) -> list[str]:
        created = _time_or_none(self.data.get("created_at"))
        if created is None:
            return ["the plan has no valid created_at"]
        if created > now + CLOCK_SKEW:
            return [f"the plan claims to be made in the future ({self.data.get('created_at')})"]
        expires = created + plan_ttl
        if _time_or_none(self.data.get("expires_at")) != expires:
            return ["its expires_at is not created_at + Settings spec.planTtl (the file was "
                    "modified)"]  # fmt: skip
        if expires <= now:
            return [f"the plan expired at {self.data.get('expires_at')} (Settings spec.planTtl)"]
        return []

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
