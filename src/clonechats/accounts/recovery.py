"""Email verification and password reset.

Reset requests answer the same whether or not the email has an account; each request's time
is kept (as the token's `created_at`), at most a few per hour are sent, and using a reset link
revokes every session of the account and clears its sign-in throttle.

Links are bound to the account state they were issued against (`tokens.check_binding`): a
reset link dies when the email or the password changes, a verification link when the email
changes, so an old link can never switch an address back. A reset, a password change and an
email change are each announced by email (the old address hears of an email change).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.accounts import audit, passwords, repo, sessions, throttle, tokens
from clonechats.accounts.emails import InvalidEmail, normalise_email
from clonechats.accounts.repo import User
from clonechats.accounts.service import EmailTaken, link
from clonechats.client_info import ClientInfo
from clonechats.errors import still_there
from clonechats.mail import service as mail
from clonechats.privacy.pseudonyms import hash_email

if TYPE_CHECKING:
    from clonechats.context import Ctx


RESETS_PER_HOUR = 3


async def verify_email(ctx: Ctx, token: str, *, client: ClientInfo) -> User:
    now = ctx.clock.now()
    record = await tokens.consume(ctx.db, token, purpose=tokens.VERIFY_EMAIL, now=now)
    user = await repo.get(ctx.db, record["user_id"])
    if user is None:
        raise tokens.InvalidToken()
    tokens.check_binding(record, user, tokens.VERIFY_BINDING)
    address = record["data"].get("email", user.get("email"))
    changes: dict[str, Any] = {"email_verified": True, "updated_at": now}
    event = "email_verified"
    if address != user.get("email"):
        changes["email"] = address
        event = "email_changed"
    try:
        updated = still_there(await repo.update(ctx.db, user["_id"], changes))
    except DuplicateKeyError:
        raise EmailTaken() from None
    await audit.record(ctx.db, event, now=now, user_id=user["_id"], client=client)
    if event == "email_changed":
        for purpose in (tokens.VERIFY_EMAIL, tokens.PASSWORD_RESET):
            await tokens.revoke_unused(ctx.db, purpose=purpose, user_id=user["_id"], now=now)
        if user.get("email"):
            await mail.send_email(ctx, to=user["email"], template="email_changed", context={
                "display_name": user.get("display_name"), "new_email": address,
                "changed_at": now}, idempotency_key=f"email-changed:{tokens.reference(token)}")
    return updated


async def notify_password_changed(ctx: Ctx, user: User, *, via_reset: bool,
                                  key: str) -> None:
    """Tell the account's address that its password changed (a reset or a change)."""
    if user.get("email"):
        await mail.send_email(ctx, to=user["email"], template="password_changed", context={
            "display_name": user.get("display_name"), "changed_at": ctx.clock.now(),
            "via_reset": via_reset}, idempotency_key=f"password-changed:{key}")


async def link_usable(ctx: Ctx, token: str | None, purpose: str) -> bool:
    """Whether a reset or verification link would work now (for the page that shows it)."""
    if not token or len(token) > 128:
        return False
    try:
        record = await tokens.peek(ctx.db, token, purpose=purpose, now=ctx.clock.now())
    except tokens.InvalidToken:
        return False
    user = await repo.get(ctx.db, record["user_id"])
    fields = tokens.RESET_BINDING if purpose == tokens.PASSWORD_RESET else tokens.VERIFY_BINDING
    try:
        tokens.check_binding(record, user or {}, fields)
    except tokens.InvalidToken:
        return False
    return user is not None


async def request_reset(ctx: Ctx, email: str, *, client: ClientInfo) -> None:
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
                               now=now, lifetime=lifetime,
                               data={"binding": tokens.binding(user, tokens.RESET_BINDING)})
    await audit.record(ctx.db, "reset_requested", now=now, user_id=user["_id"], client=client)
    await mail.send_email(ctx, to=normalised, template="password_reset", context={
        "display_name": user.get("display_name"),
        "reset_url": link(ctx, "/reset-password", token),
        "expires_at": now + lifetime,
    }, idempotency_key=f"reset:{tokens.reference(token)}")


async def confirm_reset(ctx: Ctx, token: str, new_password: str, *, client: ClientInfo) -> None:
    now = ctx.clock.now()
    record = await tokens.peek(ctx.db, token, purpose=tokens.PASSWORD_RESET, now=now)
    user = await repo.get(ctx.db, record["user_id"])
    if user is None:
        raise tokens.InvalidToken()
    tokens.check_binding(record, user, tokens.RESET_BINDING)
    password = passwords.check_policy(new_password, email=user.get("email"))
    await tokens.consume(ctx.db, token, purpose=tokens.PASSWORD_RESET, now=now)
    hashed = await passwords.hash_password(password, rounds=ctx.settings.accounts.bcrypt_rounds)
    await repo.update(ctx.db, user["_id"], {"password_hash": hashed, "updated_at": now,
                                            "failed_logins": 0})
    await tokens.revoke_unused(ctx.db, purpose=tokens.PASSWORD_RESET, user_id=user["_id"],
                               now=now)
    await sessions.revoke_all(ctx.db, user["_id"])
    await throttle.clear(ctx.db, f"account:{hash_email(ctx.secret, user['email'])}")
    await audit.record(ctx.db, "reset_used", now=now, user_id=user["_id"], client=client)
    await notify_password_changed(ctx, user, via_reset=True, key=tokens.reference(token))
