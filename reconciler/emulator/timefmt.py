"""Timestamps as the API writes them: UTC, ``yyyy-MM-ddTHH:mm:ssZ``."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
FORMAT = "%Y-%m-%dT%H:%M:%SZ"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def is_timestamp(text: str) -> bool:
    """True if ``text`` is a valid ``yyyy-MM-ddTHH:mm:ssZ`` timestamp."""
    if not _PATTERN.match(text):
        return False
    try:
        dt.datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]),
                    int(text[11:13]), int(text[14:16]), int(text[17:19]))  # fmt: skip
    except ValueError:
        return False
    return True


def fmt(epoch: float) -> str:
    """``epoch`` (seconds, UTC) in the API's format."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime(FORMAT)


def fmt_iam(epoch: float) -> str:
    """``epoch`` as IAM writes ``expires_at``: ``2026-01-01T00:15:00.000000Z``."""
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> float:
    """Epoch seconds of an API timestamp."""
    return dt.datetime.strptime(text, FORMAT).replace(tzinfo=dt.timezone.utc).timestamp()


def parse_sdk_date(text: str) -> float | None:
    """Epoch seconds of an ``X-Sdk-Date`` value (``20240115T083000Z``), or ``None``."""
    try:
        when = dt.datetime.strptime(text, SDK_DATE_FORMAT)
    except ValueError:
        return None
    return when.replace(tzinfo=dt.timezone.utc).timestamp()


def add_months(text: str, months: int) -> str:
    """``text`` moved ``months`` calendar months later, clamping the day (Jan 31 + 1 = Feb 28)."""
    when = dt.datetime.strptime(text, FORMAT)
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day).strftime(FORMAT)
