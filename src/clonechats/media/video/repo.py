"""The `video_jobs` collection: one document per requested video reply. The only code that
touches it.

A job: _id, owner_id, message_id, conversation_id, persona_id, image_media_id (the persona
image with a face, chosen when the job was asked for), status (queued | rendering | done |
failed | cancelled), progress (0..1, only ever rises), estimated_s (length promised to the
quota), duration_s (the clip's, once done), month ("YYYY-MM", UTC, of the request), clip_id
(the clip this job makes, fixed when it is created, so however often the job runs there is at
most one), clip_ready (True once that clip exists), provider, provider_ref (the provider's
handle, kept while it renders), provider_job_id, polls (remote status checks so far),
finishing (set once the clip is being stored: from then on the job can no longer be
cancelled), credits_charged, error {code, message} | None, attempts, created_at, updated_at,
started_at, finished_at, and active_slot ("<owner_id>:<n>") while queued or rendering: a
unique sparse index on it makes "at most N running jobs per user" one atomic insert.
"""

from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clonechats.chat.repo import Message
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

VIDEO_JOBS = "video_jobs"
COLLECTIONS = (VIDEO_JOBS,)
EXPIRING = Expiring(VIDEO_JOBS)
QUEUED, RENDERING, DONE, FAILED, CANCELLED = ("queued", "rendering", "done", "failed",
                                              "cancelled")
ACTIVE = (QUEUED, RENDERING)
TERMINAL = (DONE, FAILED, CANCELLED)

INDEXES = [
    Index(VIDEO_JOBS, [("owner_id", 1), ("created_at", -1)]),
    Index(VIDEO_JOBS, [("owner_id", 1), ("month", 1)]),
    Index(VIDEO_JOBS, [("owner_id", 1), ("conversation_id", 1), ("created_at", -1)]),
    Index(VIDEO_JOBS, [("active_slot", 1)], unique=True, sparse=True),
    Index(VIDEO_JOBS, [("provider_job_id", 1)], sparse=True),
]


def new_job(*, job_id: str, clip_id: str, owner_id: str, message: Message,
            persona_id: str, image_media_id: str, estimated_s: float, provider: str,
            now: datetime) -> dict[str, Any]:
    return {
        "_id": job_id, "owner_id": owner_id, "message_id": message["_id"],
        "conversation_id": message["conversation_id"], "persona_id": persona_id,
        "image_media_id": image_media_id, "status": QUEUED, "progress": 0.0,
        "estimated_s": round(estimated_s, 3), "duration_s": None,
        "month": now.strftime("%Y-%m"), "clip_id": clip_id, "clip_ready": False,
        "provider": provider, "provider_ref": None, "provider_job_id": None, "polls": 0,
        "finishing": False, "credits_charged": 0, "error": None, "attempts": 0,
        "created_at": now, "updated_at": now, "started_at": None, "finished_at": None,
    }


async def insert_with_slot(db: Any, job: dict[str, Any], *, slots: int) -> bool:
    """Inserts the job holding one of the owner's `slots` running places; False if all are
    taken (by queued or rendering jobs)."""
    for slot in range(slots):
        try:
            await db[VIDEO_JOBS].insert_one({**job, "active_slot": f"{job['owner_id']}:{slot}"})
        except DuplicateKeyError:
            continue
        job["active_slot"] = f"{job['owner_id']}:{slot}"
        return True
    return False


async def get(db: Any, job_id: str) -> dict[str, Any] | None:
    if not isinstance(job_id, str):
        return None
    return await db[VIDEO_JOBS].find_one({"_id": job_id})


async def get_owned(db: Any, job_id: str, owner_id: str) -> dict[str, Any] | None:
    if not isinstance(job_id, str):
        return None
    return await db[VIDEO_JOBS].find_one({"_id": job_id, "owner_id": owner_id})


async def get_by_provider_job(db: Any, provider: str, provider_job_id: str
                              ) -> dict[str, Any] | None:
    return await db[VIDEO_JOBS].find_one({"provider": provider,
                                          "provider_job_id": provider_job_id})


async def _update(db: Any, query: dict[str, Any], changes: dict[str, Any]
                  ) -> dict[str, Any] | None:
    return await db[VIDEO_JOBS].find_one_and_update(query, changes,
                                                    return_document=ReturnDocument.AFTER)


async def start_rendering(db: Any, job: dict[str, Any], *,
                          now: datetime) -> dict[str, Any] | None:
    """queued -> rendering (or a rendering job taken over after its worker died)."""
    changes: dict[str, Any] = {"status": RENDERING, "updated_at": now}
    if job.get("started_at") is None:
        changes["started_at"] = now
    return await _update(db, {"_id": job["_id"], "status": {"$in": list(ACTIVE)}},
                         {"$set": changes, "$inc": {"attempts": 1}})


async def set_progress(db: Any, job_id: str, progress: float, *,
                       now: datetime) -> dict[str, Any] | None:
    return await _update(db, {"_id": job_id, "status": RENDERING},
                         {"$max": {"progress": round(min(max(progress, 0.0), 0.99), 3)},
                          "$set": {"updated_at": now}})


