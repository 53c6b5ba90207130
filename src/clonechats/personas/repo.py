"""The `personas` collection: the only code that reads or writes it.

A persona document:
    _id, owner_id, name, tagline, traits [str], tone, system_prompt, system_prompt_public,
    sliders {name: 0..100}, greeting, example_dialogue, visibility "private" | "public",
    avatar_media_id, reference_image_ids [str], reference_voice_id, model,
    share_id (absent until shared), favourite_count, chat_count (conversations ever started
    with it; absent on personas older than the count), created_at, updated_at

`share_id` is left out of the stored document, never stored as null, while a persona is not
shared: MongoDB's sparse unique index counts a null as a value, so two nulls would collide.
"""

import secrets
from datetime import datetime
from typing import Any, TypedDict

from pymongo import ReturnDocument

from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

PERSONAS = "personas"
COLLECTIONS = (PERSONAS,)


class Persona(TypedDict, total=False):
    _id: str
    owner_id: str
    name: str
    tagline: str
    traits: list[str]
    tone: str
    system_prompt: str
    system_prompt_public: bool
    sliders: dict[str, int]  # {name: 0..100}
    greeting: str
    example_dialogue: str
    visibility: str  # "private" | "public"
    avatar_media_id: str | None
    reference_image_ids: list[str]
    reference_voice_id: str | None
    voice: dict[str, Any] | None  # {voice_id, rate}: how it speaks (`voice`)
    model: str | None
    share_id: str | None  # absent until shared (see above)
    favourite_count: int
    chat_count: int  # conversations ever started with it; absent on older personas
    hidden_at: datetime  # hidden by moderation
    created_at: datetime
    updated_at: datetime

INDEXES = [
    Index(PERSONAS, [("owner_id", 1), ("updated_at", -1)]),
    Index(PERSONAS, [("share_id", 1)], unique=True, sparse=True),
    Index(PERSONAS, [("visibility", 1), ("created_at", -1)]),
    Index(PERSONAS, [("visibility", 1), ("favourite_count", -1)]),
]


def new_persona_id() -> str:
    return secrets.token_hex(12)


async def insert(db: Any, persona: Persona) -> Persona:
    document = {key: value for key, value in persona.items()
                if not (key == "share_id" and value is None)}
    await db[PERSONAS].insert_one(document)
    return persona


async def get(db: Any, persona_id: str) -> Persona | None:
    return await db[PERSONAS].find_one({"_id": persona_id})


async def get_by_share_id(db: Any, share_id: str) -> Persona | None:
    return await db[PERSONAS].find_one({"share_id": share_id})


async def update(db: Any, persona_id: str, changes: dict[str, Any], *,
                 owner_id: str | None = None, now: datetime) -> Persona | None:
    """Set `changes`; a `share_id` of None removes the field (see the module docstring)."""
    query: dict[str, Any] = {"_id": persona_id}
    if owner_id is not None:
        query["owner_id"] = owner_id
    changes = dict(changes)
    operations: dict[str, Any] = {}
    if "share_id" in changes and changes["share_id"] is None:
        del changes["share_id"]
        operations["$unset"] = {"share_id": ""}
    operations["$set"] = {**changes, "updated_at": now}
    return await db[PERSONAS].find_one_and_update(
        query, operations, return_document=ReturnDocument.AFTER,
    )


async def delete(db: Any, persona_id: str, *, owner_id: str) -> bool:
    result = await db[PERSONAS].delete_one({"_id": persona_id, "owner_id": owner_id})
    return result.deleted_count == 1


async def list_for_owner(db: Any, owner_id: str, *, limit: int,
                         skip: int = 0) -> list[Persona]:
    return await db[PERSONAS].find({"owner_id": owner_id}).sort("updated_at", -1).skip(
        skip).limit(limit).to_list()


async def get_many(db: Any, persona_ids: list[str]) -> dict[str, Persona]:
    found = await db[PERSONAS].find({"_id": {"$in": persona_ids}}).to_list()
    return {persona["_id"]: persona for persona in found}


async def change_favourite_count(db: Any, persona_id: str, delta: int) -> None:
    await db[PERSONAS].update_one({"_id": persona_id}, {"$inc": {"favourite_count": delta}})


async def count_chat_started(db: Any, persona_id: str) -> None:
    await db[PERSONAS].update_one({"_id": persona_id}, {"$inc": {"chat_count": 1}})


OWNER_ORDER = [("updated_at", -1), ("_id", -1)]
BROWSE_ORDERS = {
    "newest": [("created_at", -1), ("_id", -1)],
    "popular": [("favourite_count", -1), ("created_at", -1), ("_id", -1)],
}
BROWSE_KINDS = {"newest": (datetime, str), "popular": (int, datetime, str)}


async def page_for_owner(db: Any, owner_id: str, *, limit: int,
                         cursor: str | None = None) -> tuple[list[Persona], str | None]:
    """The owner's personas, most recently updated first, and the next page's cursor."""
    return await fetch_page(db[PERSONAS], {"owner_id": owner_id}, order=OWNER_ORDER,
                            limit=limit, cursor=cursor, kinds=(datetime, str))


async def browse(db: Any, *, pattern: str | None, sort: str, limit: int,
                 cursor: str | None = None,
                 tag_pattern: str | None = None) -> tuple[list[Persona], str | None]:
    """Public personas that have a share link, optionally matching `pattern` (an already
    escaped regular expression) in the name, tagline, any trait or the description (the system
    prompt, only where its owner made it public), and having a trait that matches
    `tag_pattern` whole, in `sort` order, by page."""
    conditions: list[dict[str, Any]] = [{"visibility": "public"},
                                        {"share_id": {"$exists": True, "$ne": None}}]
    if pattern is not None:
        match = {"$regex": pattern, "$options": "i"}
        conditions.append({"$or": [{"name": match}, {"tagline": match}, {"traits": match},
                                   {"system_prompt_public": True, "system_prompt": match}]})
    if tag_pattern is not None:
        conditions.append({"traits": {"$regex": f"^{tag_pattern}$", "$options": "i"}})
    return await fetch_page(db[PERSONAS], {"$and": conditions}, order=BROWSE_ORDERS[sort],
                            limit=limit, cursor=cursor, kinds=BROWSE_KINDS[sort])


async def for_owner(db: Any, owner_id: str) -> list[Persona]:
    return await db[PERSONAS].find({"owner_id": owner_id}).sort("created_at", 1).to_list()


async def with_reference_voice(db: Any, owner_id: str) -> list[Persona]:
    """The owner's personas that have a reference voice (for voice cloning)."""
    return await db[PERSONAS].find({"owner_id": owner_id,
                                    "reference_voice_id": {"$ne": None}}).to_list()


async def unpublish_for_owner(db: Any, owner_id: str) -> int:
    """Make every persona of `owner_id` private and kill its share link (account deletion)."""
    result = await db[PERSONAS].update_many(
        {"owner_id": owner_id, "$or": [{"visibility": "public"}, {"share_id": {"$ne": None}}]},
        {"$set": {"visibility": "private", "share_id": None}})
    return result.modified_count
