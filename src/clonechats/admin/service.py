"""Admin tools over accounts: lists of users and audit events, role changes, deleting an account
over an age concern, the dashboard's counts, and the operator's `clonechats admin` commands.

Trust boundary: callers have already checked the caller is an admin (`admin.routes` does so for
every route; the command line is the operator's own shell). Never touches HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.accounts import age, audit, passwords, profile, users
from clonechats.accounts.emails import normalise_email
from clonechats.accounts.service import EmailTaken, new_user
from clonechats.accounts.users import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, NotFound
from clonechats.jobs import repo as jobs
from clonechats.privacy import registry
from clonechats.privacy.pseudonyms import hash_email

if TYPE_CHECKING:
    from clonechats.context import Ctx


ROLES = ("user", "admin")
ADMIN = "admin"


class InvalidRole(AppError):
    code = "invalid_role"
    status = 422
    message = "Role must be user or admin."


class LastAdmin(Conflict):
    code = "last_admin"
    message = "This is the last administrator. Make someone else an admin first."


class NotActive(Conflict):
    code = "not_active"
    message = "Only an active account can become an administrator."


class TargetIsAdmin(Conflict):
    code = "target_is_admin"
    message = "Administrators cannot be deleted this way. Change their role first."


class UnknownUser(NotFound):
    message = "No such user."


async def list_users(ctx: Ctx, *, limit: int,
                     cursor: str | None) -> tuple[list[User], str | None]:
    """One page of users, newest first, and the cursor of the next page (or None)."""
    return await users.list_page(ctx.db, limit=limit, cursor=cursor)


async def list_audit(ctx: Ctx, *, limit: int,
                     cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    return await audit.list_recent(ctx.db, limit=limit, cursor=cursor)


async def dashboard(ctx: Ctx) -> dict[str, Any]:
    by_status = await users.count_by_status(ctx.db)
    return {
        "users_by_status": dict(sorted(by_status.items())),
        "users_total": sum(by_status.values()),
        "admins": await users.count_with_role(ctx.db, ADMIN),
        "jobs_by_status": dict(sorted((await jobs.count_by_status(ctx.db)).items())),
    }


async def change_role(ctx: Ctx, *, actor: User, user_id: str, role: str,
                      client: ClientInfo | None) -> User:
    """Set a user's role (their sessions end); never leaves the instance without an admin."""
    if role not in ROLES:
        raise InvalidRole()
    target = await users.get(ctx.db, user_id)
    if target is None:
        raise UnknownUser()
    if role == ADMIN and target["status"] != users.ACTIVE:
        raise NotActive()
    if target["role"] == ADMIN and role != ADMIN and await users.count_with_role(ctx.db,
                                                                                ADMIN) <= 1:
        raise LastAdmin()
    return await profile.set_role(ctx, user_id, role, actor_id=actor["_id"], client=client)


async def delete_for_age_concern(ctx: Ctx, *, actor: User, user_id: str,
                                 client: ClientInfo | None) -> dict[str, int]:
    """Delete an account believed to belong to a child under 13, and all its content.

    The audit event is written first, naming the admin; the deletion then replaces the
    account's id in it by a pseudonym. Like a refused sign-up, the email is blocked briefly.
    """
    target = await users.get(ctx.db, user_id)
    if target is None:
        raise UnknownUser()
    if target["role"] == ADMIN:
        raise TargetIsAdmin()
    now = ctx.clock.now()
    await audit.record(ctx.db, "age_concern_deleted", now=now, user_id=user_id, client=client,
                       actor_id=actor["_id"])
    if target.get("email"):
        await age.block(ctx.db, hash_email(ctx.secret, target["email"]), now=now,
                        hours=ctx.settings.accounts.under13_block_hours)
    return await registry.delete_user_data(ctx, user_id)


async def create_user(ctx: Ctx, *, email: str, password: str, role: str) -> User:
    """An account made by the operator: verified email, the password policy applies, and no
    birth date is asked for or stored."""
    if role not in ROLES:
        raise InvalidRole()
    address = normalise_email(email)
    checked = passwords.check_policy(password, email=address)
    hashed = await passwords.hash_password(checked, rounds=ctx.settings.accounts.bcrypt_rounds)
    now = ctx.clock.now()
    user = new_user(email=address, now=now, status=users.ACTIVE, auth_provider="password",
                    password_hash=hashed, email_verified=True, role=role, birth_date=None)
    try:
        await users.insert(ctx.db, user)
    except DuplicateKeyError:
        raise EmailTaken("An account with this email already exists.") from None
    await audit.record(ctx.db, "signup", now=now, user_id=user["_id"], created_by="operator",
                       role=role)
    return user


async def set_role_by_email(ctx: Ctx, *, email: str, role: str) -> User:
    if role not in ROLES:
        raise InvalidRole()
    user = await users.get_by_email(ctx.db, normalise_email(email))
    if user is None:
        raise UnknownUser("No account uses this email.")
    return await profile.set_role(ctx, user["_id"], role, actor_id=None, client=None)
