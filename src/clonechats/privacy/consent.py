"""Privacy settings and the consent history.

Each user has one settings document (`analytics_opt_in`, off until they turn it on) and an
append-only history of what they agreed to or withdrew, with the policy version in force at the
time: turning analytics on or off, and acknowledging a policy version. Both are part of the
user's export and go with the account. People under 18 cannot turn analytics on (403
`analytics_not_for_minors`) and are never counted. Never touches HTTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.accounts.users import User
from clonechats.errors import AppError
from clonechats.privacy import repo
from clonechats.safety.minors import is_minor

if TYPE_CHECKING:
    from clonechats.context import Ctx


ANALYTICS = "analytics"
POLICY = "policy_acknowledged"
DEFAULTS: dict[str, Any] = {"analytics_opt_in": False, "updated_at": None}


def _version(ctx: Ctx) -> str:
    return ctx.settings.privacy.policy_version


async def get_settings(ctx: Ctx, user_id: str) -> dict[str, Any]:
    stored = await repo.get_settings(ctx.db, user_id) or {}
    return {name: stored.get(name, default) for name, default in DEFAULTS.items()}


class MinorsNoAnalytics(AppError):
    code = "analytics_not_for_minors"
    status = 403
    message = ("Analytics cannot be turned on for accounts of people under 18: we never "
               "track or measure the use of young people.")


async def _is_minor(ctx: Ctx, user_id: str) -> bool:
    return await is_minor(ctx, user_id)


async def analytics_allowed(ctx: Ctx, user_id: str | None) -> bool:
    """Only a signed-in adult who opted in is ever counted; anonymous visitors and people
    under 18 never are (whatever an older setting says)."""
    if user_id is None:
        return False
    if not (await get_settings(ctx, user_id))["analytics_opt_in"]:
        return False
    return not await _is_minor(ctx, user_id)


async def update_settings(ctx: Ctx, user_id: str, *,
                          analytics_opt_in: bool | None) -> dict[str, Any]:
    """Change the settings; each change of a consent is added to the history."""
    current = await get_settings(ctx, user_id)
    if analytics_opt_in and await _is_minor(ctx, user_id):
        raise MinorsNoAnalytics()
    if analytics_opt_in is None or analytics_opt_in == current["analytics_opt_in"]:
        return current
    now = ctx.clock.now()
    await repo.set_settings(ctx.db, user_id, {"analytics_opt_in": analytics_opt_in,
                                              "updated_at": now})
    await repo.add_consent(ctx.db, user_id=user_id, what=ANALYTICS, value=analytics_opt_in,
                           now=now, policy_version=_version(ctx))
    return await get_settings(ctx, user_id)


async def history(ctx: Ctx, user_id: str) -> list[dict[str, Any]]:
    return [{"what": entry["what"], "value": entry["value"], "at": entry["at"],
             "policy_version": entry["policy_version"]}
            for entry in await repo.consents_of(ctx.db, user_id)]


async def acknowledge_policy(ctx: Ctx, user: User) -> User:
    """Record that the user has read the current policy version (idempotent)."""
    version = _version(ctx)
    if user.get("policy_acknowledged_version") == version:
        return user
    now = ctx.clock.now()
    updated = await users.acknowledge_policy(ctx.db, user["_id"], version, now=now) or user
    await repo.add_consent(ctx.db, user_id=user["_id"], what=POLICY, value=version, now=now,
                           policy_version=version)
    return updated
