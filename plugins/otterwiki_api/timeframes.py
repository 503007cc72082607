"""Time frames as people and agents write them: "1d", "12h", "2 weeks", "yesterday", an ISO date."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from .errors import Invalid

_UNITS = {
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
    "w": 7 * 86400,
    "week": 7 * 86400,
    "month": 30 * 86400,
}
_AGO = re.compile(r"^(\d{1,6})\s*([a-z]+?)s?(?:\s+ago)?$")
MAX_DAYS = 100 * 366


def since(text: object, now: datetime | None = None) -> datetime:
    """The start of the time frame `text` names, as an aware datetime in UTC."""
    if not isinstance(text, str) or not text.strip():
        raise Invalid("since is required: e.g. '1d', '12h', '2 weeks', 'yesterday' or an ISO date")
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if value in ("today", "yesterday"):
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight - timedelta(days=1 if value == "yesterday" else 0)
    match = _AGO.match(value)
    if match and (match.group(2) in _UNITS):
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds > MAX_DAYS * 86400:
            raise Invalid(f"since: {text!r} reaches back more than 100 years")
        return now - timedelta(seconds=seconds)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            f"since: {text!r} is not a time frame: e.g. '1d', '12h', '2 weeks', 'yesterday' "
            "or an ISO 8601 date"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
