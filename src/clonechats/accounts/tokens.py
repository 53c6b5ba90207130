"""Single-use, expiring tokens (email verification, password reset, guardian consent),
stored only as SHA-256 digests. Using a token is one atomic update, so it works once.

A token can be *bound* to the account state it was issued against (`binding`): a digest of
named user fields (the email, the password hash) kept in its data. `check_binding` refuses it
once any of them changed, so a password or email change kills every older reset and
verification link without a sweep over the stored tokens.
"""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from clonechats.accounts.repo import User
from clonechats.errors import AppError
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

TOKENS = "one_time_tokens"
COLLECTIONS = (TOKENS,)
EXPIRING = Expiring(TOKENS)

INDEXES = [
    Index(TOKENS, [("user_id", 1), ("purpose", 1)]),
    Index(TOKENS, [("expires_at", 1)]),
]

VERIFY_EMAIL, PASSWORD_RESET, GUARDIAN_CONSENT, LINK_GOOGLE = (
    "verify_email", "password_reset", "guardian_consent", "link_google",
)
GUARDIAN_WITHDRAW = "guardian_withdraw"


class InvalidToken(AppError):
    code = "invalid_token"
    status = 400
    message = "This link is invalid, expired or already used. Ask for a new one."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def reference(token: str) -> str:
    """A non-secret handle for a token (idempotency keys, logs): a prefix of its digest."""
    return _digest(token)[:24]


async def issue(db: Any, *, purpose: str, user_id: str, now: datetime, lifetime: timedelta,
                data: dict[str, Any] | None = None) -> str:
    token = secrets.token_urlsafe(32)
    await db[TOKENS].insert_one({
        "_id": _digest(token), "purpose": purpose, "user_id": user_id, "data": data or {},
        "created_at": now, "expires_at": now + lifetime, "used_at": None,
    })
    return token


RESET_BINDING = ("email", "password_hash")
VERIFY_BINDING = ("email",)


def binding(user: User, fields: tuple[str, ...]) -> str:
    """A digest of the user's current `fields`; it changes whenever one of them does."""
    raw = "\x1f".join(f"{name}={user.get(name) or ''}" for name in fields)
    return hashlib.sha256(raw.encode()).hexdigest()


def check_binding(record: dict[str, Any], user: User, fields: tuple[str, ...]) -> None:
    """InvalidToken unless the token was issued against the user's current `fields`."""
    bound = (record.get("data") or {}).get("binding")
    if not bound or not secrets.compare_digest(bound, binding(user, fields)):
        raise InvalidToken()


async def peek(db: Any, token: str, *, purpose: str, now: datetime) -> dict[str, Any]:
    """The token's record if it is usable, without using it (for confirmation pages)."""
    record = await db[TOKENS].find_one({"_id": _digest(token or ""), "purpose": purpose,
                                        "used_at": None, "expires_at": {"$gt": now}})
    if record is None:
        raise InvalidToken()
    return record


async def consume(db: Any, token: str, *, purpose: str, now: datetime) -> dict[str, Any]:
    """Mark the token used and return its record; raises InvalidToken if it cannot be used."""
    if not token or len(token) > 128:
        raise InvalidToken()
    record = await db[TOKENS].find_one_and_update(
        {"_id": _digest(token), "purpose": purpose, "used_at": None, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}}, return_document=ReturnDocument.AFTER,
    )
    if record is None:
        raise InvalidToken()
    return record


async def count_recent(db: Any, *, purpose: str, user_id: str, since: datetime) -> int:
    return await db[TOKENS].count_documents({"purpose": purpose, "user_id": user_id,
                                             "created_at": {"$gte": since}})


async def revoke_unused(db: Any, *, purpose: str, user_id: str, now: datetime) -> None:
    await db[TOKENS].update_many({"purpose": purpose, "user_id": user_id, "used_at": None},
                                 {"$set": {"used_at": now}})


async def delete_for_user(db: Any, user_id: str) -> int:
    return (await db[TOKENS].delete_many({"user_id": user_id})).deleted_count
