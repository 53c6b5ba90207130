"""Email verification and password reset.

Reset requests answer the same whether or not the email has an account; each request's time
is kept (as the token's `created_at`), at most a few per hour are sent, and using a reset link
revokes every session of the account and clears its sign-in throttle.
"""

from datetime import timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.accounts import audit, passwords, repo, sessions, throttle, tokens
from clonechats.accounts.emails import InvalidEmail, normalise_email
from clonechats.accounts.service import EmailTaken, link
from clonechats.mail import service as mail
from clonechats.privacy.pseudonyms import hash_email
from clonechats.web.client import ClientInfo

RESETS_PER_HOUR = 3


async def verify_email(ctx: Any, token: str, *, client: ClientInfo) -> dict[str, Any]:
    now = ctx.clock.now()
    record = await tokens.consume(ctx.db, token, purpose=tokens.VERIFY_EMAIL, now=now)
    user = await repo.get(ctx.db, record["user_id"])
    if user is None:
        raise tokens.InvalidToken()
    address = record["data"].get("email", user.get("email"))
    changes: dict[str, Any] = {"email_verified": True, "updated_at": now}
    event = "email_verified"
    if address != user.get("email"):
        changes["email"] = address
        event = "email_changed"
    try:
        updated = await repo.update(ctx.db, user["_id"], changes)
    except DuplicateKeyError:
        raise EmailTaken() from None
    await audit.record(ctx.db, event, now=now, user_id=user["_id"], client=client)
    return updated


async def request_reset(ctx: Any, email: str, *, client: ClientInfo) -> None:
    now = ctx.clock.now()
    try:
        normalised = normalise_email(email)
    except InvalidEmail:
        return
    user = await repo.get_by_email(ctx.db, normalised)
    if user is None or user["status"] == repo.TRIAL:
        return
    recent = await tokens.count_recent(ctx.db, purpose=tokens.PASSWORD_RESET,
                                       user_id=user["_id"], since=now - timedelta(hours=1))
    if recent >= RESETS_PER_HOUR:
        return
    lifetime = timedelta(minutes=ctx.settings.accounts.reset_token_minutes)
    token = await tokens.issue(ctx.db, purpose=tokens.PASSWORD_RESET, user_id=user["_id"],
                               now=now, lifetime=lifetime)
    await audit.record(ctx.db, "reset_requested", now=now, user_id=user["_id"], client=client)
    await mail.send_email(ctx, to=normalised, template="password_reset", context={
        "display_name": user.get("display_name"),
        "reset_url": link(ctx, "/reset-password", token),
        "expires_at": now + lifetime,
    }, idempotency_key=f"reset:{tokens.reference(token)}")


async def confirm_reset(ctx: Any, token: str, new_password: str, *, client: ClientInfo) -> None:
    now = ctx.clock.now()
    record = await tokens.peek(ctx.db, token, purpose=tokens.PASSWORD_RESET, now=now)
    user = await repo.get(ctx.db, record["user_id"])
    if user is None:
        raise tokens.InvalidToken()
    password = passwords.check_policy(new_password, email=user.get("email"))
    await tokens.consume(ctx.db, token, purpose=tokens.PASSWORD_RESET, now=now)
    hashed = await passwords.hash_password(password, rounds=ctx.settings.accounts.bcrypt_rounds)
    await repo.update(ctx.db, user["_id"], {"password_hash": hashed, "updated_at": now})
    await tokens.revoke_unused(ctx.db, purpose=tokens.PASSWORD_RESET, user_id=user["_id"],
                               now=now)
    await sessions.revoke_all(ctx.db, user["_id"])
    await throttle.clear(ctx.db, f"account:{hash_email(ctx.secret, user['email'])}")
    await audit.record(ctx.db, "reset_used", now=now, user_id=user["_id"], client=client)
