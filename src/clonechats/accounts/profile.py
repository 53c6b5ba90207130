"""Changes a signed-in user makes to their own account: name, password, email, API keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts import audit, passwords, repo, sessions, tokens
from clonechats.accounts.emails import normalise_email
from clonechats.accounts.recovery import notify_password_changed
from clonechats.accounts.repo import User
from clonechats.accounts.service import EmailTaken, send_verification
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, still_there

if TYPE_CHECKING:
    from clonechats.context import Ctx



class WrongPassword(AppError):
    code = "invalid_credentials"
    status = 403
    message = "The current password is not right."


async def update_profile(ctx: Ctx, user: User, *, display_name: str | None,
                         show_name_on_personas: bool | None = None) -> User:
    """`show_name_on_personas`: whether Explore may name the user as the creator of their
    public personas (off until they turn it on; None leaves it as it is)."""
    name = (display_name or "").strip() or None
    changes: dict[str, Any] = {"display_name": name, "updated_at": ctx.clock.now()}
    if show_name_on_personas is not None:
        changes["show_name_on_personas"] = show_name_on_personas
    return still_there(await repo.update(ctx.db, user["_id"], changes))


async def public_names(ctx: Ctx, *, user_ids: list[str]) -> dict[str, str]:
    """The display names of those of `user_ids` who chose to show it on their personas."""
    return await repo.shown_names(ctx.db, list(set(user_ids)))


async def require_password(ctx: Ctx, user: User, password: str) -> None:
    ok = await passwords.verify_password(password, user.get("password_hash"),
                                         rounds=ctx.settings.accounts.bcrypt_rounds)
    if not ok:
        raise WrongPassword()


async def change_password(ctx: Ctx, user: User, *, current: str, new: str,
                          client: ClientInfo) -> None:
    """Set a new password and revoke every session; the caller starts a fresh one."""
    await require_password(ctx, user, current)
    password = passwords.check_policy(new, email=user.get("email"))
    hashed = await passwords.hash_password(password, rounds=ctx.settings.accounts.bcrypt_rounds)
    now = ctx.clock.now()
    await repo.update(ctx.db, user["_id"], {"password_hash": hashed, "updated_at": now})
    await sessions.revoke_all(ctx.db, user["_id"])
    await tokens.revoke_unused(ctx.db, purpose=tokens.PASSWORD_RESET, user_id=user["_id"],
                               now=now)
    await audit.record(ctx.db, "password_changed", now=now, user_id=user["_id"], client=client)
    await notify_password_changed(ctx, user, via_reset=False, key=tokens.reference(hashed))


async def request_email_change(ctx: Ctx, user: User, *, new_email: str,
                               password: str) -> None:
    """Send a verification link to the new address; the change happens when it is used."""
    await require_password(ctx, user, password)
    address = normalise_email(new_email)
    if address == user.get("email"):
        raise AppError("That is already your email address.", code="email_unchanged",
                       status=422)
    if await repo.get_by_email(ctx.db, address) is not None:
        raise EmailTaken()
    await send_verification(ctx, user, address=address)


async def set_role(ctx: Ctx, user_id: str, role: str, *, actor_id: str | None,
                   client: ClientInfo | None) -> User:
    """Change a user's role; their sessions end so the new privileges start from a new one."""
    if role not in {"user", "admin"}:
        raise AppError("Role must be user or admin.", code="invalid_role", status=422)
    now = ctx.clock.now()
    user = await repo.update(ctx.db, user_id, {"role": role, "updated_at": now})
    if user is None:
        raise AppError("No such user.", code="not_found", status=404)
    await sessions.revoke_all(ctx.db, user_id)
    await audit.record(ctx.db, "role_changed", now=now, user_id=user_id, client=client,
                       role=role, actor_id=actor_id)
    return user


async def update_preferences(ctx: Ctx, user: User, *, time_zone: str | None = None,
                             scheduled_email_notice: bool | None = None) -> User:
    """Set the user's time zone (an IANA name, already checked by the caller) and whether a
    scheduled reply's arrival is also emailed (off unless turned on); None leaves a value."""
    changes: dict[str, Any] = {"updated_at": ctx.clock.now()}
    if time_zone is not None:
        changes["time_zone"] = time_zone
    if scheduled_email_notice is not None:
        changes["scheduled_email_notice"] = bool(scheduled_email_notice)
    return still_there(await repo.update(ctx.db, user["_id"], changes))
