"""Temporary credentials for acting as a customer, through the agency it granted (REFERENCE §2.6).

Auto-renew calls accept only the customer's identity. The partner asks IAM for temporary AK/SK
and a security token (``POST /v3.0/OS-CREDENTIAL/securitytokens``, signed with the partner's own
credentials). They are cached per customer until 60 s before they expire; a per-customer lock makes
concurrent callers share one IAM call, and a refusal (IAM 403: agency not granted) is remembered
for five minutes so that the callers queued behind it do not ask again. A check that will not act
as the customer (``keep=False``: a plan's agency check) caches neither, so a caller queued behind
it asks IAM again.
"""

from __future__ import annotations

import asyncio
import re
from calendar import timegm
from collections.abc import Mapping
from typing import Any

from reconciler.emulator.clock import Clock
from reconciler.errors import AgencyDeniedError, ApiError, AuthError, ConfigError

from .credentials import Credentials, Secret
from .operations import IAM_SECURITY_TOKENS
from .redact import get_logger
from .transport import Executor

log = get_logger(__name__)

DEFAULT_DURATION = 900
REFRESH_MARGIN = 60.0
DENIED_TTL = 300.0  # an agency refusal is remembered this long, so waiters do not re-ask IAM
_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def parse_expiry(text: str) -> float:
    """``2024-01-15T08:45:00.000000Z`` (or with an offset) as Unix seconds."""
    match = _ISO.match(text.strip())
    if match is None:
        raise ValueError(f"not an ISO-8601 UTC time: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    seconds = float(timegm((year, month, day, hour, minute, second, 0, 0, 0)))
    if match.group(7):
        seconds += float(match.group(7))
    zone = match.group(8)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "+" else 1
        digits = zone[1:].replace(":", "")
        seconds += sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return seconds


def request_body(customer_id: str, agency_name: str, duration: int) -> dict[str, Any]:
    """The IAM body, keys in the order of §2.6."""
    return {
        "auth": {
            "identity": {
                "methods": ["assume_role"],
                "assume_role": {
                    "agency_name": agency_name,
                    "domain_id": customer_id,
                    "duration_seconds": duration,
                },
            }
        }
    }


class _Slot:
    """A customer's lock and how many callers hold or wait for it (dropped at zero)."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class CustomerCredentials:
    """Fetches and caches each customer's temporary credentials (unless asked not to keep them)."""

    def __init__(
        self,
        *,
        executor: Executor,
        iam_endpoint: str,
        partner: Credentials,
        clock: Clock,
        agency_name: str | None,
        duration_seconds: int = DEFAULT_DURATION,
    ) -> None:
        if not 900 <= duration_seconds <= 86400:
            raise ValueError("duration_seconds must be between 900 and 86400")
        self._executor = executor
        self._endpoint = iam_endpoint
        self._partner = partner
        self._clock = clock
        self._agency = agency_name
        self._duration = duration_seconds
        self._cache: dict[str, Credentials] = {}
        self._slots: dict[str, _Slot] = {}
        self._denied: dict[str, tuple[float, AuthError]] = {}
        self.iam_calls = 0

    def _fresh(self, customer_id: str) -> Credentials | None:
        creds = self._cache.get(customer_id)
        if creds is None or creds.expires_at is None:
            return creds
        if creds.expires_at - REFRESH_MARGIN > self._clock.time():
            return creds
        del self._cache[customer_id]
        return None

    async def get(self, customer_id: str, *, keep: bool = True) -> Credentials:
        """The customer's temporary credentials, from the cache or from IAM.

        ``keep=False``: the caller only checks that they can be had (a plan's agency check)
        and nothing acts as the customer afterwards, so neither they nor a refusal stay
        cached: a plan checks thousands of customers, and each one's secrets would otherwise
        stay in memory (and in the masking registry) until the process ends. A caller queued
        behind such a check for the same customer then asks IAM itself."""
        if not self._agency:
            raise ConfigError(
                "acting for a customer needs the name of the agency customers grant to this "
                "partner: set agency_name (BssClient(agency_name=...))"
            )
        creds = self._fresh(customer_id)
        if creds is not None:
            return creds
        slot = self._slots.get(customer_id)
        if slot is None:
            slot = self._slots[customer_id] = _Slot()
        slot.users += 1
        try:
            async with slot.lock:
                return await self._get_locked(customer_id, self._agency, keep)
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[customer_id]

    async def _get_locked(self, customer_id: str, agency: str, keep: bool) -> Credentials:
        denied = self._denied.get(customer_id)
        if denied is not None:
            until, error = denied
            if until > self._clock.time():
                raise error
            del self._denied[customer_id]
        creds = self._fresh(customer_id)
        if creds is None:
            try:
                creds = await self._fetch(customer_id, agency)
            except AuthError as exc:
                if keep:
                    self._denied[customer_id] = (self._clock.time() + DENIED_TTL, exc)
                raise
            if keep:
                self._cache[customer_id] = creds
        return creds

    def invalidate(self, customer_id: str) -> None:
        """Forget a customer's credentials (e.g. after the API rejected them with 401)."""
        self._cache.pop(customer_id, None)

    async def _fetch(self, customer_id: str, agency: str) -> Credentials:
        self.iam_calls += 1
        log.debug(
            "getting temporary credentials for customer %s via agency %s", customer_id, agency
        )
        op = IAM_SECURITY_TOKENS
        try:
            data = await self._executor.call(
                op,
                endpoint=self._endpoint,
                credentials=self._partner,
                path=op.path,
                body=request_body(customer_id, agency, self._duration),
            )
        except AuthError as exc:
            if exc.status != 403:
                raise
            raise AgencyDeniedError(
                customer_id=customer_id,
                agency=agency,
                iam_message=exc.error_msg,
                method=exc.method,
                path=exc.path,
                status=exc.status,
                error_code=exc.error_code,
                request_id=exc.request_id,
            ) from None
        return self._parse(customer_id, data)

    def _parse(self, customer_id: str, data: object) -> Credentials:
        cred = data.get("credential") if isinstance(data, Mapping) else None
        fields = ("access", "secret", "securitytoken")
        if not isinstance(cred, Mapping) or not all(cred.get(f) for f in fields):
            raise ApiError(
                method=IAM_SECURITY_TOKENS.method,
                path=IAM_SECURITY_TOKENS.path,
                status=200,
                error_code="InvalidResponse",
                error_msg="IAM answered without access, secret and securitytoken",
            )
        expiry = cred.get("expires_at")
        expires_at = parse_expiry(str(expiry)) if expiry else self._clock.time() + self._duration
        return Credentials(
            ak=str(cred["access"]),
            sk=Secret(str(cred["secret"])),
            domain_id=customer_id,
            security_token=Secret(str(cred["securitytoken"])),
            expires_at=expires_at,
        )
