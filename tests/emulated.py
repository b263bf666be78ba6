"""A client of an in-process emulator, signed with the emulated partner's default credentials."""

from __future__ import annotations

from typing import Any

from reconciler.bss.client import BssClient
from reconciler.bss.credentials import Credentials, Secret
from reconciler.emulator import Emulator
from reconciler.emulator.clock import Clock
from reconciler.emulator.credentials import DEFAULT_CREDENTIALS


def emulated_client(emu: Emulator, clock: Clock, **options: Any) -> BssClient:
    """A :class:`BssClient` of ``emu`` on ``clock`` (``options``: BssClient's keywords)."""
    creds = DEFAULT_CREDENTIALS
    return BssClient(
        "https://bss.myhuaweicloud.com",
        Credentials(ak=creds.ak, sk=Secret(creds.sk), domain_id=creds.domain_id),
        transport=emu.async_transport(),
        clock=clock,
        **options,
    )
