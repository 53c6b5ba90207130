"""The privacy domain's collections: the only code that reads or writes them.

- `privacy_settings`  {_id: user_id, analytics_opt_in, updated_at}
- `consent_history`   append-only {_id, user_id, what, value, at, policy_version}
- `privacy_exports`   {_id, user_id, status, progress, created_at, started_at, ready_at,
                       expires_at, file, size_bytes, error}
- `account_deletions` {_id, user_id, email, display_name, requested_at, status, finished_at,
                       subject, counts}; user_id, email and display_name are removed when done
- `data_requests`     {_id, user_id, email, kind, message, status, source, created_at, due_at,
                       updated_at, closed_at, notes: [{at, text}]}
- `policy_versions`   {_id: version, first_seen_at, policy_date, material}
- `analytics_daily`   {_id: "day|kind|name", day, kind, name, count}: anonymous counts only
"""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument

from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

SETTINGS = "privacy_settings"
CONSENTS = "consent_history"
EXPORTS = "privacy_exports"
DELETIONS = "account_deletions"
REQUESTS = "data_requests"
POLICY_VERSIONS = "policy_versions"
ANALYTICS = "analytics_daily"
COLLECTIONS = (SETTINGS, CONSENTS, EXPORTS, DELETIONS, REQUESTS, POLICY_VERSIONS, ANALYTICS)
EXPORTS_EXPIRING = Expiring(EXPORTS)
REQUESTS_EXPIRING = Expiring(REQUESTS)
DELETIONS_EXPIRING = Expiring(DELETIONS)

INDEXES = [
    Index(CONSENTS, [("user_id", 1), ("at", 1)]),
    Index(EXPORTS, [("user_id", 1), ("created_at", -1)]),
    Index(EXPORTS, [("expires_at", 1)]),
    Index(DELETIONS, [("status", 1)]),
    Index(REQUESTS, [("status", 1), ("due_at", 1), ("_id", 1)]),
    Index(REQUESTS, [("user_id", 1), ("created_at", -1)]),
    Index(ANALYTICS, [("day", 1)]),
]


def new_id() -> str:
    return secrets.token_hex(12)


# Settings and consent history.

async def get_settings(db: Any, user_id: str) -> dict[str, Any] | None:
    return await db[SETTINGS].find_one({"_id": user_id})


