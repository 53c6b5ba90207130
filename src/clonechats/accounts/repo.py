"""The `users` collection: the code that reads and writes it, except for the credit balance
(`credits`, `ledger_keys`), which only `billing.ledger` changes, with one conditional update
per ledger entry."""

import secrets
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

USERS = "users"
COLLECTIONS = (USERS,)
EXPIRING = Expiring(USERS)

INDEXES = [
    Index(USERS, [("email", 1)], unique=True, sparse=True),
    Index(USERS, [("google_sub", 1)], unique=True, sparse=True),
    Index(USERS, [("role", 1)]),
    Index(USERS, [("created_at", -1), ("_id", -1)]),
]

ACTIVE, GUARDIAN_PENDING, TRIAL = "active", "guardian_pending", "trial"


class User(TypedDict, total=False):
    _id: str
    email: str  # unique; absent on a trial account
    email_verified: bool
    pending_email: str  # a change of address waiting for its link
    display_name: str | None
    password_hash: str | None  # None for an account that signs in with Google only
    role: str  # "user" | "admin"
    status: str  # ACTIVE, TRIAL or GUARDIAN_PENDING
    plan: str  # the subscription tier ("free" without one)
    credits: int  # the balance: only `billing.ledger` changes it
    ledger_keys: list[str]  # the last ledger entries applied to it (`billing.ledger`)
    auth_provider: str  # "password", "google" or "trial"
    google_sub: str
    birth_date: str  # ISO date, for the age rules
    guardian: dict[str, Any]  # a minor's guardian and their consent
    appearance: dict[str, str]  # {theme, text_size}
    two_factor: dict[str, Any]  # {secret (sealed), enabled_at, last_step, recovery_hashes}
    two_factor_setup: dict[str, Any]  # a sealed secret waiting for its first code
    time_zone: str | None
    scheduled_email_notice: bool
    show_name_on_personas: bool
    policy_acknowledged_version: str
    failed_logins: int
    suspended_at: datetime
    suspension_reason: str
    billing_flag: str | None  # set by fraud signals (`safety.fraud`)
    deletion_requested_at: datetime  # locked while the account is being deleted
    created_at: datetime
    updated_at: datetime


def new_user_id() -> str:
    return secrets.token_hex(12)


async def insert(db: Any, user: User) -> User:
    await db[USERS].insert_one(user)
    return user


async def get(db: Any, user_id: str) -> User | None:
    return await db[USERS].find_one({"_id": user_id})


async def get_by_email(db: Any, email: str) -> User | None:
    return await db[USERS].find_one({"email": email})


async def get_by_google_sub(db: Any, sub: str) -> User | None:
    return await db[USERS].find_one({"google_sub": sub})


async def update(db: Any, user_id: str, changes: dict[str, Any], *,
                 expect: dict[str, Any] | None = None) -> User | None:
    """Set `changes` on the user if it still matches `expect`; returns the new document."""
    return await db[USERS].find_one_and_update(
        {"_id": user_id, **(expect or {})}, {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )


async def push_capped(db: Any, user_id: str, *, field: str, value: Any, keep: int,
                      expect: dict[str, Any] | None = None) -> User | None:
    """Append `value` to the list `field`, keeping its last `keep` items, if the user still
    matches `expect`; returns the new document, or None when nothing matched."""
    return await db[USERS].find_one_and_update(
        {"_id": user_id, **(expect or {})},
        {"$push": {field: {"$each": [value], "$slice": -keep}}},
        return_document=ReturnDocument.AFTER,
    )


async def pull_value(db: Any, user_id: str, *, field: str, value: Any) -> bool:
    """Remove `value` from the list `field` if it is there; True if this call removed it."""
    result = await db[USERS].update_one({"_id": user_id, field: value},
                                        {"$pull": {field: value}})
    return result.modified_count == 1


async def unset(db: Any, user_id: str, fields: list[str], *, now: datetime) -> None:
    await db[USERS].update_one({"_id": user_id},
                               {"$unset": dict.fromkeys(fields, ""), "$set": {"updated_at": now}})


async def shown_names(db: Any, user_ids: list[str]) -> dict[str, str]:
    """`{user_id: display_name}` for those who opted to show their name on their personas."""
    found = await db[USERS].find({"_id": {"$in": user_ids}, "show_name_on_personas": True,
                                  "display_name": {"$nin": [None, ""]}}).to_list()
    return {user["_id"]: user["display_name"] for user in found}


async def delete(db: Any, user_id: str) -> int:
    return (await db[USERS].delete_one({"_id": user_id})).deleted_count


async def list_page(db: Any, *, limit: int, cursor: str | None = None,
                    ) -> tuple[list[User], str | None]:
    """Users newest first, and the next page's cursor."""
    return await fetch_page(db[USERS], {}, order=[("created_at", -1), ("_id", -1)], limit=limit,
                            cursor=cursor, kinds=(datetime, str))


async def count_by_status(db: Any) -> dict[str, int]:
    cursor = await db[USERS].aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])
    return {row["_id"]: row["n"] for row in await cursor.to_list()}


async def count_with_role(db: Any, role: str) -> int:
    return await db[USERS].count_documents({"role": role})


async def count_failed_login(db: Any, user_id: str) -> None:
    """One more consecutive wrong password (reset to 0 by a sign-in or a password reset)."""
    await db[USERS].update_one({"_id": user_id}, {"$inc": {"failed_logins": 1}})


async def count_admins(db: Any) -> int:
    return await db[USERS].count_documents({"role": "admin",
                                            "deletion_requested_at": {"$exists": False}})


async def search(db: Any, *, text: str, pattern: str, limit: int) -> list[User]:
    """Users with the id `text`, or whose email matches `pattern` or display name matches it
    (case-insensitively), newest first."""
    return await db[USERS].find({"$or": [
        {"_id": text}, {"email": {"$regex": pattern}},
        {"display_name": {"$regex": pattern, "$options": "i"}}]}).sort(
        "created_at", -1).limit(limit).to_list()
