"""The `scheduled_messages` collection: the only code that reads or writes it.

A scheduled message:
    _id, owner_id, conversation_id, kind "message" | "reply", text (emptied when cancelled),
    send_at (UTC), time_zone (IANA name it was scheduled in), status "pending" | "delivering" |
    "delivered" | "failed" | "cancelled", created_at, updated_at,
    user_message_id (the user's message: chosen at creation, so inserting it is idempotent),
    user_seq (its place in the conversation, once handed out), reply_id (the reply of the
    current delivery attempt), reply_seq, replaces_reply_id (a failed earlier attempt's reply),
    attempts (deliveries the model failed), lease_owner, lease_until (who is delivering it, and
    until when; while waiting for a retry: no owner, and the retry time), retry_at,
    error {code, message} | null, delivered_at, cancelled_at, message_ids

Statuses only move forward from "pending": each move is one conditional update on the
current status, so a cancel and a delivery racing for one item cannot both win.
"""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

COLLECTION = "scheduled_messages"
COLLECTIONS = (COLLECTION,)
EXPIRING = Expiring(COLLECTION)
PENDING, DELIVERING, DELIVERED, FAILED, CANCELLED = (
    "pending", "delivering", "delivered", "failed", "cancelled")
STATUSES = (PENDING, DELIVERING, DELIVERED, FAILED, CANCELLED)
OPEN = (PENDING, DELIVERING, FAILED)
ORDER = [("send_at", 1), ("_id", 1)]

INDEXES = [
    Index(COLLECTION, [("owner_id", 1), ("send_at", 1), ("_id", 1)]),
    Index(COLLECTION, [("conversation_id", 1), ("status", 1)]),
    Index(COLLECTION, [("status", 1), ("send_at", 1)]),
]


def new_id() -> str:
    return secrets.token_hex(12)


async def insert(db: Any, item: dict[str, Any]) -> dict[str, Any]:
    await db[COLLECTION].insert_one(item)
    return item


async def get(db: Any, item_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": item_id})


async def get_owned(db: Any, item_id: str, owner_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": item_id, "owner_id": owner_id})


async def page_for_owner(db: Any, owner_id: str, *, statuses: list[str] | None,
                         conversation_id: str | None, limit: int, cursor: str | None,
                         ) -> tuple[list[dict[str, Any]], str | None]:
    """Soonest first, and the next page's cursor."""
    query: dict[str, Any] = {"owner_id": owner_id}
    if statuses:
        query["status"] = {"$in": statuses}
    if conversation_id is not None:
        query["conversation_id"] = conversation_id
    return await fetch_page(db[COLLECTION], query, order=ORDER, limit=limit, cursor=cursor,
                            kinds=(datetime, str))


async def count_pending(db: Any, owner_id: str) -> int:
    return await db[COLLECTION].count_documents({"owner_id": owner_id, "status": PENDING})


async def update_pending(db: Any, item_id: str, owner_id: str,
                         changes: dict[str, Any]) -> dict[str, Any] | None:
    """Change an item while it is still pending (None once a delivery or cancel took it)."""
    return await db[COLLECTION].find_one_and_update(
        {"_id": item_id, "owner_id": owner_id, "status": PENDING}, {"$set": changes},
        return_document=ReturnDocument.AFTER)


async def cancel(db: Any, item_id: str, owner_id: str, *, now: datetime) -> dict[str, Any] | None:
    """Cancel a pending item and drop its text; None when it is not pending."""
    return await db[COLLECTION].find_one_and_update(
        {"_id": item_id, "owner_id": owner_id, "status": PENDING},
        {"$set": {"status": CANCELLED, "text": "", "cancelled_at": now, "updated_at": now}},
        return_document=ReturnDocument.AFTER)


async def claim(db: Any, item_id: str, *, owner: str, now: datetime,
                until: datetime) -> dict[str, Any] | None:
    """Take a due item for delivery: a pending one whose time has come, or one being delivered
    whose deliverer's lease ran out (it died, or its retry is due). One conditional update."""
    return await db[COLLECTION].find_one_and_update(
        {"_id": item_id, "$or": [
            {"status": PENDING, "send_at": {"$lte": now}},
            {"status": DELIVERING, "lease_until": {"$lte": now}},
        ]},
        {"$set": {"status": DELIVERING, "lease_owner": owner, "lease_until": until,
                  "updated_at": now}},
        return_document=ReturnDocument.AFTER)


async def renew(db: Any, item_id: str, *, owner: str, until: datetime) -> bool:
    result = await db[COLLECTION].update_one(
        {"_id": item_id, "status": DELIVERING, "lease_owner": owner},
        {"$set": {"lease_until": until}})
    return result.modified_count == 1


async def save(db: Any, item_id: str, *, owner: str,
               changes: dict[str, Any]) -> dict[str, Any] | None:
    """Record delivery progress or its end, only while `owner` still holds the item."""
    return await db[COLLECTION].find_one_and_update(
        {"_id": item_id, "status": DELIVERING, "lease_owner": owner}, {"$set": changes},
        return_document=ReturnDocument.AFTER)


async def for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await db[COLLECTION].find({"owner_id": owner_id}).sort(ORDER).to_list()


async def open_for_conversation(db: Any, conversation_id: str,
                                owner_id: str) -> list[dict[str, Any]]:
    """Pending, delivering and failed items of a conversation, soonest first (the strip)."""
    return await db[COLLECTION].find({"conversation_id": conversation_id, "owner_id": owner_id,
                                      "status": {"$in": list(OPEN)}}).sort(ORDER).to_list()


async def delete_for_conversation(db: Any, conversation_id: str, owner_id: str) -> int:
    result = await db[COLLECTION].delete_many({"conversation_id": conversation_id,
                                               "owner_id": owner_id})
    return result.deleted_count


async def delete_for_owner(db: Any, owner_id: str) -> int:
    return (await db[COLLECTION].delete_many({"owner_id": owner_id})).deleted_count


async def dismiss_failed(db: Any, item_id: str, owner_id: str) -> int:
    result = await db[COLLECTION].delete_one({"_id": item_id, "owner_id": owner_id,
                                              "status": FAILED})
    return result.deleted_count
