"""Reading answers: the error shape of REFERENCE §3 and the typed exception for each status."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from reconciler.errors import ApiError, AuthError, ServerError, ThrottledError

from .redact import scrub

#: ``error_code`` values a 2xx body may carry on success (``set_resources_renew_config``).
SUCCESS_CODES = frozenset({"", "CBC.0000"})
_PAIRS = (("error_code", "error_msg"), ("errorCode", "errorMsg"), ("code", "message"))
_MAX_MSG = 300
_SPACES = re.compile(r"\s+")


def _short(text: str) -> str:
    """The server's message on one line, secrets masked (a 401 may quote the access key)."""
    text = scrub(_SPACES.sub(" ", text).strip())
    return text if len(text) <= _MAX_MSG else text[: _MAX_MSG - 1] + "…"


def _pair(data: Mapping[str, Any], status: int) -> tuple[str, str] | None:
    for code_key, msg_key in _PAIRS:
        if code_key in data or msg_key in data:
            code = data.get(code_key)
            msg = data.get(msg_key)
            return (str(code) if code not in (None, "") else str(status), _short(str(msg or "")))
    return None


def error_fields(status: int, content: bytes) -> tuple[str, str]:
    """``(error_code, error_msg)`` from an error body, with the SDK's fallbacks.

    ``error_code``/``error_msg``, else ``errorCode``/``errorMsg``, else ``code``/``message``, else
    the same keys one level down (``{"error": {...}}``). A body that is not JSON becomes the
    message, and the code is the HTTP status.
    """
    text = content.decode("utf-8", "replace")
    try:
        data = json.loads(text) if text.strip() else None
    except ValueError:
        data = None
    if isinstance(data, dict):
        found = _pair(data, status)
        if found is None:
            nested = (v for v in data.values() if isinstance(v, dict))
            found = next((p for p in (_pair(v, status) for v in nested) if p), None)
        if found is not None:
            return found
    return str(status), _short(text)


def request_id(headers: Mapping[str, str], data: object = None) -> str | None:
    """The ``X-Request-Id`` response header, else a ``request_id`` field of the body."""
    rid = headers.get("x-request-id") or headers.get("X-Request-Id")
    if not rid and isinstance(data, dict):
        value = data.get("request_id")
        rid = str(value) if value else None
    return rid or None


def error_class(status: int) -> type[ApiError]:
    if status in (401, 403):
        return AuthError
    if status == 429:
        return ThrottledError
    if status >= 500:
        return ServerError
    return ApiError


def api_error(
    method: str, path: str, status: int, content: bytes, headers: Mapping[str, str]
) -> ApiError:
    """The typed exception for an error answer."""
    code, msg = error_fields(status, content)
    try:
        data = json.loads(content) if content else None
    except ValueError:
        data = None
    cls = error_class(status)
    return cls(
        method=method,
        path=path,
        status=status,
        error_code=code,
        error_msg=msg,
        request_id=request_id(headers, data),
    )


def body_error(
    method: str, path: str, status: int, data: object, rid: str | None
) -> ApiError | None:
    """An :class:`ApiError` when a 2xx body carries a non-success ``error_code``."""
    if not isinstance(data, dict):
        return None
    code = data.get("error_code")
    if code is None or str(code) in SUCCESS_CODES:
        return None
    return ApiError(
        method=method,
        path=path,
        status=status,
        error_code=str(code),
        error_msg=_short(str(data.get("error_msg") or "")),
        request_id=rid,
    )
