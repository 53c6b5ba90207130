"""What the accounts domain holds about a person, registered with the privacy registry.

Export: the profile (never the password hash, nor the two-factor secret or recovery code
hashes: only whether two-factor is on), sessions and API keys as metadata (never their
digests), the audit events about the person and their sign-in attempts.

Delete: sessions (so they end at once), API keys, one-time tokens, pending two-factor
sign-ins, sign-in attempts and the sign-in throttle counter, then the user document itself.
Audit events are kept for security (they hold only hashed addresses) but every mention of the
user's id, as subject or as actor, is replaced by a pseudonym: a keyed hash that cannot be
turned back into the id.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.accounts import (
    api_keys,
    audit,
    repo,
    sessions,
    throttle,
    tokens,
    two_factor,
    two_factor_login,
)
from clonechats.accounts.repo import User
from clonechats.privacy.pseudonyms import hash_email, keyed_hash
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "accounts"
PSEUDONYM_PREFIX = "pseudonym:"
HIDDEN_PROFILE_FIELDS = frozenset({"password_hash", "ledger_keys", "two_factor",
                                   "two_factor_setup"})


def pseudonym(ctx: Ctx, user_id: str) -> str:
    return PSEUDONYM_PREFIX + keyed_hash(ctx.secret, "audit-subject", user_id)[:32]


def plain(value: Any) -> Any:
    """`value` with datetimes as ISO 8601 strings, ready for a JSON export."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def two_factor_summary(user: User) -> dict[str, Any]:
    """Whether two-factor is on and since when: never its secret or recovery code hashes."""
    state = user.get(two_factor.FIELD) or {}
    return {"enabled": two_factor.is_enabled(user), "enabled_at": state.get("enabled_at"),
            "recovery_codes_left": two_factor.recovery_codes_left(user)}


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    db = ctx.db
    user = await repo.get(db, user_id)
    profile = None
    if user is not None:
        profile = {("id" if k == "_id" else k): v for k, v in user.items()
                   if k not in HIDDEN_PROFILE_FIELDS}
        profile["two_factor"] = two_factor_summary(user)
    return plain({
        "profile": profile,
        "sessions": [
            {"id": s["public_id"], "created_at": s["created_at"],
             "last_seen_at": s["last_seen_at"], "expires_at": s["expires_at"],
             "user_agent": s["user_agent"], "ip_hash": s["ip_hash"]}
            for s in await sessions.list_for_user(db, user_id)
        ],
        "api_keys": [
            {"id": k["_id"], "name": k["name"], "hint": k["hint"], "created_at": k["created_at"],
             "last_used_at": k["last_used_at"], "revoked_at": k["revoked_at"]}
            for k in await api_keys.list_all_for_user(db, user_id)
        ],
        "audit_events": [
            {"event": e["event"], "at": e["at"], "user_agent": e["user_agent"],
             "ip_hash": e["ip_hash"], "details": e["details"]}
            for e in await audit.list_all_for_user(db, user_id)
        ],
        "login_attempts": [
            {"outcome": a["outcome"], "at": a["at"], "user_agent": a["user_agent"],
             "ip_hash": a["ip_hash"]}
            for a in await throttle.attempts_for_user(db, user_id)
        ],
    })


async def delete(ctx: Ctx, user_id: str) -> int:
    """Delete what accounts holds about `user_id`; returns how many documents went or changed."""
    db = ctx.db
    user = await repo.get(db, user_id)
    count = await sessions.revoke_all(db, user_id)
    count += await api_keys.delete_for_user(db, user_id)
    count += await tokens.delete_for_user(db, user_id)
    count += await two_factor_login.delete_for_user(db, user_id)
    count += await throttle.delete_attempts_for_user(db, user_id)
    if user is not None and user.get("email"):
        await throttle.clear(db, f"account:{hash_email(ctx.secret, user['email'])}")
    count += await audit.pseudonymise_user(db, user_id, pseudonym(ctx, user_id))
    count += await repo.delete(db, user_id)
    return count


register(DataHolder(
    name=NAME,
    description="Your profile, sign-in sessions, API keys, security log and sign-in attempts.",
    export=export,
    delete=delete,
    order=1000,
    collections=(Owned(sessions.SESSIONS, owner_field="user_id"),
                 Owned(api_keys.API_KEYS, owner_field="user_id"),
                 Owned(tokens.TOKENS, owner_field="user_id"),
                 Owned(two_factor_login.PENDING, owner_field="user_id"),
                 Owned(throttle.ATTEMPTS, owner_field="user_id", nullable_owner=True),
                 Owned(audit.AUDIT, owner_field="user_id", nullable_owner=True,
                       pseudonymised=True)),
))
