"""Folding raw telemetry into anonymous daily totals (the retention rules' `fold` action).

Raw cost-meter events and paywall hits carry a user id; past their retention they are summed
into one document per day and model (`telemetry_daily`) or per day and feature
(`paywall_daily`), which hold no user id, and the raw events are deleted.

Exactly once, even across a crash: the events to fold are first tagged with a batch id; each
total records the batches it has absorbed and is incremented only by a conditional update that
requires the batch to be absent; the tagged events are then deleted. A run that finds tagged
events left by an interrupted run finishes that batch without counting it twice.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.storage.indexes import Index
from clonechats.telemetry.events import COST_EVENTS, PAYWALL_HITS

if TYPE_CHECKING:
    from clonechats.context import Ctx


COST_DAILY = "telemetry_daily"
PAYWALL_DAILY = "paywall_daily"
COLLECTIONS = (COST_DAILY, PAYWALL_DAILY)
BATCH_FIELD = "fold_batch"

INDEXES = [
    Index(COST_DAILY, [("day", 1)]),
    Index(PAYWALL_DAILY, [("day", 1)]),
    Index(COST_EVENTS, [(BATCH_FIELD, 1)], sparse=True),
    Index(PAYWALL_HITS, [(BATCH_FIELD, 1)], sparse=True),
]


def _cost_sums(event: dict[str, Any]) -> dict[str, float | int]:
    ttft = event.get("ttft_ms")
    return {"generations": 1, "prompt_tokens": event.get("prompt_tokens") or 0,
            "completion_tokens": event.get("completion_tokens") or 0,
            "credits": event.get("credits") or 0,
            "latency_ms_total": event.get("latency_ms") or 0.0,
            "ttft_ms_total": ttft or 0.0, "ttft_count": 0 if ttft is None else 1,
            "failed": 1 if event.get("outcome") == "failed" else 0}


def _hit_sums(event: dict[str, Any]) -> dict[str, float | int]:
    return {"hits": 1}


# collection -> (totals collection, the fields a total is keyed by, what one event adds)
SPECS: dict[str, tuple[str, tuple[str, ...], Callable[[dict[str, Any]], dict[str, Any]]]] = {
    COST_EVENTS: (COST_DAILY, ("day", "provider", "model"), _cost_sums),
    PAYWALL_HITS: (PAYWALL_DAILY, ("day", "feature"), _hit_sums),
}


async def fold(ctx: Ctx, collection: str, *, before: datetime) -> int:
    """Fold the events of `collection` dated before `before`; returns how many were folded."""
    db = ctx.db
    await db[collection].update_many(
        {"ts": {"$lt": before}, BATCH_FIELD: {"$exists": False}},
        {"$set": {BATCH_FIELD: secrets.token_hex(8)}})
    folded = 0
    for batch in await db[collection].distinct(BATCH_FIELD, {BATCH_FIELD: {"$exists": True}}):
        folded += await _fold_batch(db, collection, batch)
    return folded


async def _fold_batch(db: Any, collection: str, batch: str) -> int:
    totals_collection, key_fields, sums_of = SPECS[collection]
    events = await db[collection].find({BATCH_FIELD: batch}).to_list()
    groups: dict[tuple[str, ...], dict[str, Any]] = {}
    for event in events:
        key = tuple(str(event.get(name) or "") for name in key_fields)
        total = groups.setdefault(key, {})
        for name, value in sums_of(event).items():
            total[name] = total.get(name, 0) + value
    for key, sums in groups.items():
        # a duplicate key means this total already absorbed the batch (an interrupted run)
        with contextlib.suppress(DuplicateKeyError):
            await db[totals_collection].update_one(
                {"_id": "|".join(key), "batches": {"$ne": batch}},
                {"$inc": sums, "$push": {"batches": batch},
                 "$setOnInsert": dict(zip(key_fields, key, strict=True))},
                upsert=True)
    await db[collection].delete_many({BATCH_FIELD: batch})
    return len(events)


async def folded_costs(db: Any, *, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Folded daily totals per provider and model, in the shape of the raw aggregates."""
    rows = await db[COST_DAILY].find({"day": {"$gte": first_day, "$lte": last_day}},
                                     {"batches": 0}).to_list()
    return [{k: v for k, v in row.items() if k != "_id"} for row in rows]


async def folded_paywall_hits(db: Any, *, first_day: str, last_day: str) -> dict[str, int]:
    rows = await db[PAYWALL_DAILY].find({"day": {"$gte": first_day, "$lte": last_day}}).to_list()
    hits: dict[str, int] = {}
    for row in rows:
        hits[row["day"]] = hits.get(row["day"], 0) + row["hits"]
    return hits
