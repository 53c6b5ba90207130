"""Admin tools over one account: search, the account's view, re-authentication for role
changes, suspension, signing out everywhere and credit adjustments.

The view never carries the password hash or a raw address (sessions and the audit log keep
keyed hashes only). Credit grants and claw-backs are ledger entries with the admin's reason;
a claw-back never takes more than the balance. Every change is audit-logged with the admin.
Trust boundary: `admin.routes` checked the role before these are called. Never touches HTTP.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import audit, passwords, sessions, suspension, users
from clonechats.accounts.users import User
from clonechats.admin.schemas import AdminUserOut
from clonechats.billing import ledger, orders
from clonechats.billing.ledger import LedgerEntry
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError, Forbidden, NotFound
from clonechats.safety import flags, warnings

if TYPE_CHECKING:
    from clonechats.context import Ctx


SEARCH_LIMIT = 50
CREDITS_MAX = 1_000_000
REASON_MAX = 300


class ReauthRequired(Forbidden):
    code = "reauth_required"
    message = "Confirm with your password to change roles."


class InvalidAdjustment(AppError):
    code = "invalid_adjustment"
    status = 422


async def require_reauth(ctx: Ctx, admin: User, password: str | None,
                         session: dict[str, Any] | None) -> None:
    """The acting admin proves it is them: their password, or (accounts without one) a
    sign-in within `admin.reauth_minutes`."""
    if admin.get("password_hash"):
        ok = password is not None and await passwords.verify_password(
            password, admin["password_hash"], rounds=ctx.settings.accounts.bcrypt_rounds)
        if not ok:
            raise ReauthRequired()
        return
    recent = timedelta(minutes=ctx.settings.admin.reauth_minutes)
    created = session["created_at"] if session else None
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    if created is None or ctx.clock.now() - created > recent:
        raise ReauthRequired("Sign in again (within the last few minutes) to change roles.")


async def search(ctx: Ctx, query: str) -> list[User]:
    """Accounts whose email or display name contains `query` (literally), or with that id."""
    text = query.strip()[:100]
    pattern = re.escape(text.lower())
    return await users.search(ctx.db, text=text, pattern=pattern, limit=SEARCH_LIMIT)


async def get(ctx: Ctx, user_id: str) -> User:
    user = await users.get(ctx.db, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment is not None else None


async def view(ctx: Ctx, user_id: str) -> dict[str, Any]:
    """What an admin sees of one account (no password hash, hashed addresses only)."""
    user = await get(ctx, user_id)
    live = await sessions.list_for_user(ctx.db, user_id)
    events = await audit.list_for_user(ctx.db, user_id, limit=30)
    entries = await ledger.recent_for_user(ctx.db, user_id)
    bought = await orders.for_user(ctx.db, user_id)
    return {
        "user": {**AdminUserOut.of(user).model_dump(mode="json"),
                 "credits": user.get("credits", 0),
                 "suspended_at": _iso(user.get("suspended_at")),
                 "suspension_reason": user.get("suspension_reason"),
                 "has_password": bool(user.get("password_hash"))},
        "sessions": [{"id": s["public_id"], "created_at": _iso(s["created_at"]),
                      "last_seen_at": _iso(s["last_seen_at"]), "ip_hash": s.get("ip_hash"),
                      "user_agent": s.get("user_agent")} for s in live],
        "audit": [{"event": e["event"], "at": _iso(e["at"]), "ip_hash": e.get("ip_hash"),
                   "details": e.get("details") or {}} for e in events],
        "ledger": [{"id": e["_id"], "delta": e["delta"], "kind": e["kind"],
                    "reason": e.get("reason"), "status": e.get("status"),
                    "at": _iso(e["at"])} for e in entries],
        "orders": [{"id": o["_id"], "status": o["status"], "description": o.get("description"),
                    "amount": o.get("amount"), "currency": o.get("currency"),
                    "created_at": _iso(o["created_at"])} for o in bought[-20:]],
        "flags": await flags.count_for_user(ctx, user_id),
        "warnings": await warnings.count_for_user(ctx, user_id),
    }


async def sign_out_everywhere(ctx: Ctx, *, user_id: str, admin: User,
                              client: ClientInfo | None) -> int:
    await get(ctx, user_id)
    ended = await sessions.revoke_all(ctx.db, user_id)
    await audit.record(ctx.db, "sessions_revoked_by_admin", now=ctx.clock.now(),
                       user_id=user_id, client=client, actor_id=admin["_id"], count=ended)
    return ended


async def adjust_credits(ctx: Ctx, *, user_id: str, delta: int, reason: str,
                         admin: User, client: ClientInfo | None) -> LedgerEntry:
    """Grant (delta > 0) or claw back (delta < 0, at most the balance) credits, as a ledger
    entry carrying the admin's reason; returns the entry."""
    text = " ".join(reason.split())
    if not text or len(text) > REASON_MAX:
        raise InvalidAdjustment(f"Give a reason of up to {REASON_MAX} characters.")
    if delta == 0 or abs(delta) > CREDITS_MAX:
        raise InvalidAdjustment(f"Grant or claw back between 1 and {CREDITS_MAX} credits.")
    await get(ctx, user_id)
    now = ctx.clock.now()
    key = f"admin:{user_id}:{secrets.token_hex(8)}"
    details = {"actor_id": admin["_id"]}
    if delta > 0:
        entry = await ledger.apply(ctx.db, user_id=user_id, delta=delta, kind=ledger.GRANT,
                                   reason=f"admin: {text}", idempotency_key=key, now=now,
                                   details=details)
    else:
        entry = (await ledger.clawback(ctx.db, user_id=user_id, amount=-delta,
                                       reason=f"admin: {text}", idempotency_key=key, now=now,
                                       kind=ledger.REFUND, details=details)).entry
    await audit.record(ctx.db, "credits_adjusted", now=now, user_id=user_id, client=client,
                       actor_id=admin["_id"], delta=entry["delta"], requested=delta,
                       reason=text)
    return entry


async def suspend(ctx: Ctx, *, user_id: str, admin: User, note: str,
                  reason: str | None, client: ClientInfo | None) -> User:
    return await suspension.suspend(ctx, user_id=user_id, actor_id=admin["_id"], note=note,
                                    reason=reason, client=client)


async def restore(ctx: Ctx, *, user_id: str, admin: User, note: str,
                  client: ClientInfo | None) -> User:
    return await suspension.restore(ctx, user_id=user_id, actor_id=admin["_id"], note=note,
                                    client=client)
