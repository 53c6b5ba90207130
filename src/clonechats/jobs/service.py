"""Enqueueing jobs and the handler registry. Runs nothing itself; see `runner.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.clock import Clock
from clonechats.jobs import repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


Handler = Callable[[dict[str, Any], Any], Awaitable[None]]
"""`async def handler(payload, ctx)`: ctx is the application context (db, settings, providers)."""


class UnknownJobKind(LookupError):
    pass


class JobRegistry:
    """Job kinds (dotted names such as `email.send`) mapped to their handlers."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"job kind {kind!r} is already registered")
        self._handlers[kind] = handler

    def handler(self, kind: str) -> Callable[[Handler], Handler]:
        def decorate(fn: Handler) -> Handler:
            self.register(kind, fn)
            return fn

        return decorate

    def get(self, kind: str) -> Handler:
        try:
            return self._handlers[kind]
        except KeyError:
            raise UnknownJobKind(kind) from None

    def kinds(self) -> list[str]:
        return sorted(self._handlers)


async def enqueue(db: Any, kind: str, payload: dict[str, Any], run_at: datetime | None = None, *,
                  clock: Clock, max_attempts: int = 5,
                  dedupe_key: str | None = None) -> dict[str, Any]:
    """Queue `kind` to run at `run_at` (now by default).

    With a `dedupe_key`, enqueueing the same key twice returns the first job instead of a
    second one: callers use it for work that must happen once (a monthly grant, one email).
    """
    now = clock.now()
    try:
        return await repo.insert(db, kind=kind, payload=payload, run_at=run_at or now, now=now,
                                 max_attempts=max_attempts, dedupe_key=dedupe_key)
    except DuplicateKeyError:
        if dedupe_key is None:
            raise
        existing = await repo.get_by_dedupe_key(db, dedupe_key)
        assert existing is not None
        return existing


def next_daily_run(now: datetime, time_of_day: time) -> datetime:
    """The first moment after `now` at `time_of_day` (which carries its time zone)."""
    today = datetime.combine(now.astimezone(UTC).date(), time_of_day)
    return today if today > now else today + timedelta(days=1)


async def enqueue_daily(ctx: Ctx, kind: str, time_of_day: time) -> dict[str, Any]:
    """Queue the next daily run of `kind` (idempotent: one job per date)."""
    run_at = next_daily_run(ctx.clock.now(), time_of_day)
    return await ctx.enqueue(kind, {}, run_at, dedupe_key=f"{kind}:{run_at.date().isoformat()}")
