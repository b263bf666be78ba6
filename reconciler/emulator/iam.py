"""Emulated IAM ``POST /v3.0/OS-CREDENTIAL/securitytokens`` (REFERENCE §2.6).

The partner, signing with its permanent AK/SK, asks for temporary credentials of a customer
through the agency the customer granted. The agency is named after the partner's
``xaccount_type``. The temporary AK/SK + security token then act as the customer.

Errors use the flat IAM v3.0 shape ``{"error_code": "IAM.xxxx", "error_msg": "..."}``; the codes
(400 ``IAM.0011``, 403 ``IAM.0002``) are UNVERIFIED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reconciler.emulator import ids, timefmt
from reconciler.emulator.call import Call, Result
from reconciler.emulator.errors import IamError, InvalidParameter
from reconciler.emulator.models import Customer, TempCredential

MIN_DURATION, MAX_DURATION, DEFAULT_DURATION = 900, 86400, 900
_PRUNE_AFTER = 86400.0
_PRUNE_EVERY = 64


def create_temporary_access_key(call: Call) -> Result:
    if call.caller.kind != "partner":
        raise IamError(403, "Temporary credentials cannot assume an agency.")
    if call.caller.role != "admin":
        # A read-only operator must not be able to act as a customer (safest choice).
        raise IamError(403, "The user has no permission to assume the agency (read-only operator).")
    try:
        body = call.body_params().values
    except InvalidParameter as err:
        raise IamError(400, err.message) from err
    assume = _assume_role(body)
    customer = _customer(call, assume)
    agency = assume.get("agency_name")
    if not isinstance(agency, str) or not agency:
        raise IamError(400, "auth.identity.assume_role.agency_name is required.")
    duration = assume.get("duration_seconds", DEFAULT_DURATION)
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise IamError(400, "duration_seconds must be an integer.")
    if not MIN_DURATION <= duration <= MAX_DURATION:
        raise IamError(400, f"duration_seconds must be between {MIN_DURATION} and {MAX_DURATION}.")
    if (
        customer is None
        or not customer.agency_granted
        or agency != call.state.partner.xaccount_type
    ):
        raise IamError(
            403, f"The agency {agency} does not exist or was not granted to this account."
        )
    return 201, {"credential": _issue(call, customer, duration)}


def _assume_role(body: Mapping[str, Any]) -> dict[str, Any]:
    identity = body.get("auth", {}).get("identity") if isinstance(body.get("auth"), dict) else None
    if not isinstance(identity, dict):
        raise IamError(400, "auth.identity is required.")
    methods = identity.get("methods")
    if not isinstance(methods, list) or "assume_role" not in methods:
        raise IamError(400, 'auth.identity.methods must be ["assume_role"].')
    assume = identity.get("assume_role")
    if not isinstance(assume, dict):
        raise IamError(400, "auth.identity.assume_role is required.")
    return assume


def _customer(call: Call, assume: dict[str, Any]) -> Customer | None:
    domain_id, domain_name = assume.get("domain_id"), assume.get("domain_name")
    if not domain_id and not domain_name:
        raise IamError(400, "assume_role needs domain_id or domain_name.")
    if domain_id:  # by id: one lookup (a large partner has 100,000 customers)
        found = call.state.customers.get(domain_id)
        candidates = [found] if found is not None else []
    else:
        candidates = list(call.state.customers.values())
    for customer in candidates:
        if customer.indirect_partner_id is not None:
            continue
        if domain_name and customer.account_name != domain_name:
            continue
        return customer
    return None


def _issue(call: Call, customer: Customer, duration: int) -> dict[str, str]:
    state = call.state
    sequence = state.next_counter("temp")
    if sequence % _PRUNE_EVERY == 1:  # not on every call: thousands may be live in a large plan
        for ak, old in list(state.temp_credentials.items()):
            if old.expires_at + _PRUNE_AFTER < call.now:
                del state.temp_credentials[ak]
    access, secret, token = ids.temp_key_material(call.rng_seed, sequence)
    expires_at = call.now + duration
    state.temp_credentials[access] = TempCredential(
        ak=access,
        sk=secret,
        token=token,
        customer_id=customer.customer_id,
        expires_at=expires_at,
        issued_to=call.caller.ak,
    )
    call.mutated = True
    return {
        "access": access,
        "secret": secret,
        "securitytoken": token,
        "expires_at": timefmt.fmt_iam(expires_at),
    }
