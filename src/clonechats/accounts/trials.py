"""The `trial_devices` collection: which browsers (keyed hash of the device id) have had a
trial, and from which hashed address, so a trial is granted once per device."""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

TRIAL_DEVICES = "trial_devices"
COLLECTIONS = (TRIAL_DEVICES,)
EXPIRING = Expiring(TRIAL_DEVICES)

INDEXES = [Index(TRIAL_DEVICES, [("ip_hash", 1), ("at", 1)])]


async def count_from_address(db: Any, ip_hash: str, *, since: datetime) -> int:
    return await db[TRIAL_DEVICES].count_documents({"ip_hash": ip_hash, "at": {"$gte": since}})


async def claim(db: Any, device_key: str, *, ip_hash: str | None, now: datetime) -> bool:
    """Record the device's trial; False if it already had one."""
    try:
        await db[TRIAL_DEVICES].insert_one({"_id": device_key, "ip_hash": ip_hash, "at": now})
    except DuplicateKeyError:
        return False
    return True


async def counts_by_address_since(db: Any, since: datetime) -> list[dict[str, Any]]:
    """Trials per hashed address from `since`: {_id: ip_hash, count, first_at, last_at}."""
    cursor = await db[TRIAL_DEVICES].aggregate([
        {"$match": {"at": {"$gte": since}, "ip_hash": {"$ne": None}}},
        {"$group": {"_id": "$ip_hash", "count": {"$sum": 1}, "first_at": {"$min": "$at"},
                    "last_at": {"$max": "$at"}}},
    ])
    return await cursor.to_list()
