"""What the memory domain holds about a person, registered with the privacy registry.

Export: every memory the person holds (of their own personas, and what other people's public
personas learnt from their chats), as text with its source and dates (the vectors are derived
data and are left out), and their learning switches. Delete: all of those.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.personas.memory import recall, repo
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "memories"


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {"memory_learning": [
        {"persona_id": pref["persona_id"], "learn_from_chats": pref["learn"]}
        for pref in await repo.prefs_for_user(ctx.db, user_id)
    ], "memories": [
        {"id": memory["_id"], "persona_id": memory["persona_id"], "text": memory["text"],
         "pinned": memory["pinned"], "source": memory["source"],
         "source_conversation_id": memory.get("source_conversation_id"),
         "source_message_id": memory.get("source_message_id"),
         "created_at": memory["created_at"].isoformat(),
         "updated_at": memory["updated_at"].isoformat()}
        for memory in await repo.list_for_owner(ctx.db, user_id)
    ]}


async def delete(ctx: Ctx, user_id: str) -> int:
    deleted = await repo.delete_for_owner(ctx.db, user_id)
    deleted += await repo.delete_prefs_for_user(ctx.db, user_id)
    recall.CACHE.clear()
    return deleted


register(DataHolder(
    name=NAME,
    description="Memories the person gave personas (typed in, or learnt from what they said in "
                "a chat, also with other people's public personas) and their choice of whether "
                "a persona learns from their chats.",
    export=export,
    delete=delete,
    collections=(Owned(repo.MEMORIES, parents=(("persona_id", "personas"),)),
                 Owned(repo.PREFS, owner_field="user_id")),
))
