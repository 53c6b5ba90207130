"""Moderation warnings: a notice a moderator sends a user, shown on every page until read.

A warning (collection `user_warnings`): _id, user_id, text (written from the flag's reason,
never from the admin's private note), flag_id, created_at, dismissed_at. The app-wide
dependency `safety.routes.load_notice` finds the signed-in user's oldest unread
warning for the base template; the user dismisses it with `POST /api/v1/notices/{id}/dismiss`.
Part of the person's data: exported, and deleted with the account (registered below, through
`domains.PERSONAL_DATA_ORDER`).
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from clonechats.errors import NotFound
from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


WARNINGS = "user_warnings"
COLLECTIONS = (WARNINGS,)

INDEXES = [Index(WARNINGS, [("user_id", 1), ("dismissed_at", 1), ("created_at", 1)])]


async def issue(ctx: Ctx, *, user_id: str, text: str, flag_id: str | None) -> dict[str, Any]:
    warning = {"_id": secrets.token_hex(12), "user_id": user_id, "text": text,
               "flag_id": flag_id, "created_at": ctx.clock.now(), "dismissed_at": None}
    await ctx.db[WARNINGS].insert_one(warning)
    return warning


async def unread(ctx: Ctx, user_id: str) -> dict[str, Any] | None:
    found = await ctx.db[WARNINGS].find({"user_id": user_id, "dismissed_at": None}).sort(
        "created_at", 1).limit(1).to_list()
    return found[0] if found else None


async def dismiss(ctx: Ctx, *, user_id: str, warning_id: str) -> None:
    result = await ctx.db[WARNINGS].update_one(
        {"_id": warning_id, "user_id": user_id},
        {"$set": {"dismissed_at": ctx.clock.now()}})
    if result.matched_count == 0:
        raise NotFound("No such notice.")


async def count_for_user(ctx: Ctx, user_id: str) -> int:
    return await ctx.db[WARNINGS].count_documents({"user_id": user_id})


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    rows = await ctx.db[WARNINGS].find({"user_id": user_id}).sort("created_at", 1).to_list()
    return {"warnings": [{"text": w["text"], "created_at": w["created_at"].isoformat(),
                          "read": w.get("dismissed_at") is not None} for w in rows]}


async def delete(ctx: Ctx, user_id: str) -> int:
    return (await ctx.db[WARNINGS].delete_many({"user_id": user_id})).deleted_count


register(DataHolder(name="moderation_warnings", description="Warnings a moderator sent you.",
                    export=export, delete=delete,
                    collections=(Owned(WARNINGS, owner_field="user_id"),)))
