"""The `contact_messages` collection: the only code that reads or writes it.

A message: _id, email (the sender's, normalised), subject, message, user_id (the account
signed in when it was sent, or the one using that email; None otherwise), status
("open" | "answered" | "closed"), created_at, ack_due_at (3 business days), due_at (30 days),
acknowledged_at (when the acknowledgement email was queued), replies [{at, admin_id, text}],
answered_at, closed_at, updated_at. No address of the sender is stored (the throttle keeps
a keyed hash for an hour).
"""

from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

MESSAGES = "contact_messages"
COLLECTIONS = (MESSAGES,)
EXPIRING = Expiring(MESSAGES)
REPLIES_KEPT = 50

INDEXES = [
    Index(MESSAGES, [("status", 1), ("due_at", 1)]),
    Index(MESSAGES, [("user_id", 1)]),
    Index(MESSAGES, [("email", 1)]),
    Index(MESSAGES, [("closed_at", 1)]),
]


async def insert(db: Any, message: dict[str, Any]) -> dict[str, Any]:
    await db[MESSAGES].insert_one(message)
    return message


async def get(db: Any, message_id: str) -> dict[str, Any] | None:
    return await db[MESSAGES].find_one({"_id": message_id})


async def with_status(db: Any, statuses: list[str], *, limit: int) -> list[dict[str, Any]]:
    return await db[MESSAGES].find({"status": {"$in": statuses}}).sort("due_at", 1).limit(
        limit).to_list()


async def update(db: Any, message_id: str, changes: dict[str, Any], *,
                 reply: dict[str, Any] | None = None) -> dict[str, Any] | None:
    operations: dict[str, Any] = {"$set": changes}
    if reply is not None:
        operations["$push"] = {"replies": {"$each": [reply], "$slice": -REPLIES_KEPT}}
    return await db[MESSAGES].find_one_and_update({"_id": message_id}, operations,
                                                  return_document=ReturnDocument.AFTER)


def _of_person(user_id: str, email: str | None) -> dict[str, Any]:
    clauses: list[dict[str, Any]] = [{"user_id": user_id}]
    if email:
        clauses.append({"email": email})
    return {"$or": clauses}


async def of_person(db: Any, user_id: str, email: str | None) -> list[dict[str, Any]]:
    return await db[MESSAGES].find(_of_person(user_id, email)).sort("created_at", 1).to_list()


async def delete_of_person(db: Any, user_id: str, email: str | None) -> int:
    return (await db[MESSAGES].delete_many(_of_person(user_id, email))).deleted_count

