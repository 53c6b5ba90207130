"""The `personas` collection: the only code that reads or writes it.

A persona document:
    _id, owner_id, name, tagline, traits [str], tone, system_prompt, system_prompt_public,
    sliders {name: 0..100}, greeting, example_dialogue, visibility "private" | "public",
    avatar_media_id, reference_image_ids [str], reference_voice_id, model,
    share_id (None until shared), favourite_count, created_at, updated_at
"""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.indexes import Index

PERSONAS = "personas"

INDEXES = [
    Index(PERSONAS, [("owner_id", 1), ("updated_at", -1)]),
    Index(PERSONAS, [("share_id", 1)], unique=True, sparse=True),
    Index(PERSONAS, [("visibility", 1), ("created_at", -1)]),
    Index(PERSONAS, [("visibility", 1), ("favourite_count", -1)]),
]


def new_persona_id() -> str:
    return secrets.token_hex(12)


async def insert(db: Any, persona: dict[str, Any]) -> dict[str, Any]:
    await db[PERSONAS].insert_one(persona)
    return persona


async def get(db: Any, persona_id: str) -> dict[str, Any] | None:
    return await db[PERSONAS].find_one({"_id": persona_id})


async def get_by_share_id(db: Any, share_id: str) -> dict[str, Any] | None:
    return await db[PERSONAS].find_one({"share_id": share_id})


async def update(db: Any, persona_id: str, changes: dict[str, Any], *,
                 owner_id: str | None = None, now: datetime) -> dict[str, Any] | None:
    query: dict[str, Any] = {"_id": persona_id}
    if owner_id is not None:
        query["owner_id"] = owner_id
    return await db[PERSONAS].find_one_and_update(
        query, {"$set": {**changes, "updated_at": now}}, return_document=ReturnDocument.AFTER,
    )


async def delete(db: Any, persona_id: str, *, owner_id: str) -> bool:
    result = await db[PERSONAS].delete_one({"_id": persona_id, "owner_id": owner_id})
    return result.deleted_count == 1


async def list_for_owner(db: Any, owner_id: str, *, limit: int,
                         skip: int = 0) -> list[dict[str, Any]]:
    return await db[PERSONAS].find({"owner_id": owner_id}).sort("updated_at", -1).skip(
        skip).limit(limit).to_list()


async def ids_for_owner(db: Any, owner_id: str) -> list[str]:
    return [p["_id"] for p in await db[PERSONAS].find({"owner_id": owner_id}).to_list()]
