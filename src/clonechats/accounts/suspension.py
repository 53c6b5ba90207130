"""Suspended accounts: an admin's decision that an account may not be used for now.

A suspension is two fields on the user, `suspended_at` and `suspension_reason` (the sentence
the person is shown); restoring removes both. Suspending ends every session at once; sign-in
(password or Google) and every later request authenticated by a session or an API key are
refused with 403 `account_suspended`. Checked in `accounts.dependencies.resolve_auth` and at
login. Who suspended and why is in the audit log. Never touches HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clonechats.accounts import audit, repo, sessions
from clonechats.accounts.repo import User
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Conflict, NotFound, still_there

if TYPE_CHECKING:
    from clonechats.context import Ctx


DEFAULT_REASON = "This account has been suspended for breaking the terms of use."
REASON_MAX = 300


class AccountSuspended(AppError):
    code = "account_suspended"
    status = 403
    message = DEFAULT_REASON

    def __init__(self, user: User | None = None) -> None:
        reason = (user or {}).get("suspension_reason") or DEFAULT_REASON
        super().__init__(f"{reason} If you think this is a mistake, write to us through the "
                         "contact page.")


def is_suspended(user: User | None) -> bool:
    return bool(user and user.get("suspended_at"))


def check(user: User | None) -> None:
    if is_suspended(user):
        raise AccountSuspended(user)


async def suspend(ctx: Ctx, *, user_id: str, actor_id: str | None, note: str,
                  reason: str | None = None,
                  client: ClientInfo | None = None) -> User:
    """Suspend the account and end its sessions; suspending twice keeps the first time."""
    target = await repo.get(ctx.db, user_id)
    if target is None:
        raise NotFound("No such user.")
    if target.get("role") == "admin":
        raise Conflict("Administrators cannot be suspended. Change their role first.",
                       code="target_is_admin")
    now = ctx.clock.now()
    shown = (reason or "").strip()[:REASON_MAX] or DEFAULT_REASON
    user = await repo.update(ctx.db, user_id, {"suspended_at": now, "suspension_reason": shown,
                                               "updated_at": now},
                             expect={"suspended_at": {"$in": [None]}}) or target
    ended = await sessions.revoke_all(ctx.db, user_id)
    await audit.record(ctx.db, "account_suspended", now=now, user_id=user_id, client=client,
                       actor_id=actor_id, note=note, sessions_ended=ended)
    return user


async def restore(ctx: Ctx, *, user_id: str, actor_id: str | None, note: str,
                  client: ClientInfo | None = None) -> User:
    target = await repo.get(ctx.db, user_id)
    if target is None:
        raise NotFound("No such user.")
    now = ctx.clock.now()
    await repo.unset(ctx.db, user_id, ["suspended_at", "suspension_reason"], now=now)
    await audit.record(ctx.db, "account_restored", now=now, user_id=user_id, client=client,
                       actor_id=actor_id, note=note)
    return still_there(await repo.get(ctx.db, user_id))
