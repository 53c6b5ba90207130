"""The orphan-media sweep: deleting stored files that no `media` document names any more.

Such files are left by a crash between writing a file and inserting its document, or by a
delete whose file removal failed after its document went. The store keeps no dates we could
trust across backends, so the sweep dates what it sees itself: a file found unrecorded is noted
in `media_orphans` with the time it was first seen, and deleted only by a later run that finds
it still unrecorded `media.orphan_grace_hours` after that. An upload in progress (its file
written, its document not yet) is therefore never removed, and a note is dropped as soon as a
document names the file or the file is gone. Runs daily as `media.sweep_orphans`; logs counts
only, never keys (they name users).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, time, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.jobs.service import enqueue_daily
from clonechats.media import repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

ORPHANS = "media_orphans"
COLLECTIONS = (ORPHANS,)
SWEEP_JOB = "media.sweep_orphans"
RUN_AT = time(4, 0, tzinfo=UTC)
BATCH = 500


@dataclass(frozen=True)
class SweepResult:
    checked: int = 0
    deleted: int = 0
    waiting: int = 0


async def sweep(ctx: Ctx) -> SweepResult:
    """Delete files unrecorded for longer than the grace period; note newly unrecorded ones."""
    now = ctx.clock.now()
    grace = timedelta(hours=ctx.settings.media.orphan_grace_hours)
    checked = deleted = waiting = 0
    seen: set[str] = set()
    batch: list[str] = []

    async def settle(keys: list[str]) -> None:
        nonlocal deleted, waiting
        recorded = await repo.recorded_keys(ctx.db, keys)
        if recorded:
            await ctx.db[ORPHANS].delete_many({"_id": {"$in": sorted(recorded)}})
        for key in keys:
            if key in recorded:
                continue
            note = await ctx.db[ORPHANS].find_one({"_id": key})
            if note is None:
                await ctx.db[ORPHANS].insert_one({"_id": key, "first_seen_at": now})
                waiting += 1
            elif note["first_seen_at"] <= now - grace and not await repo.recorded_keys(
                    ctx.db, [key]):  # checked again just before the delete
                await ctx.media.delete(key)
                await ctx.db[ORPHANS].delete_one({"_id": key})
                deleted += 1
            else:
                waiting += 1

    async for key in ctx.media.keys(""):
        checked += 1
        seen.add(key)
        batch.append(key)
        if len(batch) >= BATCH:
            await settle(batch)
            batch = []
    await settle(batch)
    noted = await ctx.db[ORPHANS].distinct("_id")
    gone = [key for key in noted if key not in seen]
    if gone:
        await ctx.db[ORPHANS].delete_many({"_id": {"$in": gone}})
    return SweepResult(checked=checked, deleted=deleted, waiting=waiting)


async def seed(ctx: Ctx) -> dict[str, Any]:
    """Queue the next daily sweep (idempotent: one job per date)."""
    return await enqueue_daily(ctx, SWEEP_JOB, RUN_AT)


async def sweep_job(payload: dict[str, Any], ctx: Ctx) -> None:
    await seed(ctx)  # the next run is queued first, so a failure here never ends the chain
    result = await sweep(ctx)
    log.info("orphan media swept", extra={"checked": result.checked,
                                          "deleted": result.deleted,
                                          "waiting": result.waiting})
