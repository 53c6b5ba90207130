"""The security audit log. Addresses arrive already hashed (see `web/client.py`)."""

import secrets
from datetime import datetime
from typing import Any

from clonechats.client_info import ClientInfo
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

AUDIT = "audit_log"
COLLECTIONS = (AUDIT,)
EXPIRING = Expiring(AUDIT)

INDEXES = [
    Index(AUDIT, [("user_id", 1), ("at", -1)]),
    Index(AUDIT, [("at", 1)]),
]

EVENTS = frozenset({
    "signup", "login_ok", "login_failed", "logout", "reset_requested", "reset_used",
    "email_verified", "email_changed", "password_changed", "role_changed", "session_revoked",
    "account_deleted", "api_key_created", "api_key_revoked", "guardian_approved",
    "age_concern_deleted", "signup_refused_age", "trial_started", "google_linked",
})
EVENTS = EVENTS | frozenset({  # guardian safeguards and security events
    "guardian_consent_withdrawn", "guardian_self_approval_refused", "unapproved_minor_deleted",
    "login_locked", "export_requested", "admin_refund", "csrf_failed", "access_denied",
})
EVENTS = EVENTS | frozenset({  # the admin console's actions on accounts
    "account_suspended", "account_restored", "sessions_revoked_by_admin", "credits_adjusted",
    "trials_revoked", "moderation_action",
})
EVENTS = EVENTS | frozenset({  # two-factor authentication
    "two_factor_enabled", "two_factor_disabled", "two_factor_failed", "two_factor_challenged",
    "two_factor_recovery_used",
})


async def record(db: Any, event: str, *, now: datetime, user_id: str | None = None,
                 client: ClientInfo | None = None, **details: Any) -> None:
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    await db[AUDIT].insert_one({
        "_id": secrets.token_hex(12),
        "event": event,
        "user_id": user_id,
        "at": now,
        "ip_hash": client.ip_hash if client else None,
        "user_agent": client.user_agent if client else None,
        "details": details,
    })


async def list_for_user(db: Any, user_id: str, *, limit: int = 100) -> list[dict[str, Any]]:
    return await db[AUDIT].find({"user_id": user_id}).sort("at", -1).limit(limit).to_list()


async def list_all_for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[AUDIT].find({"user_id": user_id}).sort("at", 1).to_list()


async def list_recent(db: Any, *, limit: int = 100, cursor: str | None = None,
                      ) -> tuple[list[dict[str, Any]], str | None]:
    """Events newest first, and the next page's cursor."""
    return await fetch_page(db[AUDIT], {}, order=[("at", -1), ("_id", -1)], limit=limit,
                            cursor=cursor, kinds=(datetime, str))


async def pseudonymise_user(db: Any, user_id: str, pseudonym: str) -> int:
    """Replace `user_id` by `pseudonym` wherever an event names it, as subject or as actor."""
    subject = await db[AUDIT].update_many({"user_id": user_id}, {"$set": {"user_id": pseudonym}})
    actor = await db[AUDIT].update_many({"details.actor_id": user_id},
                                        {"$set": {"details.actor_id": pseudonym}})
    return subject.modified_count + actor.modified_count


async def counts_by_address_since(db: Any, event: str, since: datetime) -> list[dict[str, Any]]:
    """`event` per hashed address from `since`: {_id: ip_hash, count, last_at, user_ids}."""
    cursor = await db[AUDIT].aggregate([
        {"$match": {"event": event, "at": {"$gte": since}, "ip_hash": {"$ne": None}}},
        {"$group": {"_id": "$ip_hash", "count": {"$sum": 1}, "last_at": {"$max": "$at"},
                    "user_ids": {"$addToSet": "$user_id"}}},
    ])
    return await cursor.to_list()


async def users_with_event_from(db: Any, event: str, ip_hash: str,
                                since: datetime) -> list[str]:
    rows = await db[AUDIT].find({"event": event, "ip_hash": ip_hash, "at": {"$gte": since}},
                                {"user_id": 1}).to_list()
    return sorted({row["user_id"] for row in rows if row.get("user_id")})
