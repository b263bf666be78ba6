"""The emulator's own request and response types, independent of any HTTP library."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Drop = Literal[None, "before_commit", "after_commit"]


class HeaderMap(Mapping[str, str]):
    """Case-insensitive, read-only header mapping. Iterates lowercase names."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        pairs = items.items() if isinstance(items, Mapping) else items
        self._data: dict[str, str] = {}
        for name, value in pairs:
            key = name.lower()
            # Repeated headers are joined the way HTTP allows; signing uses the joined value.
            self._data[key] = f"{self._data[key]},{value}" if key in self._data else value

    def __getitem__(self, name: str) -> str:
        return self._data[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        shown = {k: ("***" if k in _SECRET_HEADERS else v) for k, v in self._data.items()}
        return f"HeaderMap({shown!r})"


_SECRET_HEADERS = frozenset({"authorization", "x-security-token", "x-auth-token"})


@dataclass(frozen=True)
class EmulatorRequest:
    """A request exactly as received: ``path`` and ``raw_query`` are still percent-encoded."""

    method: str
    path: str
    raw_query: str = ""
    headers: Mapping[str, str] = field(default_factory=HeaderMap)
    body: bytes = b""
    #: when it arrived, on the emulator clock's ``monotonic()`` (the server stamps it as it reads
    #: the request; otherwise the emulator does when it handles it)
    received: float | None = None
    #: set on a held request handed back to be executed (``hold.Held``)
    resume: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.headers, HeaderMap):
            object.__setattr__(self, "headers", HeaderMap(self.headers))
        object.__setattr__(self, "method", self.method.upper())


@dataclass(frozen=True)
class EmulatorResponse:
    """What to send back.

    ``latency`` is how long the answer takes on the emulator's clock; transports sleep it.
    ``drop`` tells the transport to lose the answer: ``"before_commit"`` (nothing was executed)
    or ``"after_commit"`` (the effect is committed). A dropped response has no useful status.
    ``resume`` (with ``hold`` seconds and the ``hold_fault``): not an answer yet; wait, then pass
    ``resume`` to ``Emulator.handle`` again (see ``hold.py``).
    """

    status: int
    headers: Mapping[str, str]
    body: bytes
    latency: float = 0.0
    drop: Drop = None
    hold: float = 0.0
    hold_fault: str | None = None
    resume: EmulatorRequest | None = None
