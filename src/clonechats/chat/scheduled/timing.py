"""When a scheduled message is due: time zones, local times, DST, and the allowed window.

`send_at` arrives either as an instant (ISO 8601 with an offset, `2026-03-29T09:00+01:00` or
`...Z`) or as a local wall-clock time without an offset (`2026-03-29T09:00`) read in the
user's IANA time zone. It is stored in UTC. A local time inside a DST gap (clocks jump forward:
02:30 on the morning summer time starts in Europe/London does not exist) is refused with 422
`nonexistent_local_time`, naming the first valid time after the gap, rather than moved
silently. A local time inside a fold (clocks go back: 01:30 happens twice) means its first
occurrence (`fold=0`) unless `fold=1` asks for the second. Past times and times more than
`max_ahead_days` ahead are 422 `invalid_send_at`. Nothing here reads the clock: callers pass
`now`.
"""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clonechats.errors import AppError

DEFAULT_TIME_ZONE = "UTC"
_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+){0,2}$")


class InvalidTimeZone(AppError):
    code = "invalid_time_zone"
    status = 422
    message = "That is not a time zone we know. Use an IANA name such as Europe/London."


class InvalidSendAt(AppError):
    code = "invalid_send_at"
    status = 422
    message = "Choose a date and time in the future, at most a year ahead."


class NonexistentLocalTime(AppError):
    code = "nonexistent_local_time"
    status = 422
    message = "That local time does not exist (the clocks skip it)."


def zone(name: str | None) -> ZoneInfo:
    """The IANA zone `name` (422 `invalid_time_zone` when it is not one)."""
    name = (name or DEFAULT_TIME_ZONE).strip()
    if not _ZONE_NAME.match(name) or len(name) > 64:
        raise InvalidTimeZone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidTimeZone() from None


def clean_zone_name(name: str | None) -> str:
    return zone(name).key


def _parse(value: str) -> datetime:
    text = (value or "").strip()
    if not text or len(text) > 40:
        raise InvalidSendAt("send_at must be an ISO 8601 date and time, e.g. "
                            "2026-03-29T09:00:00+01:00.")
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise InvalidSendAt("send_at must be an ISO 8601 date and time, e.g. "
                            "2026-03-29T09:00:00+01:00.") from None


def local_to_utc(local: datetime, tz: ZoneInfo, *, fold: int = 0) -> datetime:
    """The UTC instant of the wall-clock time `local` (naive) in `tz`.

    A time in a gap raises NonexistentLocalTime with the first valid time after the gap; a time
    in a fold is its first occurrence, or its second with `fold=1`."""
    candidate = local.replace(tzinfo=tz, fold=fold)
    instant = candidate.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local:
        after = _end_of_gap(local, tz)
        shown = after.astimezone(tz)
        raise NonexistentLocalTime(
            f"{local:%H:%M} on {local:%Y-%m-%d} does not exist in {tz.key}: the clocks jump "
            f"forward then. The first time after the change is {shown:%H:%M}.",
            details={"suggested_send_at": shown.isoformat()})
    return instant


def _end_of_gap(local: datetime, tz: ZoneInfo) -> datetime:
    """The first instant whose wall-clock time in `tz` is later than `local` (the gap's end)."""
    # fold=0 before a gap maps with the earlier offset, landing after the gap in UTC terms; walk
    # forward minute by minute from the instant just before to find where local time resumes.
    probe = (local - timedelta(hours=3)).replace(tzinfo=tz).astimezone(UTC)
    for _ in range(6 * 60):
        probe += timedelta(minutes=1)
        if probe.astimezone(tz).replace(tzinfo=None) > local:
            return probe
    return local.replace(tzinfo=tz).astimezone(UTC)  # pragma: no cover - no such zone


def resolve_send_at(value: str, *, time_zone: str | None, now: datetime, max_ahead_days: int,
                    fold: int = 0) -> datetime:
    """`send_at` as given (with offset, or local in `time_zone`), checked and in UTC."""
    parsed = _parse(value)
    if parsed.tzinfo is None:
        instant = local_to_utc(parsed, zone(time_zone), fold=fold)
    else:
        instant = parsed.astimezone(UTC)
    check_window(instant, now=now, max_ahead_days=max_ahead_days)
    return instant.replace(microsecond=(instant.microsecond // 1000) * 1000)


def check_window(instant: datetime, *, now: datetime, max_ahead_days: int) -> None:
    if instant <= now:
        raise InvalidSendAt("That time has already passed. Choose a time in the future.")
    if instant > now + timedelta(days=max_ahead_days):
        raise InvalidSendAt(f"Messages can be scheduled at most {max_ahead_days} days ahead.")


def in_zone(instant: datetime, name: str | None) -> datetime:
    """`instant` shown in the zone `name` (UTC when the name is not usable)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    try:
        return instant.astimezone(zone(name))
    except AppError:
        return instant.astimezone(UTC)


def describe(instant: datetime, name: str | None) -> str:
    """`Sun 29 Mar 2026, 09:00 (Europe/London)`: how the strip and emails show a time."""
    local = in_zone(instant, name)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({local.tzinfo})"
