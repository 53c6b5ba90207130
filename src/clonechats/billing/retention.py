"""Payment records are kept 7 years (webhook logs; orders and ledger entries of deleted
accounts, under a pseudonym), then removed by the `billing.purge_expired` job, enqueued once per
day on which some record's retention ends."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from clonechats.context import Ctx


RETENTION = timedelta(days=7 * 365 + 2)
PURGE = "billing.purge_expired"


def retain_until(moment: datetime) -> datetime:
    return moment + RETENTION


async def schedule_purge(ctx: Ctx, until: datetime) -> None:
    day = until.date() + timedelta(days=1)
    run_at = datetime.combine(day, time(3, 0), tzinfo=until.tzinfo)
    await ctx.enqueue(PURGE, {}, run_at, dedupe_key=f"{PURGE}:{day.isoformat()}")
