"""The `users` collection: the only code that reads or writes it."""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.indexes import Index

USERS = "users"

INDEXES = [
    Index(USERS, [("email", 1)], unique=True, sparse=True),
    Index(USERS, [("google_sub", 1)], unique=True, sparse=True),
    Index(USERS, [("role", 1)]),
]

ACTIVE, GUARDIAN_PENDING, TRIAL = "active", "guardian_pending", "trial"


def new_user_id() -> str:
    return secrets.token_hex(12)


async def insert(db: Any, user: dict[str, Any]) -> dict[str, Any]:
    await db[USERS].insert_one(user)
    return user


async def get(db: Any, user_id: str) -> dict[str, Any] | None:
    return await db[USERS].find_one({"_id": user_id})


async def get_by_email(db: Any, email: str) -> dict[str, Any] | None:
    return await db[USERS].find_one({"email": email})


async def get_by_google_sub(db: Any, sub: str) -> dict[str, Any] | None:
    return await db[USERS].find_one({"google_sub": sub})


async def update(db: Any, user_id: str, changes: dict[str, Any], *,
                 expect: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Set `changes` on the user if it still matches `expect`; returns the new document."""
    return await db[USERS].find_one_and_update(
        {"_id": user_id, **(expect or {})}, {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )


async def unset(db: Any, user_id: str, fields: list[str], *, now: datetime) -> None:
    await db[USERS].update_one({"_id": user_id},
                               {"$unset": dict.fromkeys(fields, ""), "$set": {"updated_at": now}})


async def delete(db: Any, user_id: str) -> int:
    return (await db[USERS].delete_one({"_id": user_id})).deleted_count


async def list_page(db: Any, *, limit: int, skip: int = 0) -> list[dict[str, Any]]:
    return await db[USERS].find({}).sort("created_at", -1).skip(skip).limit(limit).to_list()
