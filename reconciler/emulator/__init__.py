"""A moto-shaped emulator of the Huawei Cloud BSS partner API (REFERENCE.md), for tests and demos.

It imports nothing from the rest of the reconciler. Start with :class:`Emulator`; ``README.md``
in this folder documents the seed format, the control plane, faults and default credentials.
"""

from __future__ import annotations

from reconciler.emulator.clock import Clock, SystemClock, VirtualClock
from reconciler.emulator.core import Emulator
from reconciler.emulator.credentials import (
    DEFAULT_ACCOUNT_NAME,
    DEFAULT_CREDENTIALS,
    DEFAULT_DOMAIN_ID,
    DEFAULT_PARTNER_AK,
    DEFAULT_PARTNER_SK,
    DEFAULT_READONLY_AK,
    DEFAULT_READONLY_CREDENTIALS,
    DEFAULT_READONLY_SK,
    DEFAULT_XACCOUNT_TYPE,
    EmulatorCredentials,
)
from reconciler.emulator.errors import SeedError
from reconciler.emulator.latency import LatencyModel
from reconciler.emulator.messages import EmulatorRequest, EmulatorResponse, HeaderMap
from reconciler.emulator.seed import DEMO_SEED_PATH
from reconciler.emulator.state import StateFileError

__all__ = [
    "DEFAULT_ACCOUNT_NAME",
    "DEFAULT_CREDENTIALS",
    "DEFAULT_DOMAIN_ID",
    "DEFAULT_PARTNER_AK",
    "DEFAULT_PARTNER_SK",
    "DEFAULT_READONLY_AK",
    "DEFAULT_READONLY_CREDENTIALS",
    "DEFAULT_READONLY_SK",
    "DEFAULT_XACCOUNT_TYPE",
    "DEMO_SEED_PATH",
    "Clock",
    "Emulator",
    "EmulatorCredentials",
    "EmulatorRequest",
    "EmulatorResponse",
    "HeaderMap",
    "LatencyModel",
    "SeedError",
    "StateFileError",
    "SystemClock",
    "VirtualClock",
]
