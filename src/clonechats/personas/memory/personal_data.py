"""What the memory domain holds about a person, registered with the privacy registry.

Export: every memory of every persona the person owns, as text with its source and dates (the
vectors are derived data and are left out). Delete: all of those memories.

Imported when the context opens (`context.PRIVACY_SOURCES`), which registers the holder.
"""

from typing import Any

from clonechats.personas.memory import recall, repo
from clonechats.privacy.registry import DataHolder, Owned, register

NAME = "memories"


async def export(ctx: Any, user_id: str) -> dict[str, Any]:
    return {"memories": [
        {"id": memory["_id"], "persona_id": memory["persona_id"], "text": memory["text"],
         "pinned": memory["pinned"], "source": memory["source"],
         "source_conversation_id": memory.get("source_conversation_id"),
         "created_at": memory["created_at"].isoformat(),
         "updated_at": memory["updated_at"].isoformat()}
        for memory in await repo.list_for_owner(ctx.db, user_id)
    ]}


async def delete(ctx: Any, user_id: str) -> int:
    deleted = await repo.delete_for_owner(ctx.db, user_id)
    recall.CACHE.clear()
    return deleted


register(DataHolder(
    name=NAME,
    description="Memories the person gave their personas (typed in, or kept from a chat).",
    export=export,
    delete=delete,
    collections=(Owned(repo.MEMORIES, parents=(("persona_id", "personas"),)),),
))
