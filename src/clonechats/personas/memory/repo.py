"""The `memories` and `memory_states` collections: the only code that reads or writes them.

A memory document:
    _id, persona_id, owner_id, text (1-1000 characters), pinned (bool),
    source "user" | "chat", source_conversation_id (only when source is "chat"),
    created_at, updated_at,
    version   a random 48-bit number replaced on every write (text, pin or vector); a vector
              computed in the background is stored only if the version is unchanged,
    embedding {model_id, dimensions, vector} or None while the vector is pending (the
              provider failed or the model changed). `vector` holds the float32 values
              little-endian as binary: the model's own precision, a third of the size of a BSON
              array of doubles, and 4-6x faster to read back on the embedded engine.

Memories learnt from a chat (source "chat") also carry `source_message_id` (the user message
they were learnt from) and `fact_key` (what the fact is about, so a newer statement replaces
the older one). Their `owner_id` is the user who said it, who need not own the persona: a
public persona's memories of each user stay that user's own.

A `memory_prefs` document per user and persona, `{_id: "<user>:<persona>", user_id,
persona_id, learn}`, exists once the user turned learning from chats off (or on again).

A state document per persona with memories, `{_id: persona_id, token}`, gets a new random token
after every write to that persona's memories, so a process holding a copy of them (the recall
index) can tell with one read by id whether its copy is still current. (Counting the memories
or reading their latest update instead costs a scan of all of them on the embedded engine:
about 0.3 s at 10,000.)
"""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

MEMORIES = "memories"
STATES = "memory_states"
PREFS = "memory_prefs"
COLLECTIONS = (MEMORIES, STATES, PREFS)

INDEXES = [
    Index(MEMORIES, [("persona_id", 1), ("pinned", -1), ("created_at", -1), ("_id", -1)]),
    Index(MEMORIES, [("owner_id", 1)]),
    Index(MEMORIES, [("owner_id", 1), ("persona_id", 1), ("pinned", -1), ("created_at", -1),
                     ("_id", -1)]),
    Index(PREFS, [("user_id", 1)]),
]

WITHOUT_VECTOR = {"embedding.vector": 0}
PAGE_ORDER = [("pinned", -1), ("created_at", -1), ("_id", -1)]


def new_memory_id() -> str:
    return secrets.token_hex(12)


def new_version() -> int:
    return secrets.randbits(48)


async def touch(db: Any, persona_id: str) -> None:
    """Mark the persona's memories as changed (after the change is written)."""
    await db[STATES].update_one({"_id": persona_id}, {"$set": {"token": new_version()}},
                                upsert=True)


async def state_token(db: Any, persona_id: str) -> int | None:
    state = await db[STATES].find_one({"_id": persona_id})
    return state["token"] if state else None


async def insert(db: Any, memory: dict[str, Any]) -> dict[str, Any]:
    await db[MEMORIES].insert_one(memory)
    await touch(db, memory["persona_id"])
    return memory


async def insert_many(db: Any, memories: list[dict[str, Any]]) -> int:
    if not memories:
        return 0
    await db[MEMORIES].insert_many(memories)
    for persona_id in {memory["persona_id"] for memory in memories}:
        await touch(db, persona_id)
    return len(memories)


async def get(db: Any, *, persona_id: str, memory_id: str) -> dict[str, Any] | None:
    return await db[MEMORIES].find_one({"_id": memory_id, "persona_id": persona_id})


async def update(db: Any, *, persona_id: str, memory_id: str, changes: dict[str, Any],
                 now: datetime) -> dict[str, Any] | None:
    updated = await db[MEMORIES].find_one_and_update(
        {"_id": memory_id, "persona_id": persona_id},
        {"$set": {**changes, "updated_at": now, "version": new_version()}},
        return_document=ReturnDocument.AFTER,
    )
    if updated is not None:
        await touch(db, persona_id)
    return updated


async def set_embedding(db: Any, *, persona_id: str, memory_id: str, version: int,
                        embedding: dict[str, Any]) -> bool:
    """Store a vector computed for the memory as it was at `version`; an edit made since wins."""
    result = await db[MEMORIES].update_one(
        {"_id": memory_id, "persona_id": persona_id, "version": version},
        {"$set": {"embedding": embedding, "version": new_version()}},
    )
    if result.modified_count != 1:
        return False
    await touch(db, persona_id)
    return True