async def set_settings(db: Any, user_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    return await db[SETTINGS].find_one_and_update(
        {"_id": user_id}, {"$set": changes}, upsert=True, return_document=ReturnDocument.AFTER)


async def add_consent(db: Any, *, user_id: str, what: str, value: Any, now: datetime,
                      policy_version: str) -> dict[str, Any]:
    entry = {"_id": new_id(), "user_id": user_id, "what": what, "value": value, "at": now,
             "policy_version": policy_version}
    await db[CONSENTS].insert_one(entry)
    return entry


async def consents_of(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[CONSENTS].find({"user_id": user_id}).sort([("at", 1), ("_id", 1)]).to_list()


# Exports.

async def insert_export(db: Any, export: dict[str, Any]) -> dict[str, Any]:
    await db[EXPORTS].insert_one(export)
    return export


async def get_export(db: Any, export_id: str) -> dict[str, Any] | None:
    if not isinstance(export_id, str):
        return None
    return await db[EXPORTS].find_one({"_id": export_id})


async def unfinished_export(db: Any, user_id: str) -> dict[str, Any] | None:
    return await db[EXPORTS].find_one({"user_id": user_id,
                                       "status": {"$in": ["queued", "running"]}})


async def update_export(db: Any, export_id: str, changes: dict[str, Any]) -> None:
    await db[EXPORTS].update_one({"_id": export_id}, {"$set": changes})


async def exports_of(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[EXPORTS].find({"user_id": user_id}).sort("created_at", -1).to_list()


async def delete_export(db: Any, export_id: str) -> int:
    return (await db[EXPORTS].delete_one({"_id": export_id})).deleted_count


# Account deletions.

async def insert_deletion(db: Any, deletion: dict[str, Any]) -> dict[str, Any]:
    await db[DELETIONS].insert_one(deletion)
    return deletion


async def get_deletion(db: Any, deletion_id: str) -> dict[str, Any] | None:
    return await db[DELETIONS].find_one({"_id": deletion_id})


async def finish_deletion(db: Any, deletion_id: str, *, subject: str, counts: dict[str, int],
                          now: datetime) -> None:
    """Keep only a pseudonym and the counts: the deletion record names no one."""
    await db[DELETIONS].update_one(
        {"_id": deletion_id},
        {"$set": {"status": "done", "finished_at": now, "subject": subject, "counts": counts},
         "$unset": {"user_id": "", "email": "", "display_name": ""}})


# Data requests.

async def insert_request(db: Any, request: dict[str, Any]) -> dict[str, Any]:
    await db[REQUESTS].insert_one(request)
    return request


async def get_request(db: Any, request_id: str) -> dict[str, Any] | None:
    if not isinstance(request_id, str):
        return None
    return await db[REQUESTS].find_one({"_id": request_id})


async def requests_of(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[REQUESTS].find({"user_id": user_id}).sort("created_at", -1).to_list()


async def request_queue(db: Any, *, statuses: list[str], limit: int, cursor: str | None = None,
                        ) -> tuple[list[dict[str, Any]], str | None]:
    """Requests in `statuses`, earliest deadline first (overdue ones lead by construction),
    and the next page's cursor."""
    return await fetch_page(db[REQUESTS], {"status": {"$in": statuses}},
                            order=[("due_at", 1), ("_id", 1)], limit=limit, cursor=cursor,
                            kinds=(datetime, str))


async def update_request(db: Any, request_id: str, changes: dict[str, Any],
                         note: dict[str, Any] | None = None) -> dict[str, Any] | None:
    update: dict[str, Any] = {"$set": changes}
    if note is not None:
        update["$push"] = {"notes": note}
    return await db[REQUESTS].find_one_and_update({"_id": request_id}, update,
                                                  return_document=ReturnDocument.AFTER)


# Removal of everything a user holds here (account deletion).

async def delete_for_user(db: Any, user_id: str) -> dict[str, Any]:
    exports = await exports_of(db, user_id)
    counts = {
        "settings": (await db[SETTINGS].delete_one({"_id": user_id})).deleted_count,
        "consents": (await db[CONSENTS].delete_many({"user_id": user_id})).deleted_count,
        "requests": (await db[REQUESTS].delete_many({"user_id": user_id})).deleted_count,
        "exports": (await db[EXPORTS].delete_many({"user_id": user_id})).deleted_count,
    }
    return {"counts": counts, "export_files": [e.get("file") for e in exports if e.get("file")]}


# Policy versions.

async def record_policy_version(db: Any, *, version: str, now: datetime, policy_date: str,
                                material: bool) -> dict[str, Any]:
    """The version's record, created the first time any process sees it."""
    return await db[POLICY_VERSIONS].find_one_and_update(
        {"_id": version},
        {"$setOnInsert": {"first_seen_at": now, "policy_date": policy_date,
                          "material": material}},
        upsert=True, return_document=ReturnDocument.AFTER)


async def policy_versions(db: Any) -> list[dict[str, Any]]:
    return await db[POLICY_VERSIONS].find({}).sort("first_seen_at", 1).to_list()


# Analytics (anonymous daily counts).

async def count_event(db: Any, *, day: str, kind: str, name: str) -> None:
    await db[ANALYTICS].update_one(
        {"_id": f"{day}|{kind}|{name}"},
        {"$inc": {"count": 1}, "$setOnInsert": {"day": day, "kind": kind, "name": name}},
        upsert=True)


async def analytics_since(db: Any, day: str) -> list[dict[str, Any]]:
    return await db[ANALYTICS].find({"day": {"$gte": day}}).sort(
        [("day", -1), ("count", -1)]).to_list()
