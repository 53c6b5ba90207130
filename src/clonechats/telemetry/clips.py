"""Voice and video minutes: one anonymous event per generated clip.

Event names: `voice.clip` (a synthesised voice reply) and `video.clip` (a lip-synced video
reply). The voice and video features call `record_clip` when a clip is ready; the admin
dashboard sums the minutes per day. An event (collection `clip_events`) holds only the name,
the day, the seconds and the provider: no user, no text, so it is not personal data and stays
as an aggregate.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date
from typing import TYPE_CHECKING

from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


CLIP_EVENTS = "clip_events"
COLLECTIONS = (CLIP_EVENTS,)
VOICE_CLIP, VIDEO_CLIP = "voice.clip", "video.clip"
NAMES = (VOICE_CLIP, VIDEO_CLIP)

INDEXES = [Index(CLIP_EVENTS, [("day", 1), ("name", 1)])]


async def record_clip(ctx: Ctx, *, name: str, seconds: float, provider: str) -> None:
    if name not in NAMES:
        raise ValueError(f"clip event must be one of {NAMES}, not {name!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError("seconds must be a non-negative number")
    now = ctx.clock.now()
    await ctx.db[CLIP_EVENTS].insert_one({
        "_id": secrets.token_hex(12), "name": name, "ts": now,
        "day": now.astimezone(UTC).date().isoformat(), "seconds": float(seconds),
        "provider": str(provider)[:40]})


async def daily_minutes(ctx: Ctx, *, first_day: date,
                        last_day: date) -> dict[str, dict[str, float]]:
    """{day: {"voice.clip": minutes, "video.clip": minutes}} over the range."""
    cursor = await ctx.db[CLIP_EVENTS].aggregate([
        {"$match": {"day": {"$gte": first_day.isoformat(), "$lte": last_day.isoformat()}}},
        {"$group": {"_id": {"day": "$day", "name": "$name"}, "s": {"$sum": "$seconds"}}},
    ])
    minutes: dict[str, dict[str, float]] = {}
    for row in await cursor.to_list():
        minutes.setdefault(row["_id"]["day"], {})[row["_id"]["name"]] = round(row["s"] / 60, 2)
    return minutes
