"""Credentials for the partner API, and where they come from.

Sources, in this order:

1. an explicit profile (argument, or ``RECONCILER_PROFILE``) read from the profile file;
2. the environment: ``HUAWEICLOUD_SDK_AK``, ``HUAWEICLOUD_SDK_SK`` and optionally
   ``HUAWEICLOUD_SDK_DOMAIN_ID``;
3. the ``default`` profile of the profile file, if the file exists.

The profile file lives outside the repository: ``~/.config/partner-reconciler/credentials.yaml``
unless ``RECONCILER_CREDENTIALS_FILE`` names another. Its format is
``profiles: {<name>: {ak: ..., sk: ..., domain_id: ...}}`` and it must not be accessible by group
or others (``chmod 600``).
"""

from __future__ import annotations

import hmac
import os
import stat
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from reconciler.errors import ConfigError

from .redact import register_secret, unregister_secret

ENV_AK = "HUAWEICLOUD_SDK_AK"
ENV_SK = "HUAWEICLOUD_SDK_SK"
ENV_DOMAIN_ID = "HUAWEICLOUD_SDK_DOMAIN_ID"
ENV_FILE = "RECONCILER_CREDENTIALS_FILE"
ENV_PROFILE = "RECONCILER_PROFILE"
DEFAULT_FILE = "~/.config/partner-reconciler/credentials.yaml"
DEFAULT_PROFILE = "default"


class Secret:
    """A string that prints as ``***``. Call :meth:`reveal` where the value is really needed."""

    __slots__ = ("__weakref__", "_value")

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value
        register_secret(value)
        weakref.finalize(self, unregister_secret, value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __format__(self, format_spec: str) -> str:
        return "***"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self) -> NoReturn:
        raise TypeError("Secret values cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self


def mask_ak(ak: str) -> str:
    """``HPUA…0001``: enough to tell keys apart, not enough to use one."""
    return f"{ak[:4]}…{ak[-4:]}" if len(ak) > 8 else "***"


@dataclass(frozen=True, eq=False)
class Credentials:
    """An access key with its secret; temporary ones also carry a token and an expiry (epoch s)."""

    ak: str
    sk: Secret
    domain_id: str | None = None
    security_token: Secret | None = None
    expires_at: float | None = None

    def __post_init__(self) -> None:
        if not self.ak or not isinstance(self.ak, str):
            raise ConfigError("credentials need a non-empty access key (AK)")
        # Plain strings are accepted and wrapped, so they are scrubbed from logs too.
        sk: object = self.sk
        token: object = self.security_token
        if isinstance(sk, str):
            object.__setattr__(self, "sk", Secret(sk))
        if isinstance(token, str):
            object.__setattr__(self, "security_token", Secret(token))
        if not self.sk:
            raise ConfigError("credentials need a non-empty secret key (SK)")
        register_secret(self.ak, mask_ak(self.ak))
        weakref.finalize(self, unregister_secret, self.ak)

    @property
    def masked_ak(self) -> str:
        return mask_ak(self.ak)

    @property
    def temporary(self) -> bool:
        return self.security_token is not None

    def __repr__(self) -> str:
        token = ", security_token=***" if self.security_token is not None else ""
        expiry = f", expires_at={self.expires_at!r}" if self.expires_at is not None else ""
        return (
            f"Credentials(ak={self.masked_ak!r}, sk=***, domain_id={self.domain_id!r}"
            f"{token}{expiry})"
        )

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise TypeError("Credentials cannot be pickled")


def _missing_message(detail: str, path: Path) -> str:
    return (
        f"{detail}. Set {ENV_AK} and {ENV_SK} (and optionally {ENV_DOMAIN_ID}), or add a profile "
        f"to {path} (override the path with {ENV_FILE}, choose the profile with {ENV_PROFILE})."
    )


def credentials_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get(ENV_FILE) or DEFAULT_FILE).expanduser()


def from_env(environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials from ``HUAWEICLOUD_SDK_*``; ``None`` when neither key is set."""
    env = os.environ if environ is None else environ
    ak, sk = env.get(ENV_AK, "").strip(), env.get(ENV_SK, "")
    if not ak and not sk:
        return None
    missing = [name for name, value in ((ENV_AK, ak), (ENV_SK, sk)) if not value]
    if missing:
        raise ConfigError(
            f"partial credentials in the environment: {' and '.join(missing)} is not set; "
            f"set both {ENV_AK} and {ENV_SK} (and optionally {ENV_DOMAIN_ID})"
        )
    return Credentials(ak=ak, sk=Secret(sk), domain_id=env.get(ENV_DOMAIN_ID) or None)


def _check_permissions(path: Path) -> None:
    if os.name == "nt":
        return
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"credentials file {path} is accessible by group or others (mode {mode:04o}); "
            f"restrict it with: chmod 600 {path}"
        )


def from_file(path: Path, profile: str = DEFAULT_PROFILE) -> Credentials:
    """Credentials of ``profile`` in the YAML profile file at ``path``."""
    try:
        _check_permissions(path)
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            _missing_message(f"credentials file {path} does not exist", path)
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        raise ConfigError(f"credentials file {path}{where} is not valid YAML") from None
    profiles = document.get("profiles") if isinstance(document, dict) else None
    if not isinstance(profiles, dict):
        raise ConfigError(f"credentials file {path} needs a 'profiles:' mapping of named profiles")
    entry = profiles.get(profile)
    if not isinstance(entry, dict):
        names = ", ".join(sorted(str(p) for p in profiles)) or "none"
        raise ConfigError(f"profile {profile!r} not found in {path} (profiles: {names})")
    ak, sk, domain_id = entry.get("ak"), entry.get("sk"), entry.get("domain_id")
    if not isinstance(ak, str) or not ak.strip() or not isinstance(sk, str) or not sk:
        raise ConfigError(f"profile {profile!r} in {path} needs non-empty string 'ak' and 'sk'")
    if domain_id is not None and not isinstance(domain_id, str):
        domain_id = str(domain_id)
    return Credentials(ak=ak.strip(), sk=Secret(sk), domain_id=domain_id or None)


def load_credentials(
    profile: str | None = None, *, environ: Mapping[str, str] | None = None
) -> Credentials:
    """Find the partner credentials (see the module docstring for the order)."""
    env = os.environ if environ is None else environ
    path = credentials_file(env)
    chosen = profile or env.get(ENV_PROFILE)
    if chosen:
        return from_file(path, chosen)
    found = from_env(env)
    if found is not None:
        return found
    if path.exists():
        return from_file(path, DEFAULT_PROFILE)
    raise ConfigError(_missing_message("no partner credentials found", path))
