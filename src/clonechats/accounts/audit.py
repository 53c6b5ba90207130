"""The security audit log. Addresses arrive already hashed (see `web/client.py`)."""

import secrets
from datetime import datetime
from typing import Any

from clonechats.storage.indexes import Index
from clonechats.web.client import ClientInfo

AUDIT = "audit_log"

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


async def list_recent(db: Any, *, limit: int = 100, skip: int = 0) -> list[dict[str, Any]]:
    return await db[AUDIT].find({}).sort("at", -1).skip(skip).limit(limit).to_list()
