"""Folding raw telemetry into anonymous daily totals (the retention rules' `fold` action).

Raw cost-meter events and paywall hits carry a user id; past their retention they are summed
into one document per day and model (`telemetry_daily`) or per day and feature
(`paywall_daily`), which hold no user id, and the raw events are deleted. `events.py` names
these collections and reads them back (`folded_costs`, `folded_paywall_hits`); this module only
writes them.

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
from clonechats.telemetry.events import COST_DAILY, COST_EVENTS, PAYWALL_DAILY, PAYWALL_HITS

if TYPE_CHECKING:
    from clonechats.context import Ctx


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
