"""The owner's list of chats: pinned ones apart, search over titles and message text, and each
chat's last message as a preview.

A search is a case-insensitive match of the words as typed (no operators) against the titles
and the shown messages (not replaced versions, not text withheld by moderation); a chat found by
its messages carries the latest matching message as `match`. Pins are capped at `PIN_MAX` per
owner, a soft cap: two pins at the same moment may both pass it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from clonechats.chat import conversation_settings, repo
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.service import (
    PAGE_MAX,
    PAGE_SIZE,
    ConversationNotFound,
    clean_title,
    page_limit,
)
from clonechats.errors import AppError, Conflict

if TYPE_CHECKING:
    from clonechats.context import Ctx


PIN_MAX = 20
QUERY_MAX = 100
PREVIEW_CHARS = 140


class PinLimit(Conflict):
    code = "pin_limit"
    message = f"You can pin up to {PIN_MAX} chats. Unpin one first."


class InvalidQuery(AppError):
    code = "invalid_query"
    status = 422
    message = f"A search is 1 to {QUERY_MAX} characters."


class NothingToChange(AppError):
    code = "nothing_to_change"
    status = 422
    message = "Say what to change: a title, pinned, or one of the chat's settings."


def search_pattern(query: str | None) -> str | None:
    """The escaped regular expression for what the user typed (None: no search)."""
    if query is None:
        return None
    words = " ".join(query.split())
    if not words:
        return None
    if len(words) > QUERY_MAX:
        raise InvalidQuery()
    return re.escape(words)


def snippet(message: Message) -> dict[str, Any]:
    text = " ".join(message["text"].split())
    if len(text) > PREVIEW_CHARS:
        text = text[:PREVIEW_CHARS - 1].rstrip() + "…"
    return {"message_id": message["_id"], "role": message["role"], "text": text,
            "at": message["created_at"]}


async def page(ctx: Ctx, *, user_id: str, limit: int | None = None, cursor: str | None = None,
               query: str | None = None, pinned: bool | None = None,
               ) -> tuple[list[Conversation], str | None]:
    """A page of the owner's chats, newest activity first, each with `preview` (its last shown
    message, or None) and, in a search, `match`. `pinned` True or False keeps only those."""
    pattern = search_pattern(query)
    where: list[dict[str, Any]] = []
    if pinned is True:
        where.append({"pinned": True})
    elif pinned is False:
        where.append({"pinned": {"$ne": True}})
    if pattern is not None:
        found_in_messages = await repo.conversations_with_text(ctx.db, user_id, pattern)
        where.append({"$or": [{"title": {"$regex": pattern, "$options": "i"}},
                              {"_id": {"$in": found_in_messages}}]})
    items, next_cursor = await repo.page_conversations(
        ctx.db, user_id, limit=page_limit(limit, PAGE_SIZE, PAGE_MAX), cursor=cursor, where=where)
    for conversation in items:
        last = await repo.last_visible(ctx.db, conversation["_id"], count=1)
        conversation["preview"] = snippet(last[0]) if last else None
        if pattern is not None:
            matching = await repo.last_matching(ctx.db, conversation["_id"], pattern)
            conversation["match"] = snippet(matching) if matching else None
    return items, next_cursor


async def update(ctx: Ctx, *, user_id: str, conversation_id: str,
                 fields: dict[str, Any]) -> Conversation:
    """Rename, pin or unpin one of the owner's chats, and change its own settings
    (`chat.conversation_settings`); `fields` are those the request gave."""
    changes: dict[str, Any] = conversation_settings.changes(ctx, fields)
    if fields.get("title") is not None:
        changes.update(title=clean_title(fields["title"]), title_custom=True)
    pinned = fields.get("pinned")
    if pinned is not None:
        current = await repo.get_owned(ctx.db, conversation_id, user_id)
        if current is None:
            raise ConversationNotFound()
        if pinned and not current.get("pinned") and (
                await repo.count_pinned(ctx.db, user_id) >= PIN_MAX):
            raise PinLimit()
        changes["pinned"] = pinned
    if not changes:
        raise NothingToChange()
    changes["updated_at"] = ctx.clock.now()
    updated = await repo.update_conversation(ctx.db, conversation_id, user_id, changes)
    if updated is None:
        raise ConversationNotFound()
    return updated
