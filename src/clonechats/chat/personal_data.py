"""What chat holds about a person, registered with the privacy registry.

Export: every conversation they own (title, persona, model, running summary) with all its
messages, replaced ones included (text, status, model, usage, credits, mood, moderation,
times, why the model stopped — `finish_reason` "length" for a reply cut at the length limit —
and when the person rewrote a persona reply; in translation chats each message's language,
its translation with the translator's name, and any language flag). A reply hidden by
moderation is exported as the notice the person saw.

Delete: every conversation they own and every message in them. Replies in progress are asked
to stop first, so none is written back after the delete. Other people's conversations with
this person's public personas are theirs and stay.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.chat import generation, repo
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "conversations"
MESSAGE_FIELDS = ("role", "text", "status", "model", "usage", "credits_charged", "mood",
                  "moderation", "error_code", "created_at", "completed_at",
                  "replaces_message_id", "superseded_by", "hidden_with", "answer_to",
                  "finish_reason", "edited_at",
                  "language", "translation", "translation_error", "language_flag")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    by_conversation: dict[str, list[dict[str, Any]]] = {}
    for message in await repo.messages_for_owner(ctx.db, user_id):
        by_conversation.setdefault(message["conversation_id"], []).append(
            {"id": message["_id"], **{key: _plain(message.get(key)) for key in MESSAGE_FIELDS}})
    return {"conversations": [
        {"id": c["_id"], "persona_id": c["persona_id"], "persona_name": c["persona_name"],
         "title": c["title"], "model": c["model"], "summary": c.get("summary") or "",
         "created_at": _plain(c["created_at"]), "last_message_at": _plain(c["last_message_at"]),
         "translation": c.get("translation"), "pinned": bool(c.get("pinned")),
         "temperature": c.get("temperature"), "reply_length": c.get("reply_length"),
         "about_me": c.get("about_me"),
         "messages": by_conversation.get(c["_id"], [])}
        for c in await repo.conversations_for_owner(ctx.db, user_id)]}


async def delete(ctx: Ctx, user_id: str) -> int:
    for conversation in await repo.conversations_for_owner(ctx.db, user_id):
        holder = conversation.get("generating") or {}
        found = generation.running(holder.get("message_id") or "")
        if found is not None:
            found.request_stop("deleted")
            await found.wait()
    return await repo.delete_for_owner(ctx.db, user_id)


register(DataHolder(name=NAME, description="Your conversations and every message in them.",
                    export=export, delete=delete,
                    collections=(Owned(repo.CONVERSATIONS),
                                 Owned(repo.MESSAGES,
                                       parents=(("conversation_id", repo.CONVERSATIONS),)))))
