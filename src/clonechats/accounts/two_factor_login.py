"""The second step of signing in to an account with two-factor authentication on.

A right password (or a Google sign-in) for such an account starts no session: it creates a
pending login, a random token stored only as its SHA-256 digest in `two_factor_logins`, bound
to the user, alive for PENDING_MINUTES and good for MAX_FAILURES wrong codes. Only a right code
(or recovery code) for that user, within that time, uses it up and lets the router start the
session. Codes go through `two_factor.check_code`, behind the same back-off as passwords.
Never touches HTTP.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import audit, repo, service, suspension, two_factor
from clonechats.accounts.repo import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


PENDING = "two_factor_logins"
COLLECTIONS = (PENDING,)
EXPIRING = Expiring(PENDING)
INDEXES = [Index(PENDING, [("expires_at", 1)]), Index(PENDING, [("user_id", 1)])]
PENDING_MINUTES = 5
MAX_FAILURES = 5
TOKEN_MAX_LENGTH = 128


class LoginExpired(AppError):
    code = "two_factor_login_expired"
    message = "This sign-in has expired or was already used. Please sign in again."


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start(ctx: Ctx, user: User, *, client: ClientInfo, return_to: str,
                provider: str = "password") -> tuple[str, datetime]:
    """A pending login for `user`, whose first factor was right: (token, expires_at)."""
    now = ctx.clock.now()
    expires_at = now + timedelta(minutes=PENDING_MINUTES)
    token = secrets.token_urlsafe(32)
    await ctx.db[PENDING].delete_many({"expires_at": {"$lte": now}})
    await ctx.db[PENDING].insert_one({
        "_id": _digest(token), "user_id": user["_id"], "provider": provider,
        "return_to": return_to, "failures": 0, "created_at": now, "expires_at": expires_at})
    await audit.record(ctx.db, "two_factor_challenged", now=now, user_id=user["_id"],
                       client=client, provider=provider)
    return token, expires_at


async def pending(ctx: Ctx, token: str | None) -> dict[str, Any] | None:
    """The live pending login of `token`, without using it."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return await ctx.db[PENDING].find_one({"_id": _digest(token),
                                           "expires_at": {"$gt": ctx.clock.now()}})


async def finish(ctx: Ctx, *, token: str | None, code: str,
                 client: ClientInfo) -> tuple[User, str]:
    """Check the code of a pending login: (user, where to go next) once it is right."""
    record = await pending(ctx, token)
    user = await repo.get(ctx.db, record["user_id"]) if record else None
    if record is None or user is None or not two_factor.is_enabled(user):
        raise LoginExpired()
    try:
        await two_factor.check_code(ctx, user, code, client=client, stage="sign_in")
    except two_factor.InvalidCode:
        counted = await ctx.db[PENDING].find_one_and_update(
            {"_id": record["_id"]}, {"$inc": {"failures": 1}})
        if counted is None or counted["failures"] + 1 >= MAX_FAILURES:
            await ctx.db[PENDING].delete_one({"_id": record["_id"]})
        raise
    if await ctx.db[PENDING].find_one_and_delete({"_id": record["_id"]}) is None:
        raise LoginExpired()  # a concurrent request with another right code used it first
    suspension.check(user)
    await service.signed_in(ctx, user, client=client, provider=record["provider"])
    return user, record["return_to"]


async def delete_for_user(db: Any, user_id: str) -> int:
    return (await db[PENDING].delete_many({"user_id": user_id})).deleted_count
