"""The credits ledger: every change to a balance is an entry with an idempotency key.

A change is written in three steps, each atomic on one document:
1. insert the entry as `pending` (its `_id` is the idempotency key, so a replay stops here);
2. apply it to the user's balance with one conditional update (never below zero), recording
   the key in the user's `ledger_keys` (last 100) in the same update;
3. mark the entry `applied` with the balance after it.
A crash between steps leaves a `pending` entry that `settle_pending` finishes or cancels by
looking for its key on the user, so the balance always equals the sum of applied entries.
"""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clonechats.errors import AppError
from clonechats.storage.indexes import Index

LEDGER = "credit_ledger"
USERS = "users"
KEPT_KEYS = 100

INDEXES = [
    Index(LEDGER, [("user_id", 1), ("at", -1)]),
    Index(LEDGER, [("status", 1), ("at", 1)]),
]


class InsufficientCredits(AppError):
    code = "insufficient_credits"
    status = 402
    message = "You do not have enough credits for this. Buy a credit pack to continue."


async def apply(db: Any, *, user_id: str, delta: int, kind: str, reason: str,
                idempotency_key: str, now: datetime) -> dict[str, Any]:
    """Apply `delta` credits once per `idempotency_key`; returns the (applied) entry."""
    entry = {"_id": idempotency_key, "user_id": user_id, "delta": delta, "kind": kind,
             "reason": reason, "status": "pending", "balance_after": None, "at": now}
    try:
        await db[LEDGER].insert_one(entry)
    except DuplicateKeyError:
        existing = await db[LEDGER].find_one({"_id": idempotency_key})
        if existing is None or existing["user_id"] != user_id:
            raise AppError("Conflicting ledger key.", code="ledger_conflict", status=409) from None
        return existing
    query: dict[str, Any] = {"_id": user_id, "ledger_keys": {"$ne": idempotency_key}}
    if delta < 0:
        query["credits"] = {"$gte": -delta}
    user = await db[USERS].find_one_and_update(
        query,
        {"$inc": {"credits": delta},
         "$push": {"ledger_keys": {"$each": [idempotency_key], "$slice": -KEPT_KEYS}}},
        return_document=ReturnDocument.AFTER,
    )
    if user is None:
        await db[LEDGER].delete_one({"_id": idempotency_key, "status": "pending"})
        raise InsufficientCredits()
    return await _mark_applied(db, idempotency_key, user["credits"])


async def _mark_applied(db: Any, key: str, balance_after: int) -> dict[str, Any]:
    return await db[LEDGER].find_one_and_update(
        {"_id": key}, {"$set": {"status": "applied", "balance_after": balance_after}},
        return_document=ReturnDocument.AFTER,
    )


async def settle_pending(db: Any, *, older_than: datetime) -> int:
    """Finish or cancel entries left pending by a crash; returns how many were settled."""
    settled = 0
    for entry in await db[LEDGER].find({"status": "pending", "at": {"$lt": older_than}}).to_list():
        user = await db[USERS].find_one({"_id": entry["user_id"]})
        if user is not None and entry["_id"] in user.get("ledger_keys", []):
            await _mark_applied(db, entry["_id"], user["credits"])
        else:
            await db[LEDGER].delete_one({"_id": entry["_id"], "status": "pending"})
        settled += 1
    return settled


async def entries_for_user(db: Any, user_id: str, *, limit: int = 50,
                           skip: int = 0) -> list[dict[str, Any]]:
    return await db[LEDGER].find({"user_id": user_id, "status": "applied"}).sort(
        "at", -1).skip(skip).limit(limit).to_list()


async def applied_sum(db: Any, user_id: str) -> int:
    cursor = await db[LEDGER].aggregate([
        {"$match": {"user_id": user_id, "status": "applied"}},
        {"$group": {"_id": None, "total": {"$sum": "$delta"}}},
    ])
    rows = await cursor.to_list()
    return rows[0]["total"] if rows else 0
