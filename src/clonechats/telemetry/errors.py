"""Anonymised error traces: unhandled errors grouped by fingerprint.

A group (collection `error_groups`), one per fingerprint:
    _id (the fingerprint), exception ("builtins.KeyError"), frames (["clonechats/chat/service.py
    :send_message", ...], the innermost frames of our own code), route (the route template,
    "/api/v1/conversations/{conversation_id}/messages"), method, count, first_seen, last_seen
A day's count (collection `error_daily`): _id "<day>:<fingerprint>", day, fingerprint, count

The fingerprint is a SHA-256 of the exception's type and those frames: the same bug at the same
place is one group however often it happens and whatever it was working on. Nothing of the
request or the exception's message is kept (a message can quote user text, a token or an
address): only the type, where in our code it was raised and which route was called. The web
layer's error handler calls `record`; the admin dashboard lists the groups and charts the daily
counts. Retention follows the telemetry rule: a group unseen for 30 days is deleted (the
retention table), the anonymous daily counts stay.
"""

from __future__ import annotations

import hashlib
import traceback
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

if TYPE_CHECKING:
    from clonechats.context import Ctx


ERROR_GROUPS = "error_groups"
ERROR_DAILY = "error_daily"
COLLECTIONS = (ERROR_GROUPS, ERROR_DAILY)
ERROR_GROUPS_EXPIRING = Expiring(ERROR_GROUPS)
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # .../clonechats
ROUTE_MAX = 200

INDEXES = [
    Index(ERROR_GROUPS, [("last_seen", -1), ("_id", -1)]),
    Index(ERROR_DAILY, [("day", 1)]),
]


def our_frames(exc: BaseException, *, limit: int) -> list[str]:
    """The innermost `limit` frames of the traceback that are in our package, as
    "clonechats/<path>:<function>" (no line numbers: a fix elsewhere in a file keeps the
    group), innermost first."""
    frames = []
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        try:
            relative = Path(frame.filename).resolve().relative_to(PACKAGE_ROOT)
        except ValueError:
            continue
        frames.append(f"clonechats/{relative.as_posix()}:{frame.name}")
        if len(frames) == limit:
            break
    return frames


def exception_name(exc: BaseException) -> str:
    kind = type(exc)
    return f"{kind.__module__}.{kind.__qualname__}"


def fingerprint(exception: str, frames: list[str]) -> str:
    return hashlib.sha256("\n".join([exception, *frames]).encode()).hexdigest()[:32]


async def record(ctx: Ctx, exc: BaseException, *, route: str, method: str) -> str:
    """Count one unhandled error in its group (created on first sight); returns the
    fingerprint."""
    exception = exception_name(exc)
    frames = our_frames(exc, limit=ctx.settings.admin.error_frames)
    key = fingerprint(exception, frames)
    now = ctx.clock.now()
    await ctx.db[ERROR_GROUPS].find_one_and_update(
        {"_id": key},
        {"$inc": {"count": 1},
         "$set": {"last_seen": now, "route": route[:ROUTE_MAX], "method": method[:10]},
         "$setOnInsert": {"exception": exception, "frames": frames, "first_seen": now}},
        upsert=True, return_document=ReturnDocument.AFTER)
    day = now.astimezone(UTC).date().isoformat()
    await ctx.db[ERROR_DAILY].update_one(
        {"_id": f"{day}:{key}"},
        {"$inc": {"count": 1}, "$setOnInsert": {"day": day, "fingerprint": key}}, upsert=True)
    return key


async def list_groups(ctx: Ctx, *, limit: int = 50,
                      cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Groups by when they were last seen, most recent first."""
    return await fetch_page(ctx.db[ERROR_GROUPS], {}, order=[("last_seen", -1), ("_id", -1)],
                            limit=limit, cursor=cursor, kinds=(datetime, str))


async def daily_counts(ctx: Ctx, *, first_day: date, last_day: date) -> dict[str, int]:
    cursor = await ctx.db[ERROR_DAILY].aggregate([
        {"$match": {"day": {"$gte": first_day.isoformat(), "$lte": last_day.isoformat()}}},
        {"$group": {"_id": "$day", "n": {"$sum": "$count"}}},
    ])
    return {row["_id"]: row["n"] for row in await cursor.to_list()}


def public(group: dict[str, Any]) -> dict[str, Any]:
    return {"fingerprint": group["_id"], "exception": group["exception"],
            "frames": group.get("frames") or [], "route": group.get("route"),
            "method": group.get("method"), "count": group["count"],
            "first_seen": _iso(group["first_seen"]), "last_seen": _iso(group["last_seen"])}


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
