"""The one source of "now", so tests can move time (retention, leases, expiry)."""

from datetime import UTC, datetime, timedelta


class Clock:
    """Wall-clock UTC time. Every service asks this object, never `datetime.now()`."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock(Clock):
    """A clock that only moves when told to. Used by tests and by deterministic tools."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> datetime:
        self._now += timedelta(**delta)
        return self._now
