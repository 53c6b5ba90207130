"""The daily job that applies the retention rules (`retention_rules.RULES`), each with its
owner's code.

Each rule reaches its collection only through the `Expiring` its owner module declares. A plain
`delete` rule deletes what the rule's query matches; the others call the owning domain for each
document: `media.service.delete_media` (the file, then the record and the persona's
references), `export.remove` (the archive, then its record), `guardian.delete_unapproved` (the
whole account through the privacy registry) and the telemetry fold. `overdue` counts, rule by
rule, what should already be gone (the audit's check).

The job `privacy.retention` runs daily at 03:00 UTC: it first queues its next run (deduplicated
on the date, so one chain exists however often it is seeded) and then applies every rule.
`seed` queues the next run at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from clonechats.accounts import guardian
from clonechats.accounts.users import User
from clonechats.jobs.service import enqueue_daily
from clonechats.media import service as media_service
from clonechats.media.errors import MediaNotFound
from clonechats.privacy import export, retention_rules
from clonechats.privacy.retention_rules import (
    DELETE,
    DELETE_ACCOUNT,
    DELETE_EXPORT,
    DELETE_MEDIA,
    FOLD,
    Rule,
)
from clonechats.telemetry import fold as telemetry_fold

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

RETENTION_JOB = "privacy.retention"
RUN_AT = time(3, 0, tzinfo=UTC)
GRACE = timedelta(hours=25)
"""The job runs daily, so a document may outlive its date by up to a day; the audit allows
this much before it calls a document overdue."""


Action = Callable[[Any, Rule, datetime], Awaitable[int]]


async def _delete(ctx: Ctx, rule: Rule, now: datetime) -> int:
    return await rule.store.delete(ctx.db, rule.query(now))


async def _delete_media(ctx: Ctx, rule: Rule, now: datetime) -> int:
    removed = 0
    for document in await rule.store.find(ctx.db, rule.query(now)):
        try:  # the owner's own delete: file, then document, then the persona's references
            await media_service.delete_media(ctx, user_id=document["owner_id"],
                                             media_id=document["_id"])
        except MediaNotFound:
            continue  # deleted meanwhile
        removed += 1
    return removed


async def _delete_exports(ctx: Ctx, rule: Rule, now: datetime) -> int:
    removed = 0
    for document in await rule.store.find(ctx.db, rule.query(now)):
        await export.remove(ctx, document)
        removed += 1
    return removed


async def _fold(ctx: Ctx, rule: Rule, now: datetime) -> int:
    return await telemetry_fold.fold(ctx, rule.collection, before=now - rule.keep.delta)


async def _delete_accounts(ctx: Ctx, rule: Rule, now: datetime) -> int:
    removed = 0
    for document in await rule.store.find(ctx.db, rule.query(now)):
        removed += await guardian.delete_unapproved(ctx, cast(User, document))
    return removed


ACTIONS: dict[str, Action] = {DELETE: _delete, DELETE_MEDIA: _delete_media,
                              DELETE_EXPORT: _delete_exports, FOLD: _fold,
                              DELETE_ACCOUNT: _delete_accounts}


async def apply_rules(ctx: Ctx, *, now: datetime | None = None,
                      rules: tuple[Rule, ...] | None = None) -> dict[str, int]:
    """Apply every rule once; returns how many documents each removed or folded."""
    moment = now or ctx.clock.now()
    counts = {}
    for rule in retention_rules.RULES if rules is None else rules:
        counts[rule.name] = await ACTIONS[rule.action](ctx, rule, moment)
    return counts


async def overdue(ctx: Ctx, *, now: datetime | None = None) -> dict[str, int]:
    """How many documents each rule should already have removed, allowing `GRACE`."""
    moment = (now or ctx.clock.now()) - GRACE
    return {rule.name: await rule.store.count(ctx.db, rule.query(moment))
            for rule in retention_rules.RULES}


async def seed(ctx: Ctx) -> dict[str, Any]:
    """Queue the next daily run (idempotent: one job per date)."""
    return await enqueue_daily(ctx, RETENTION_JOB, RUN_AT)


async def run_retention(payload: dict[str, Any], ctx: Ctx) -> None:
    await seed(ctx)  # the next run is queued first, so a failure here never ends the chain
    counts = await apply_rules(ctx)
    if any(counts.values()):
        await ctx.connection.scrub()
    log.info("retention applied", extra={"removed": {k: v for k, v in counts.items() if v}})
