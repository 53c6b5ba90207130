"""Server-side sessions: 256-bit random tokens, stored only as SHA-256 digests.

A session carries its user, when it was created and last seen, a keyed hash of the client
address and the User-Agent. It ends after `session_idle_minutes` without use or
`session_absolute_hours` after creation, whichever comes first, or when revoked.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from clonechats.client_info import ClientInfo
from clonechats.settings import AccountSettings
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

SESSIONS = "sessions"
COLLECTIONS = (SESSIONS,)
EXPIRING = Expiring(SESSIONS)
TOUCH_EVERY = timedelta(minutes=1)

INDEXES = [
    Index(SESSIONS, [("user_id", 1)]),
    Index(SESSIONS, [("public_id", 1)], unique=True),
    Index(SESSIONS, [("expires_at", 1)]),
]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create(db: Any, *, user_id: str, client: ClientInfo, now: datetime,
                 settings: AccountSettings) -> tuple[str, dict[str, Any]]:
    """Start a session; returns the token (for the cookie, never stored) and the record."""
    token = secrets.token_urlsafe(32)
    session = {
        "_id": digest(token),
        "public_id": secrets.token_hex(8),
        "user_id": user_id,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + timedelta(hours=settings.session_absolute_hours),
        "ip_hash": client.ip_hash,
        "user_agent": client.user_agent,
    }
    await db[SESSIONS].insert_one(session)
    return token, session


async def resolve(db: Any, token: str, *, now: datetime,
                  settings: AccountSettings) -> dict[str, Any] | None:
    """The live session for `token`, or None. Expired sessions are removed on sight."""
    if not token or len(token) > 128:
        return None
    session = await db[SESSIONS].find_one({"_id": digest(token)})
    if session is None:
        return None
    idle_limit = session["last_seen_at"] + timedelta(minutes=settings.session_idle_minutes)
    if now >= session["expires_at"] or now >= idle_limit:
        await db[SESSIONS].delete_one({"_id": session["_id"]})
        return None
    if now - session["last_seen_at"] >= TOUCH_EVERY:
        await db[SESSIONS].update_one({"_id": session["_id"]}, {"$set": {"last_seen_at": now}})
        session["last_seen_at"] = now
    return session


async def revoke(db: Any, token: str) -> bool:
    return (await db[SESSIONS].delete_one({"_id": digest(token)})).deleted_count == 1


async def revoke_public(db: Any, *, user_id: str, public_id: str) -> bool:
    result = await db[SESSIONS].delete_one({"user_id": user_id, "public_id": public_id})
    return result.deleted_count == 1


async def revoke_all(db: Any, user_id: str, *, keep_digest: str | None = None) -> int:
    query: dict[str, Any] = {"user_id": user_id}
    if keep_digest is not None:
        query["_id"] = {"$ne": keep_digest}
    return (await db[SESSIONS].delete_many(query)).deleted_count


async def list_for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[SESSIONS].find({"user_id": user_id}).sort("last_seen_at", -1).to_list()
