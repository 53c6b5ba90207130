"""The `media` collection: what is known about each stored file. The only code that touches it.

A media document:
    _id, owner_id, persona_id (None when the file belongs to no persona),
    kind "avatar" | "reference_image" | "reference_voice" (later: "voice_clip", "video"),
    key (the media store's key of the bytes), content_type (sniffed, or refined by decoding),
    size_bytes, sha256, width / height (images, else None), duration_seconds (audio, else None),
    created_at, saved (True once the file is meant to be kept; persona uploads always are)

The bytes live in the media store (``ctx.media``) under ``key``; a document is written only after
its file, and removed only together with it (see ``media.service``).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

MEDIA = "media"
COLLECTIONS = (MEDIA,)
EXPIRING = Expiring(MEDIA)

AVATAR = "avatar"
REFERENCE_IMAGE = "reference_image"
REFERENCE_VOICE = "reference_voice"

INDEXES = [
    Index(MEDIA, [("owner_id", 1), ("created_at", -1)]),
    Index(MEDIA, [("persona_id", 1), ("kind", 1), ("created_at", 1)]),
    Index(MEDIA, [("key", 1)]),
]


def new_media_id() -> str:
    return secrets.token_hex(12)


def new_media(*, owner_id: str, persona_id: str | None, kind: str, key: str, content_type: str,
              size_bytes: int, sha256: str, now: datetime, width: int | None = None,
              height: int | None = None, duration_seconds: float | None = None,
              saved: bool = True) -> dict[str, Any]:
    return {
        "_id": new_media_id(), "owner_id": owner_id, "persona_id": persona_id, "kind": kind,
        "key": key, "content_type": content_type, "size_bytes": size_bytes, "sha256": sha256,
        "width": width, "height": height, "duration_seconds": duration_seconds,
        "created_at": now, "saved": saved,
    }


async def insert(db: Any, media: dict[str, Any]) -> dict[str, Any]:
    await db[MEDIA].insert_one(media)
    return media


async def get(db: Any, media_id: str) -> dict[str, Any] | None:
    if not isinstance(media_id, str):
        return None
    return await db[MEDIA].find_one({"_id": media_id})


async def get_many(db: Any, media_ids: list[str]) -> list[dict[str, Any]]:
    if not media_ids:
        return []
    return await db[MEDIA].find({"_id": {"$in": list(media_ids)}}).to_list()


async def recorded_keys(db: Any, keys: list[str]) -> set[str]:
    """Those of `keys` that some media document names."""
    if not keys:
        return set()
    found = await db[MEDIA].find({"key": {"$in": list(keys)}}, {"key": 1}).to_list()
    return {document["key"] for document in found}


async def list_for_persona(db: Any, *, owner_id: str, persona_id: str,
                           kind: str | None = None) -> list[dict[str, Any]]:
    query: dict[str, Any] = {"owner_id": owner_id, "persona_id": persona_id}
    if kind is not None:
        query["kind"] = kind
    return await db[MEDIA].find(query).sort("created_at", 1).to_list()


async def count_for_persona(db: Any, *, persona_id: str, kind: str) -> int:
    return await db[MEDIA].count_documents({"persona_id": persona_id, "kind": kind})


async def list_for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await db[MEDIA].find({"owner_id": owner_id}).sort("created_at", 1).to_list()


async def bytes_for_owner(db: Any, owner_id: str, *, excluding: set[str]) -> int:
    """Total size of the owner's stored files, leaving out the documents in `excluding`."""
    found = await db[MEDIA].find({"owner_id": owner_id}, {"size_bytes": 1}).to_list()
    return sum(m.get("size_bytes") or 0 for m in found if m["_id"] not in excluding)


async def delete(db: Any, media_id: str, *, owner_id: str) -> bool:
    result = await db[MEDIA].delete_one({"_id": media_id, "owner_id": owner_id})
    return result.deleted_count == 1


async def delete_many(db: Any, media_ids: list[str], *, owner_id: str) -> int:
    if not media_ids:
        return 0
    result = await db[MEDIA].delete_many({"_id": {"$in": list(media_ids)},
                                          "owner_id": owner_id})
    return result.deleted_count


async def set_saved(db: Any, media_ids: list[str], *, owner_id: str, saved: bool) -> int:
    """Marks generated files as kept (or not) past the retention period."""
    if not media_ids:
        return 0
    result = await db[MEDIA].update_many({"_id": {"$in": list(media_ids)}, "owner_id": owner_id},
                                         {"$set": {"saved": saved}})
    return result.matched_count
