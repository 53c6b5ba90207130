"""The `persona_favourites` collection: the only code that reads or writes it.

A favourite document: _id ("<user_id>:<persona_id>", so one per pair on every engine),
user_id, persona_id, created_at. A persona's `favourite_count` moves only when an insert or a
delete here really happened, so repeated or concurrent requests cannot drift it.
"""

from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.personas import repo as persona_repo
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

FAVOURITES = "persona_favourites"
COLLECTIONS = (FAVOURITES,)
PAGE_ORDER = [("created_at", -1), ("_id", -1)]

INDEXES = [
    Index(FAVOURITES, [("user_id", 1), ("persona_id", 1)], unique=True),
    Index(FAVOURITES, [("user_id", 1), ("created_at", -1)]),
    Index(FAVOURITES, [("persona_id", 1)]),
]


def favourite_id(user_id: str, persona_id: str) -> str:
    return f"{user_id}:{persona_id}"


async def add(db: Any, *, user_id: str, persona_id: str, now: datetime) -> bool:
    """Record the favourite; True if it is new (and the persona's count went up)."""
    try:
        await db[FAVOURITES].insert_one({"_id": favourite_id(user_id, persona_id),
                                         "user_id": user_id, "persona_id": persona_id,
                                         "created_at": now})
    except DuplicateKeyError:
        return False
    await persona_repo.change_favourite_count(db, persona_id, 1)
    return True


async def remove(db: Any, *, user_id: str, persona_id: str) -> bool:
    """Drop the favourite; True if there was one (and the persona's count went down)."""
    result = await db[FAVOURITES].delete_one({"_id": favourite_id(user_id, persona_id)})
    if result.deleted_count != 1:
        return False
    await persona_repo.change_favourite_count(db, persona_id, -1)
    return True


async def exists(db: Any, *, user_id: str, persona_id: str) -> bool:
    return await db[FAVOURITES].find_one({"_id": favourite_id(user_id, persona_id)}) is not None


async def page_for_user(db: Any, user_id: str, *, limit: int,
                        cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The user's favourites, newest first, and the next page's cursor."""
    return await fetch_page(db[FAVOURITES], {"user_id": user_id}, order=PAGE_ORDER,
                            limit=limit, cursor=cursor, kinds=(datetime, str))


async def for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[FAVOURITES].find({"user_id": user_id}).sort("created_at", 1).to_list()


async def delete_for_persona(db: Any, persona_id: str) -> int:
    return (await db[FAVOURITES].delete_many({"persona_id": persona_id})).deleted_count


async def delete_for_user(db: Any, user_id: str) -> int:
    """Remove every favourite the user made, taking each persona's count down with it."""
    removed = 0
    for favourite in await for_user(db, user_id):
        if await remove(db, user_id=user_id, persona_id=favourite["persona_id"]):
            removed += 1
    return removed