async def delete(db: Any, *, persona_id: str, memory_id: str) -> bool:
    result = await db[MEMORIES].delete_one({"_id": memory_id, "persona_id": persona_id})
    if result.deleted_count != 1:
        return False
    await touch(db, persona_id)
    return True


async def delete_for_persona(db: Any, persona_id: str) -> int:
    deleted = (await db[MEMORIES].delete_many({"persona_id": persona_id})).deleted_count
    await db[STATES].delete_one({"_id": persona_id})
    return deleted


async def delete_for_owner(db: Any, owner_id: str) -> int:
    persona_ids = await db[MEMORIES].distinct("persona_id", {"owner_id": owner_id})
    deleted = (await db[MEMORIES].delete_many({"owner_id": owner_id})).deleted_count
    if persona_ids:
        await db[STATES].delete_many({"_id": {"$in": persona_ids}})
    return deleted


async def count(db: Any, persona_id: str, *, pinned: bool | None = None) -> int:
    query: dict[str, Any] = {"persona_id": persona_id}
    if pinned is not None:
        query["pinned"] = pinned
    return await db[MEMORIES].count_documents(query)


async def count_pinned_by(db: Any, *, persona_id: str, owner_id: str) -> int:
    """Memories of this persona that `owner_id` pinned."""
    return await db[MEMORIES].count_documents({"persona_id": persona_id, "owner_id": owner_id,
                                               "pinned": True})


async def all_for_persona(db: Any, persona_id: str,
                          owner_id: str | None = None) -> list[dict[str, Any]]:
    """Every memory of the persona (only `owner_id`'s when given) with its vector, newest
    first."""
    query: dict[str, Any] = {"persona_id": persona_id}
    if owner_id is not None:
        query["owner_id"] = owner_id
    return await (db[MEMORIES].find(query).sort([("created_at", -1), ("_id", -1)]).to_list())


async def needing_embedding(db: Any, persona_id: str, *, model_id: str,
                            limit: int) -> list[dict[str, Any]]:
    """Memories without a vector from `model_id` (none yet, or one from another model)."""
    return await (db[MEMORIES].find({"persona_id": persona_id, "$or": [
        {"embedding": None}, {"embedding.model_id": {"$ne": model_id}},
    ]}, {"text": 1, "version": 1}).limit(limit).to_list())


async def list_for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await (db[MEMORIES].find({"owner_id": owner_id}, WITHOUT_VECTOR)
                  .sort([("persona_id", 1), ("created_at", 1)]).to_list())


async def page(db: Any, persona_id: str, *, limit: int, cursor: str | None = None,
               owner_id: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the persona's memories (only `owner_id`'s when given), pinned first then
    newest, and the next cursor."""
    query: dict[str, Any] = {"persona_id": persona_id}
    if owner_id is not None:
        query["owner_id"] = owner_id
    return await fetch_page(db[MEMORIES], query, order=PAGE_ORDER,
                            limit=limit, cursor=cursor, kinds=(bool, datetime, str),
                            projection=WITHOUT_VECTOR)


async def find_fact(db: Any, *, persona_id: str, owner_id: str,
                    fact_key: str) -> dict[str, Any] | None:
    return await db[MEMORIES].find_one({"persona_id": persona_id, "owner_id": owner_id,
                                        "fact_key": fact_key}, WITHOUT_VECTOR)


async def learnt_from(db: Any, *, persona_id: str, owner_id: str,
                      message_id: str) -> list[dict[str, Any]]:
    return await (db[MEMORIES].find({"persona_id": persona_id, "owner_id": owner_id,
                                     "source_message_id": message_id}, WITHOUT_VECTOR)
                  .sort([("created_at", 1), ("_id", 1)]).to_list())


async def learning_enabled(db: Any, *, user_id: str, persona_id: str) -> bool:
    pref = await db[PREFS].find_one({"_id": f"{user_id}:{persona_id}"})
    return True if pref is None else bool(pref["learn"])


async def set_learning(db: Any, *, user_id: str, persona_id: str, enabled: bool) -> None:
    await db[PREFS].update_one({"_id": f"{user_id}:{persona_id}"}, {"$set": {
        "user_id": user_id, "persona_id": persona_id, "learn": enabled}}, upsert=True)


async def prefs_for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[PREFS].find({"user_id": user_id}).sort([("_id", 1)]).to_list()


async def delete_prefs_for_user(db: Any, user_id: str) -> int:
    return (await db[PREFS].delete_many({"user_id": user_id})).deleted_count
