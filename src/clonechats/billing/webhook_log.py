"""The two collections of payment webhooks: `webhook_deliveries` (every delivery, logged) and
`webhook_events` (each event once, keyed by provider and event id). `webhooks.py` decides; this
module is the only code that reads and writes them. Both are kept 7 years (`retain_until`)."""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

DELIVERIES = "webhook_deliveries"
EVENTS = "webhook_events"
COLLECTIONS = (DELIVERIES, EVENTS)
DELIVERIES_EXPIRING = Expiring(DELIVERIES)
EVENTS_EXPIRING = Expiring(EVENTS)

INDEXES = [
    Index(DELIVERIES, [("received_at", -1)]),
    Index(DELIVERIES, [("order_id", 1), ("received_at", -1)]),
    Index(DELIVERIES, [("retain_until", 1)]),
    Index(EVENTS, [("retain_until", 1)]),
]


async def claim_event(db: Any, key: str, *, event_type: str, first_seen_at: datetime,
                      retain_until: datetime) -> dict[str, Any] | None:
    """Record the event as `processing`; None if this call recorded it, else the record an
    earlier delivery left."""
    try:
        await db[EVENTS].insert_one({"_id": key, "type": event_type, "status": "processing",
                                     "first_seen_at": first_seen_at,
                                     "retain_until": retain_until})
    except DuplicateKeyError:
        return await db[EVENTS].find_one({"_id": key}) or {}
    return None


async def finish_event(db: Any, key: str, *, result: str) -> None:
    await db[EVENTS].update_one({"_id": key}, {"$set": {"status": "done", "result": result}})


async def release_event(db: Any, key: str) -> None:
    """Forget an event still `processing`, so a later delivery processes it again."""
    await db[EVENTS].delete_one({"_id": key, "status": "processing"})


async def log_delivery(db: Any, delivery: dict[str, Any]) -> None:
    await db[DELIVERIES].insert_one(delivery)


async def deliveries_for_order(db: Any, order_id: str, *, limit: int = 50) -> list[dict]:
    return await db[DELIVERIES].find({"order_id": order_id}).sort("received_at", -1).limit(
        limit).to_list()


async def signature_failures_since(db: Any, since: datetime) -> list[dict[str, Any]]:
    """Per provider, deliveries whose signature did not verify: {_id, count, last_at}."""
    cursor = await db[DELIVERIES].aggregate([
        {"$match": {"signature_valid": False, "received_at": {"$gte": since},
                    "result": {"$nin": ["unknown_provider", "payload_too_large"]}}},
        {"$group": {"_id": "$provider", "count": {"$sum": 1},
                    "last_at": {"$max": "$received_at"}}},
    ])
    return await cursor.to_list()
