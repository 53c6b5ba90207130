"""Deleting an account: re-authentication, an immediate lock-out, then a background purge.

`request_deletion` first proves it is the owner asking:
- an account with a password must give it (wrong: 401, counted by the sign-in throttle);
- an account without one (Google sign-in) must have signed in within
  `privacy.reauth_minutes`: the session it asks from is that recent (sessions are only ever
  created by a sign-in), else 403 `reauthentication_required`;
- a trial (no email, no password, no Google) has nothing else to prove than its session.
Then, before answering: the security log records the deletion, every session and API key of
the account ends and its password and Google link are removed, so nobody can act as the user
any more, and its public personas become private (their share links and Explore entries stop
answering at once). The `privacy.delete_account` job then runs every holder of the privacy registry
(files included), queues the deletion receipt email to the address captured at the request,
and reduces its own record to a pseudonym and counts, then scrubs the database files so no
earlier version of the record (with the id, email and name) is left in them. The receipt is
queued after the mail holder has removed the user's queued emails, so it survives that
cleanup.

Payment records stay, pseudonymised, for their retention; the security log keeps its events
under a pseudonym with hashed addresses only. Never touches HTTP.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import api_keys, audit, passwords, sessions, throttle, users
from clonechats.accounts.personal_data import pseudonym
from clonechats.accounts.service import InvalidCredentials
from clonechats.accounts.users import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, Forbidden
from clonechats.mail import service as mail
from clonechats.personas import repo as persona_repo
from clonechats.privacy import registry, repo
from clonechats.privacy.pseudonyms import hash_email

if TYPE_CHECKING:
    from clonechats.context import Ctx


DELETE_JOB = "privacy.delete_account"
PENDING, DONE = "pending", "done"


class PasswordRequired(AppError):
    code = "password_required"
    status = 422
    message = "Enter your password to confirm."


class LastAdmin(Conflict):
    code = "last_admin"
    message = ("You are the only administrator. Make another account an administrator "
               "before deleting yours, so the server is never left without one.")


class ReauthenticationRequired(Forbidden):
    code = "reauthentication_required"
    message = "For your safety, sign in with Google again, then delete the account within a " \
              "few minutes."


async def _check_password(ctx: Ctx, user: User, password: str | None,
                          client: ClientInfo) -> None:
    if not password:
        raise PasswordRequired()
    now, settings = ctx.clock.now(), ctx.settings.accounts
    keys = throttle.keys_for(email_hash=hash_email(ctx.secret, user.get("email") or user["_id"]),
                             ip_hash=client.ip_hash, settings=settings)
    await throttle.check(ctx.db, keys, now=now)
    if not await passwords.verify_password(password, user["password_hash"],
                                           rounds=settings.bcrypt_rounds):
        await throttle.record_failure(ctx.db, keys, now=now, settings=settings)
        raise InvalidCredentials("The password is not right.")


async def reauthenticate(ctx: Ctx, user: User, *, session: dict[str, Any] | None,
                         password: str | None, client: ClientInfo) -> str:
    """Prove the owner is asking; returns how ("password", "recent_sign_in" or "session").

    `session` is the session the request came with (None for an API key)."""
    if user.get("password_hash"):
        await _check_password(ctx, user, password, client)
        return "password"
    if user.get("status") == users.TRIAL and not user.get("email"):
        if session is None:
            raise ReauthenticationRequired("Delete a trial from the browser that started it.")
        return "session"
    window = timedelta(minutes=ctx.settings.privacy.reauth_minutes)
    if session is None or session["created_at"] < ctx.clock.now() - window:
        raise ReauthenticationRequired()
    return "recent_sign_in"


async def request_deletion(ctx: Ctx, user: User, *, session: dict[str, Any] | None,
                           password: str | None, client: ClientInfo) -> dict[str, Any]:
    """Check it is the owner, lock the account at once and queue the purge."""
    method = await reauthenticate(ctx, user, session=session, password=password,
                                  client=client)
    if user.get("role") == "admin" and await users.count_admins(ctx.db) <= 1:
        raise LastAdmin()
    now = ctx.clock.now()
    deletion = await repo.insert_deletion(ctx.db, {
        "_id": secrets.token_hex(12), "user_id": user["_id"], "email": user.get("email"),
        "display_name": user.get("display_name"), "requested_at": now, "status": PENDING,
    })
    await audit.record(ctx.db, "account_deleted", now=now, user_id=user["_id"], client=client,
                       confirmed_by=method)
    await sessions.revoke_all(ctx.db, user["_id"])
    await api_keys.delete_for_user(ctx.db, user["_id"])
    await users.lock_for_deletion(ctx.db, user["_id"], now=now)
    await persona_repo.unpublish_for_owner(ctx.db, user["_id"])  # public pages stop at once
    await ctx.enqueue(DELETE_JOB, {"deletion_id": deletion["_id"]},
                      dedupe_key=f"{DELETE_JOB}:{deletion['_id']}")
    return deletion


async def delete_account(payload: dict[str, Any], ctx: Ctx) -> None:
    """The `privacy.delete_account` job (safe to run again after a failure)."""
    deletion = await repo.get_deletion(ctx.db, payload["deletion_id"])
    if deletion is None or deletion["status"] == DONE:
        return
    user_id = deletion["user_id"]
    counts = await registry.delete_user_data(ctx, user_id)
    await ctx.connection.scrub()
    now = ctx.clock.now()
    if deletion.get("email"):
        await mail.send_email(ctx, to=deletion["email"], template="account_deleted", context={
            "display_name": deletion.get("display_name"), "deleted_at": now,
        }, idempotency_key=f"account-deleted:{deletion['_id']}")
    await repo.finish_deletion(ctx.db, deletion["_id"], subject=pseudonym(ctx, user_id),
                               counts=counts, now=now)
    await ctx.connection.scrub()  # the record's earlier version (id, email, name) goes too