async def set_provider_ref(db: Any, job_id: str, ref: dict[str, Any], *, now: datetime) -> None:
    await db[VIDEO_JOBS].update_one({"_id": job_id}, {"$set": {
        "provider_ref": ref, "provider_job_id": ref["job_id"], "updated_at": now}})


async def set_voice(db: Any, job_id: str, voice: dict[str, Any] | None) -> None:
    """The voice the submitted request speaks with (kept for the clip)."""
    await db[VIDEO_JOBS].update_one({"_id": job_id}, {"$set": {"voice": voice}})


async def release_finishing(db: Any, job_id: str) -> None:
    """Undo `claim_finishing` (the charge failed): the job may be cancelled again."""
    await db[VIDEO_JOBS].update_one({"_id": job_id}, {"$set": {"finishing": False}})


async def count_poll(db: Any, job_id: str) -> int:
    job = await _update(db, {"_id": job_id}, {"$inc": {"polls": 1}})
    return int(job["polls"]) if job else 0


async def claim_finishing(db: Any, job_id: str, *, now: datetime) -> dict[str, Any] | None:
    """From here the clip is stored and the job cannot be cancelled any more."""
    return await _update(db, {"_id": job_id, "status": RENDERING},
                         {"$set": {"finishing": True, "updated_at": now}})


async def mark_clip_ready(db: Any, job_id: str, *, duration_s: float, credits: int) -> None:
    await db[VIDEO_JOBS].update_one({"_id": job_id}, {"$set": {
        "clip_ready": True, "duration_s": round(duration_s, 3), "credits_charged": credits}})


async def finish_done(db: Any, job_id: str, *, now: datetime) -> dict[str, Any] | None:
    return await _update(db, {"_id": job_id, "status": RENDERING},
                         {"$set": {"status": DONE, "progress": 1.0, "finished_at": now,
                                   "updated_at": now}, "$unset": {"active_slot": ""}})


async def fail(db: Any, job_id: str, *, code: str, message: str,
               now: datetime) -> dict[str, Any] | None:
    return await _update(db, {"_id": job_id, "status": {"$in": list(ACTIVE)}},
                         {"$set": {"status": FAILED, "error": {"code": code,
                                                                "message": message[:300]},
                                   "finished_at": now, "updated_at": now},
                          "$unset": {"active_slot": ""}})


async def cancel(db: Any, job_id: str, *, owner_id: str,
                 now: datetime) -> dict[str, Any] | None:
    """Cancels a queued or rendering job whose clip is not being stored yet."""
    return await _update(db, {"_id": job_id, "owner_id": owner_id,
                              "status": {"$in": list(ACTIVE)}, "finishing": {"$ne": True}},
                         {"$set": {"status": CANCELLED, "finished_at": now, "updated_at": now},
                          "$unset": {"active_slot": ""}})


async def fail_stale(db: Any, owner_id: str, *, before: datetime, now: datetime) -> int:
    """Fails the owner's queued or rendering jobs untouched since `before` (their job was
    dead-lettered without running, so nothing else will finish them) and frees their slots."""
    result = await db[VIDEO_JOBS].update_many(
        {"owner_id": owner_id, "status": {"$in": list(ACTIVE)}, "finishing": {"$ne": True},
         "updated_at": {"$lt": before}},
        {"$set": {"status": FAILED, "finished_at": now, "updated_at": now,
                  "error": {"code": "render_failed",
                            "message": "The video could not be made. Please try again."}},
         "$unset": {"active_slot": ""}})
    return result.modified_count


async def seconds_this_month(db: Any, owner_id: str, month: str) -> float:
    """Seconds of video the owner used or has on the way this month: a finished clip counts
    its length, a queued or rendering job its estimate; failed and cancelled jobs nothing."""
    jobs = await db[VIDEO_JOBS].find({"owner_id": owner_id, "month": month,
                                      "status": {"$in": [*ACTIVE, DONE]}}).to_list()
    return sum(float(j["duration_s"] if j["status"] == DONE and j.get("duration_s") is not None
                     else j["estimated_s"]) for j in jobs)


async def list_for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await db[VIDEO_JOBS].find({"owner_id": owner_id}).sort("created_at", 1).to_list()


async def list_for_conversation(db: Any, owner_id: str, conversation_id: str, *,
                                limit: int = 500) -> list[dict[str, Any]]:
    return await db[VIDEO_JOBS].find({"owner_id": owner_id, "conversation_id": conversation_id}
                                     ).sort("created_at", -1).limit(limit).to_list()


async def delete_for_owner(db: Any, owner_id: str) -> int:
    return (await db[VIDEO_JOBS].delete_many({"owner_id": owner_id})).deleted_count


async def delete_for_conversation(db: Any, owner_id: str, conversation_id: str) -> int:
    result = await db[VIDEO_JOBS].delete_many({"owner_id": owner_id,
                                               "conversation_id": conversation_id})
    return result.deleted_count
