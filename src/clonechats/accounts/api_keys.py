"""API keys for `Authorization: Bearer` clients: shown once, stored as SHA-256 digests."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from clonechats.errors import AppError, NotFound
from clonechats.storage.indexes import Index

API_KEYS = "api_keys"
COLLECTIONS = (API_KEYS,)
PREFIX = "cck_"
MAX_KEYS_PER_USER = 20
TOUCH_EVERY = timedelta(minutes=5)

INDEXES = [
    Index(API_KEYS, [("digest", 1)], unique=True),
    Index(API_KEYS, [("user_id", 1)]),
]


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create(db: Any, *, user_id: str, name: str, now: datetime) -> tuple[str, dict[str, Any]]:
    active = await db[API_KEYS].count_documents({"user_id": user_id, "revoked_at": None})
    if active >= MAX_KEYS_PER_USER:
        raise AppError(f"You can have at most {MAX_KEYS_PER_USER} active keys.",
                       code="too_many_keys", status=409)
    key = PREFIX + secrets.token_urlsafe(32)
    record = {
        "_id": secrets.token_hex(8), "user_id": user_id, "name": name, "digest": _digest(key),
        "hint": key[:8] + "…", "created_at": now, "last_used_at": None, "revoked_at": None,
    }
    await db[API_KEYS].insert_one(record)
    return key, record


async def resolve(db: Any, key: str, *, now: datetime) -> dict[str, Any] | None:
    if not key.startswith(PREFIX) or len(key) > 100:
        return None
    record = await db[API_KEYS].find_one({"digest": _digest(key), "revoked_at": None})
    if record is not None and (record["last_used_at"] is None
                               or now - record["last_used_at"] >= TOUCH_EVERY):
        await db[API_KEYS].update_one({"_id": record["_id"]}, {"$set": {"last_used_at": now}})
    return record


async def list_for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[API_KEYS].find({"user_id": user_id, "revoked_at": None}).sort(
        "created_at", -1).to_list()


async def list_all_for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    """Every key the user has had, revoked ones included (for their data export)."""
    return await db[API_KEYS].find({"user_id": user_id}).sort("created_at", 1).to_list()


async def revoke(db: Any, *, user_id: str, key_id: str, now: datetime) -> None:
    result = await db[API_KEYS].update_one({"_id": key_id, "user_id": user_id, "revoked_at": None},
                                           {"$set": {"revoked_at": now}})
    if result.modified_count != 1:
        raise NotFound("No such API key.")


async def delete_for_user(db: Any, user_id: str) -> int:
    return (await db[API_KEYS].delete_many({"user_id": user_id})).deleted_count
