"""Moments for pages: a stored time (a datetime, naive meaning UTC, or an ISO string) as the
machine-readable ISO form for `<time datetime>` and a readable UTC text, which the page's
script turns into the reader's local time."""

from datetime import UTC, datetime
from typing import Any


def as_utc(value: Any) -> datetime | None:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def moment(value: Any) -> dict[str, str] | None:
    """`{"iso", "text"}` for `value`, or None when it is not a time."""
    utc = as_utc(value)
    if utc is None:
        return None
    return {"iso": utc.isoformat().replace("+00:00", "Z"),
            "text": f"{utc.day} {utc:%b %Y, %H:%M} UTC"}
