"""Which endpoints the client may talk to in clear text.

Every partner API call carries a signature made with the partner's secret key, and IAM's answers
carry customers' temporary secret keys and security tokens. Over ``http://`` anyone on the path
can read them (and replay or alter calls that move money). So a plain ``http://`` endpoint is used
only when its host is this machine (a served emulator, a local proxy) or when the person running
the command says so explicitly (``--allow-insecure-endpoint`` or
``RECONCILER_ALLOW_INSECURE_ENDPOINT=1``).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from reconciler.errors import ConfigError

FLAG = "--allow-insecure-endpoint"
ENV_ALLOW_INSECURE = "RECONCILER_ALLOW_INSECURE_ENDPOINT"


def is_loopback(host: str | None) -> bool:
    """``localhost``, ``*.localhost``, 127.0.0.0/8 and ::1 (and IPv4-mapped loopback)."""
    if not host:
        return False
    name = host.lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def check_cleartext(url: str, what: str, *, allowed: bool) -> None:
    """Refuse ``http://`` to a host other than this machine unless ``allowed``."""
    parts = urlsplit(url)
    if parts.scheme != "http" or allowed or is_loopback(parts.hostname):
        return
    raise ConfigError(
        f"refusing the {what} {url!r}: plain http:// to a host other than this machine would send "
        "signed requests, and customers' temporary keys from IAM, in clear text. Use https://, or "
        f"pass {FLAG} (or set {ENV_ALLOW_INSECURE}=1) if you really mean it"
    )


def insecure_allowed_by_env(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")
