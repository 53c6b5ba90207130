"""Brute-force throttling of sign-in: failure counters per account and per hashed address.

After `threshold` failures a key is blocked for `base * 2**(extra failures)` seconds, capped at
`throttle_max_seconds`, and counters are forgotten `throttle_forget_hours` after the last
failure, so a flood never locks the owner out for good. The account key is a keyed hash of the
submitted email whether or not an account exists: an attacker sees the same back-off either way.
A successful sign-in or a password reset clears the account's counter.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from clonechats.errors import TooManyRequests
from clonechats.settings import AccountSettings
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

THROTTLE = "login_throttle"
ATTEMPTS = "login_attempts"
COLLECTIONS = (THROTTLE, ATTEMPTS)
THROTTLE_EXPIRING = Expiring(THROTTLE)
ATTEMPTS_EXPIRING = Expiring(ATTEMPTS)

INDEXES = [
    Index(ATTEMPTS, [("at", 1)]),
    Index(ATTEMPTS, [("user_id", 1)]),
]


class TooManyAttempts(TooManyRequests):
    code = "too_many_attempts"
    message = "Too many sign-in attempts. Please wait before trying again."


@dataclass(frozen=True)
class ThrottleKey:
    id: str
    threshold: int


def keys_for(*, email_hash: str, ip_hash: str | None,
             settings: AccountSettings) -> list[ThrottleKey]:
    keys = [ThrottleKey(f"account:{email_hash}", settings.throttle_account_threshold)]
    if ip_hash:
        keys.append(ThrottleKey(f"ip:{ip_hash}", settings.throttle_ip_threshold))
    return keys


def address_keys(ip_hash: str | None, settings: AccountSettings) -> list[ThrottleKey]:
    """The per-address key alone: the budget password and Google sign-ins share."""
    return [ThrottleKey(f"ip:{ip_hash}", settings.throttle_ip_threshold)] if ip_hash else []


async def check(db: Any, keys: list[ThrottleKey], *, now: datetime) -> None:
    """Raise TooManyAttempts (with Retry-After) if any key is currently blocked."""
    docs = await db[THROTTLE].find({"_id": {"$in": [k.id for k in keys]}}).to_list()
    blocked_until = max((d["blocked_until"] for d in docs if d.get("blocked_until")),
                        default=None)
    if blocked_until is not None and blocked_until > now:
        wait = math.ceil((blocked_until - now).total_seconds())
        raise TooManyAttempts(headers={"Retry-After": str(max(wait, 1))})


async def record_failure(db: Any, keys: list[ThrottleKey], *, now: datetime,
                         settings: AccountSettings) -> None:
    forget_before = now - timedelta(hours=settings.throttle_forget_hours)
    for key in keys:
        await db[THROTTLE].delete_one({"_id": key.id, "last_failure_at": {"$lt": forget_before}})
        doc = await db[THROTTLE].find_one_and_update(
            {"_id": key.id},
            {"$inc": {"failures": 1}, "$set": {"last_failure_at": now}},
            upsert=True, return_document=ReturnDocument.AFTER,
        )
        extra = doc["failures"] - key.threshold
        if extra >= 0:
            seconds = min(settings.throttle_base_seconds * 2 ** min(extra, 30),
                          settings.throttle_max_seconds)
            await db[THROTTLE].update_one(
                {"_id": key.id}, {"$set": {"blocked_until": now + timedelta(seconds=seconds)}}
            )


async def clear(db: Any, key_id: str) -> None:
    await db[THROTTLE].delete_one({"_id": key_id})


async def record_attempt(db: Any, *, outcome: str, user_id: str | None, ip_hash: str | None,
                         user_agent: str, now: datetime, attempt_id: str) -> None:
    await db[ATTEMPTS].insert_one({
        "_id": attempt_id, "outcome": outcome, "user_id": user_id, "ip_hash": ip_hash,
        "user_agent": user_agent, "at": now,
    })


async def attempts_for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[ATTEMPTS].find({"user_id": user_id}).sort("at", 1).to_list()


async def delete_attempts_for_user(db: Any, user_id: str) -> int:
    return (await db[ATTEMPTS].delete_many({"user_id": user_id})).deleted_count
