"""The `trial_devices` collection: which browsers (keyed hash of the device id) have had a
trial, and from which hashed address, so a trial is granted once per device."""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.storage.indexes import Index

TRIAL_DEVICES = "trial_devices"

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
