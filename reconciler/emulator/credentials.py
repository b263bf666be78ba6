"""The emulator's built-in partner credentials (see README.md; never use them anywhere else)."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_DOMAIN_ID = "0a1b2c3d4e5f40718293a4b5c6d7e8f9"
DEFAULT_ACCOUNT_NAME = "demo-distributor"
DEFAULT_XACCOUNT_TYPE = "demo_distributor_platform"
DEFAULT_PARTNER_AK = "HPUAEMUPARTNER000001"
DEFAULT_PARTNER_SK = "emulator-partner-secret-key-not-for-production"
DEFAULT_READONLY_AK = "HPUAEMUREADONLY00001"
DEFAULT_READONLY_SK = "emulator-readonly-secret-key-not-for-production"


@dataclass(frozen=True)
class EmulatorCredentials:
    """A permanent AK/SK of the emulated partner account. ``role``: ``admin`` or ``readonly``."""

    ak: str
    sk: str = field(repr=False)
    domain_id: str = DEFAULT_DOMAIN_ID
    account_name: str = DEFAULT_ACCOUNT_NAME
    role: str = "admin"


#: The partner (distributor) main account: every operation allowed.
DEFAULT_CREDENTIALS = EmulatorCredentials(DEFAULT_PARTNER_AK, DEFAULT_PARTNER_SK)
#: A read-only operator of the same account: reads allowed, writes answer 403 CBC.0151.
DEFAULT_READONLY_CREDENTIALS = EmulatorCredentials(
    DEFAULT_READONLY_AK, DEFAULT_READONLY_SK, role="readonly"
)
