"""One API call as the handlers and the backend see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.emulator import timefmt
from reconciler.emulator.auth import Caller
from reconciler.emulator.models import State
from reconciler.emulator.params import Params, parse_body, parse_query

#: What a handler returns: the HTTP status and the JSON payload (``None`` = no body).
Result = tuple[int, Any]


@dataclass
class Call:
    """Everything a handler needs; ``mutated`` is set by whoever changes the state."""

    state: State
    caller: Caller
    now: float
    rng_seed: int = 0
    path_params: dict[str, str] = field(default_factory=dict)
    raw_query: str = ""
    body: bytes = b""
    latency: float = 0.0
    item_errors: dict[str, str] = field(default_factory=dict)
    mutated: bool = False

    @property
    def stamp(self) -> str:
        """The current time in the API's format."""
        return timefmt.fmt(self.now)

    def body_params(self, *, required: bool = True) -> Params:
        return Params(parse_body(self.body, required=required))

    def query_params(self, repeatable: tuple[str, ...] = ()) -> Params:
        """The query string's parameters; ``repeatable`` names give lists."""
        return Params(parse_query(self.raw_query, repeatable), from_query=True)

    def item_error(self, item_id: str) -> str | None:
        """The error code an ``item_error`` fault injects for ``item_id``, if any."""
        return self.item_errors.get(item_id)
