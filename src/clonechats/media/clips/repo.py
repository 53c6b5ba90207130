"""The `clips` collection: generated audio and video replies. The only code that touches it.

A clip document:
    _id, owner_id, kind "voice" | "video", media_id (the file, a `media` document of kind
    "voice_clip" or "video"), poster_media_id (a video's still image, else None),
    persona_id, conversation_id, message_id (the persona message it speaks), seq (the
    sentence's number in a reply spoken as it streamed; None for a whole message),
    text (what is spoken), voice_id, rate, language, provider, provider_job_id,
    duration_s, timings (list of {start_s, end_s, phoneme, word}; may be empty),
    credits_charged, saved, created_at, expires_at (None once saved)
The file's `media` document carries the same `saved` flag, which the retention rule
`generated_media` reads; a clip whose file is deleted is deleted with it (`media.service`).
"""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

CLIPS = "clips"
COLLECTIONS = (CLIPS,)
VOICE, VIDEO = "voice", "video"
KINDS = (VOICE, VIDEO)
MEDIA_KINDS = {VOICE: "voice_clip", VIDEO: "video"}
"""The `media` kind of each clip kind's file: the kinds the retention rule `generated_media`
deletes after 90 days unless saved (`privacy.retention_rules.VOICE_CLIP`, `VIDEO`)."""
ORDER = [("created_at", -1), ("_id", -1)]

INDEXES = [
    Index(CLIPS, [("owner_id", 1), ("created_at", -1), ("_id", -1)]),
    Index(CLIPS, [("message_id", 1), ("kind", 1)]),
    Index(CLIPS, [("media_id", 1)]),
    Index(CLIPS, [("conversation_id", 1)]),
]


def new_clip(*, clip_id: str, owner_id: str, kind: str, media_id: str, persona_id: str | None,
             conversation_id: str | None, message_id: str | None, text: str, voice_id: str | None,
             rate: float | None, language: str | None, provider: str,
             provider_job_id: str | None, duration_s: float, timings: list[dict[str, Any]],
             credits_charged: int, now: datetime, expires_at: datetime | None,
             seq: int | None = None, poster_media_id: str | None = None) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown clip kind {kind!r}")
    return {
        "_id": clip_id, "owner_id": owner_id, "kind": kind, "media_id": media_id,
        "poster_media_id": poster_media_id, "persona_id": persona_id,
        "conversation_id": conversation_id, "message_id": message_id, "seq": seq,
        "text": text, "voice_id": voice_id, "rate": rate, "language": language,
        "provider": provider, "provider_job_id": provider_job_id,
        "duration_s": round(duration_s, 3), "timings": timings,
        "credits_charged": credits_charged, "saved": False, "created_at": now,
        "expires_at": expires_at,
    }


async def insert(db: Any, clip: dict[str, Any]) -> dict[str, Any]:
    await db[CLIPS].insert_one(clip)
    return clip


async def get_owned(db: Any, clip_id: str, owner_id: str) -> dict[str, Any] | None:
    if not isinstance(clip_id, str):
        return None
    return await db[CLIPS].find_one({"_id": clip_id, "owner_id": owner_id})


async def find_for_message(db: Any, *, owner_id: str, message_id: str, kind: str,
                           voice_id: str | None, rate: float | None) -> dict[str, Any] | None:
    """The newest whole-message clip already made with this voice and rate."""
    found = await db[CLIPS].find({"owner_id": owner_id, "message_id": message_id, "kind": kind,
                                  "seq": None, "voice_id": voice_id, "rate": rate}).sort(
        "created_at", -1).limit(1).to_list()
    return found[0] if found else None


async def voiced_message(db: Any, *, owner_id: str, message_id: str) -> dict[str, Any] | None:
    """A whole-message voice clip of this message (any voice), if one was made."""
    return await db[CLIPS].find_one({"owner_id": owner_id, "message_id": message_id,
                                     "kind": VOICE, "seq": None})


async def page_for_owner(db: Any, owner_id: str, *, limit: int, cursor: str | None = None,
                         kind: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    query: dict[str, Any] = {"owner_id": owner_id}
    if kind:
        query["kind"] = kind
    return await fetch_page(db[CLIPS], query, order=ORDER, limit=limit, cursor=cursor,
                            kinds=(datetime, str))


async def set_saved(db: Any, clip_id: str, owner_id: str, *, saved: bool,
                    expires_at: datetime | None) -> dict[str, Any] | None:
    return await db[CLIPS].find_one_and_update(
        {"_id": clip_id, "owner_id": owner_id},
        {"$set": {"saved": saved, "expires_at": expires_at}},
        return_document=ReturnDocument.AFTER)


async def list_for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await db[CLIPS].find({"owner_id": owner_id}).sort("created_at", 1).to_list()


async def list_for_message(db: Any, *, owner_id: str, message_id: str) -> list[dict[str, Any]]:
    return await db[CLIPS].find({"owner_id": owner_id, "message_id": message_id}).to_list()


async def list_for_conversation(db: Any, *, owner_id: str,
                                conversation_id: str) -> list[dict[str, Any]]:
    return await db[CLIPS].find({"owner_id": owner_id,
                                 "conversation_id": conversation_id}).to_list()


async def delete_for_media(db: Any, media_id: str) -> int:
    """Clips whose file (or poster) is this media document."""
    result = await db[CLIPS].delete_many({"$or": [{"media_id": media_id},
                                                  {"poster_media_id": media_id}]})
    return result.deleted_count


async def delete_for_owner(db: Any, owner_id: str) -> int:
    return (await db[CLIPS].delete_many({"owner_id": owner_id})).deleted_count
