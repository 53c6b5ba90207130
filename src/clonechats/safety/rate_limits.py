"""Fixed-window rate limits for anonymous actions (contact messages, persona reports).

A counter (collection `rate_limits`): _id "<bucket>:<key>:<window start>", bucket, count,
expires_at. The key is already a keyed hash (of the client address), never a raw address.
One atomic upsert per hit, so N app processes share the limit. Expired counters are removed
by the retention job (`rate_limits` rule).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pymongo import ReturnDocument

from clonechats.errors import TooManyRequests
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


RATE_LIMITS = "rate_limits"
COLLECTIONS = (RATE_LIMITS,)
EXPIRING = Expiring(RATE_LIMITS)

INDEXES = [Index(RATE_LIMITS, [("expires_at", 1)])]


async def hit(ctx: Ctx, *, bucket: str, key: str | None, limit: int,
              window: timedelta = timedelta(hours=1), message: str | None = None) -> None:
    """Count one action for `key` in `bucket`; raise 429 (with Retry-After) past `limit`.

    A request without a key (no client address) shares the bucket's anonymous counter."""
    now = ctx.clock.now()
    seconds = int(window.total_seconds())
    start = int(now.timestamp()) // seconds * seconds
    ends = datetime.fromtimestamp(start + seconds, UTC)
    counter = await ctx.db[RATE_LIMITS].find_one_and_update(
        {"_id": f"{bucket}:{key or 'anonymous'}:{start}"},
        {"$inc": {"count": 1}, "$setOnInsert": {"bucket": bucket, "expires_at": ends}},
        upsert=True, return_document=ReturnDocument.AFTER)
    if counter["count"] > limit:
        wait = max(1, math.ceil((ends - now).total_seconds()))
        raise TooManyRequests(message or "Too many requests from your network. Please wait "
                              "and try again later.", headers={"Retry-After": str(wait)})
