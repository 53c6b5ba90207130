"""The `jobs` collection: the only code that reads or writes it."""

import secrets
from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

COLLECTION = "jobs"
COLLECTIONS = (COLLECTION,)
EXPIRING = Expiring(COLLECTION)

INDEXES = [
    Index(COLLECTION, [("status", 1), ("run_at", 1)]),
    Index(COLLECTION, [("status", 1), ("lease_until", 1)]),
    Index(COLLECTION, [("dedupe_key", 1)], unique=True, sparse=True),
    Index(COLLECTION, [("status", 1), ("finished_at", 1)]),
]

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"


async def insert(db: Any, *, kind: str, payload: dict[str, Any], run_at: datetime,
                 now: datetime, max_attempts: int, dedupe_key: str | None) -> dict[str, Any]:
    job = {
        "_id": secrets.token_hex(12),
        "kind": kind,
        "payload": payload,
        "status": QUEUED,
        "run_at": run_at,
        "attempts": 0,
        "max_attempts": max_attempts,
        "lease_owner": None,
        "lease_until": None,
        "last_error": None,
        "created_at": now,
        "finished_at": None,
    }
    if dedupe_key is not None:
        job["dedupe_key"] = dedupe_key
    await db[COLLECTION].insert_one(job)
    return job


async def get(db: Any, job_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": job_id})


async def get_by_dedupe_key(db: Any, dedupe_key: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"dedupe_key": dedupe_key})


async def claim_next(db: Any, *, owner: str, now: datetime,
                     lease: timedelta) -> dict[str, Any] | None:
    """Atomically take the oldest due job, or else one whose runner's lease has expired. Two
    plain queries rather than one `$or`: each can use its index, where an `$or` made the
    embedded engine scan the whole collection on every poll."""
    take = {"$set": {"status": RUNNING, "lease_owner": owner, "lease_until": now + lease},
            "$inc": {"attempts": 1}}
    for due in ({"status": QUEUED, "run_at": {"$lte": now}},
                {"status": RUNNING, "lease_until": {"$lt": now}}):
        job = await db[COLLECTION].find_one_and_update(
            due, take, sort=[("run_at", 1)], return_document=ReturnDocument.AFTER)
        if job is not None:
            return job
    return None


async def prune_done(db: Any, *, finished_before: datetime) -> int:
    """Remove jobs that finished well before now (dead ones stay, for the admin to see). A
    dedupe key stops repeats only while its job is kept: callers' own keys (the ledger's,
    an email's idempotency key) guard anything that must never happen twice."""
    result = await db[COLLECTION].delete_many({"status": DONE,
                                               "finished_at": {"$lt": finished_before}})
    return result.deleted_count


async def extend_lease(db: Any, job_id: str, *, owner: str, until: datetime) -> bool:
    result = await db[COLLECTION].update_one(
        {"_id": job_id, "status": RUNNING, "lease_owner": owner},
        {"$set": {"lease_until": until}},
    )
    return result.modified_count == 1


async def finish(db: Any, job_id: str, *, owner: str, now: datetime) -> bool:
    result = await db[COLLECTION].update_one(
        {"_id": job_id, "status": RUNNING, "lease_owner": owner},
        {"$set": {"status": DONE, "finished_at": now, "lease_owner": None, "lease_until": None}},
    )
    return result.modified_count == 1


async def fail(db: Any, job_id: str, *, owner: str, error: str, retry_at: datetime | None,
               now: datetime) -> bool:
    """Put the job back for a retry at `retry_at`, or dead-letter it when `retry_at` is None."""
    changes: dict[str, Any] = {"last_error": error[:2000], "lease_owner": None,
                               "lease_until": None}
    if retry_at is None:
        changes.update(status=DEAD, finished_at=now)
    else:
        changes.update(status=QUEUED, run_at=retry_at)
    result = await db[COLLECTION].update_one(
        {"_id": job_id, "status": RUNNING, "lease_owner": owner}, {"$set": changes}
    )
    return result.modified_count == 1


async def count_by_status(db: Any) -> dict[str, int]:
    cursor = await db[COLLECTION].aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])
    return {row["_id"]: row["n"] for row in await cursor.to_list()}


async def list_by_status(db: Any, status: str, *, limit: int = 50) -> list[dict[str, Any]]:
    cursor = db[COLLECTION].find({"status": status}).sort("run_at", -1).limit(limit)
    return await cursor.to_list()


async def finished(db: Any) -> list[dict[str, Any]]:
    """Every job done or dead (still kept until its retention ends)."""
    return await db[COLLECTION].find({"status": {"$in": [DONE, DEAD]}}).to_list()


async def delete_if_status(db: Any, job_id: str, status: str) -> int:
    """Remove the job if it is still in `status`; how many went (0 or 1)."""
    return (await db[COLLECTION].delete_one({"_id": job_id, "status": status})).deleted_count


async def delete_finished_or_queued(db: Any, *, kind: str, payload_match: dict[str, Any]) -> int:
    """Remove jobs of `kind` whose payload matches (privacy deletion); running ones are left to
    finish, as their runner holds a lease on them."""
    query = {"kind": kind, "status": {"$in": [QUEUED, DONE, DEAD]},
             **{f"payload.{key}": value for key, value in payload_match.items()}}
    return (await db[COLLECTION].delete_many(query)).deleted_count
