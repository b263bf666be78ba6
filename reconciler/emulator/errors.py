"""Errors the emulator answers with, one class per code family, serialised in one place.

::

    EmulatorError                 status + error_code + error_msg
    ├── InvalidParameter          400 CBC.0100 (bad type, enum, length, page size, ...)
    ├── BusinessError             400 with an operation-specific CBC code (CBC.99000013, ...)
    ├── AccessDenied              403 CBC.0151 (wrong caller type, missing permission item)
    ├── AuthenticationFailed      401 APIG.0301 (signature, clock skew, unknown or expired key)
    ├── Throttled                 429 APIG.0308 (token bucket empty, or an injected fault)
    ├── InternalError             500 CBC.0999 (injected fault)
    ├── NotImplementedByEmulator  501 EMULATOR.0501 (unknown route, out-of-scope operation)
    ├── IamError                  IAM.* codes on the emulated IAM endpoint
    └── ControlError              EMULATOR.* codes on the /_emulator/ control plane

Every error body has the API's shape, ``{"error_code": "...", "error_msg": "..."}``.
"""

from __future__ import annotations

from typing import Any


class EmulatorError(Exception):
    """An error response: HTTP ``status`` with ``{"error_code", "error_msg"}``."""

    status = 500
    code = "CBC.0999"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        return {"error_code": self.code, "error_msg": self.message}


class InvalidParameter(EmulatorError):
    status = 400
    code = "CBC.0100"

    def __init__(self, message: str) -> None:
        super().__init__(f"Invalid parameter: {message}")


class BusinessError(EmulatorError):
    """A documented business-rule failure; ``code`` is always given."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message, code=code, status=status)


class AccessDenied(EmulatorError):
    status = 403
    code = "CBC.0151"

    def __init__(self, message: str) -> None:
        super().__init__(f"Access denied: {message}")


class AuthenticationFailed(EmulatorError):
    """The gateway's answer to a bad signature; the code ``APIG.0301`` is UNVERIFIED (§2.5)."""

    status = 401
    code = "APIG.0301"

    def __init__(self, reason: str) -> None:
        super().__init__(f"Incorrect IAM authentication information: {reason}")


class Throttled(EmulatorError):
    status = 429
    code = "APIG.0308"

    def __init__(self, limit: float) -> None:
        shown = int(limit) if float(limit).is_integer() else limit
        super().__init__(
            "The throttling threshold has been reached: policy user over ratelimit,"
            f"limit:{shown},time:1 second"
        )


class InternalError(EmulatorError):
    status = 500
    code = "CBC.0999"


class NotImplementedByEmulator(EmulatorError):
    status = 501
    code = "EMULATOR.0501"

    def __init__(self, method: str, path: str) -> None:
        super().__init__(f"not implemented by the emulator: {method} {path}")


class IamError(EmulatorError):
    """Errors of the emulated IAM endpoint, in the flat shape IAM v3.0 APIs use.

    Codes are UNVERIFIED: 400 ``IAM.0011`` (invalid request), 403 ``IAM.0002`` (not allowed).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, code="IAM.0011" if status == 400 else "IAM.0002", status=status)


class ControlError(EmulatorError):
    """Errors of the control plane: 400 ``EMULATOR.0400``, 404 ``EMULATOR.0404``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, code=f"EMULATOR.{status:04d}", status=status)


class SeedError(ValueError):
    """A seed document is invalid. ``problems`` lists every problem, each naming its entry."""

    def __init__(self, problems: list[str], source: str = "seed") -> None:
        self.problems = problems
        self.source = source
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s):\n{lines}")
