"""The `rooms`, `room_turns` and `room_events` collections: the only code that touches them.

A room (a debate):
    _id, owner_id, kind "debate", topic, participants [{persona_id, name, tagline,
    avatar_media_id, model, muted, left}], rounds, moderator "auto" | "user", max_turn_words,
    status "ready" | "running" | "finished" | "stopped" | "failed", reason (why it stopped or
    failed: "stopped_by_owner", "insufficient_credits", "provider_unavailable"), step (the next
    planned step of an auto-moderated debate), floor {id, persona_id} | null (the speaker the
    user gave the floor to), pending [{id, kind, text, persona_id?}] (interjections and moderator
    actions waiting for the current turn to end), driver {owner, until} | null (the job writing
    the room, with a lease), closed (no work left: every event is written), summary, verdict,
    verdict_requested, credits_charged, failures (turns in a row that failed), share_id (absent
    until shared), created_at, updated_at, started_at, finished_at

A turn: _id, room_id, owner_id, seq (speaking order, unique in the room), step_key (the step it
was written for, unique in the room: a resumed step finds its turn instead of adding one),
round, kind, speaker {type, persona_id?}, text, status "streaming" | "complete" | "stopped" |
"blocked" | "failed", attempt, trimmed, moderation, withheld_text, model, usage,
credits_charged, reserved_credits, created_at, completed_at

An event: _id, room_id, seq (the SSE `id:`, unique in the room), name, data, created_at.
`append_event` reads the last seq and inserts the next one; the unique index makes a second
writer retry, so the seqs a reader sees only ever grow by one and none is skipped.
"""

import secrets
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

ROOMS, TURNS, EVENTS = "rooms", "room_turns", "room_events"
COLLECTIONS = (ROOMS, TURNS, EVENTS)
ROOM_ORDER = [("updated_at", -1), ("_id", -1)]

READY, RUNNING, FINISHED, STOPPED, FAILED = "ready", "running", "finished", "stopped", "failed"
ENDED = (FINISHED, STOPPED, FAILED)
STREAMING, COMPLETE, BLOCKED = "streaming", "complete", "blocked"
TURN_STOPPED, TURN_FAILED = "stopped", "failed"

INDEXES = [
    Index(ROOMS, [("owner_id", 1), ("updated_at", -1), ("_id", -1)]),
    Index(ROOMS, [("share_id", 1)], unique=True, sparse=True),
    Index(TURNS, [("room_id", 1), ("seq", 1)], unique=True),
    Index(TURNS, [("room_id", 1), ("step_key", 1)], unique=True, sparse=True),
    Index(TURNS, [("owner_id", 1)]),
    Index(EVENTS, [("room_id", 1), ("seq", 1)], unique=True),
]


def new_id() -> str:
    return secrets.token_hex(12)


# Rooms.

async def insert_room(db: Any, room: dict[str, Any]) -> dict[str, Any]:
    await db[ROOMS].insert_one({k: v for k, v in room.items()
                                if not (k == "share_id" and v is None)})
    return room


async def get_room(db: Any, room_id: str) -> dict[str, Any] | None:
    return await db[ROOMS].find_one({"_id": room_id})


async def get_owned(db: Any, room_id: str, owner_id: str) -> dict[str, Any] | None:
    return await db[ROOMS].find_one({"_id": room_id, "owner_id": owner_id})


async def get_by_share_id(db: Any, share_id: str) -> dict[str, Any] | None:
    return await db[ROOMS].find_one({"share_id": share_id})


async def page_rooms(db: Any, owner_id: str, *, limit: int,
                     cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    return await fetch_page(db[ROOMS], {"owner_id": owner_id}, order=ROOM_ORDER, limit=limit,
                            cursor=cursor, kinds=(datetime, str))


async def update_room(db: Any, room_id: str, query: dict[str, Any], changes: dict[str, Any],
                      *, unset: dict[str, Any] | None = None,
                      push: dict[str, Any] | None = None,
                      inc: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """One conditional update: `query` narrows the room (`{}` for none); None if no match."""
    operations: dict[str, Any] = {"$set": changes} if changes else {}
    if unset:
        operations["$unset"] = unset
    if push:
        operations["$push"] = push
    if inc:
        operations["$inc"] = inc
    return await db[ROOMS].find_one_and_update({"_id": room_id, **query}, operations,
                                               return_document=ReturnDocument.AFTER)


async def set_participant(db: Any, room_id: str, persona_id: str,
                          changes: dict[str, Any], *, query: dict[str, Any] | None = None,
                          ) -> dict[str, Any] | None:
    """Change one participant with a compare-and-set of the whole list (the positional `$`
    operator is not evaluated alike by both engines). None if the room or query no longer
    matches."""
    for _ in range(5):
        room = await db[ROOMS].find_one({"_id": room_id, **(query or {})})
        if room is None:
            return None
        people = [{**p, **changes} if p["persona_id"] == persona_id else p
                  for p in room["participants"]]
        updated = await db[ROOMS].find_one_and_update(
            {"_id": room_id, "participants": room["participants"], **(query or {})},
            {"$set": {"participants": people}}, return_document=ReturnDocument.AFTER)
        if updated is not None:
            return updated
    return None


async def take_driver(db: Any, room_id: str, *, owner: str, now: datetime,
                      until: datetime) -> dict[str, Any] | None:
    """Hold the room for one job (one conditional update); None while another job's lease
    has not expired."""
    return await db[ROOMS].find_one_and_update(
        {"_id": room_id, "$or": [{"driver": None}, {"driver.until": {"$lte": now}},
                                 {"driver.owner": owner}]},
        {"$set": {"driver": {"owner": owner, "until": until}}},
        return_document=ReturnDocument.AFTER)


async def renew_driver(db: Any, room_id: str, *, owner: str,
                       until: datetime) -> dict[str, Any] | None:
    """Extend the lease; None when this job no longer holds the room."""
    return await db[ROOMS].find_one_and_update(
        {"_id": room_id, "driver.owner": owner}, {"$set": {"driver.until": until}},
        return_document=ReturnDocument.AFTER)


async def release_driver(db: Any, room_id: str, *, owner: str) -> None:
    await db[ROOMS].update_one({"_id": room_id, "driver.owner": owner},
                               {"$set": {"driver": None}})


async def pop_pending(db: Any, room_id: str, *, owner: str, item_id: str) -> None:
    await db[ROOMS].update_one({"_id": room_id, "driver.owner": owner},
                               {"$pull": {"pending": {"id": item_id}}})


async def delete_room(db: Any, room_id: str) -> int:
    """The room first, so a job writing it loses its lease at its next renewal and stops;
    then its turns and events."""
    room = await db[ROOMS].delete_one({"_id": room_id})
    turns = await db[TURNS].delete_many({"room_id": room_id})
    events = await db[EVENTS].delete_many({"room_id": room_id})
    return events.deleted_count + turns.deleted_count + room.deleted_count


async def rooms_for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await db[ROOMS].find({"owner_id": owner_id}).sort("created_at", 1).to_list()


# Turns.

async def next_turn_seq(db: Any, room_id: str) -> int:
    last = await db[TURNS].find({"room_id": room_id}).sort("seq", -1).limit(1).to_list()
    return (last[0]["seq"] + 1) if last else 1


async def insert_turn(db: Any, turn: dict[str, Any]) -> dict[str, Any]:
    """Insert `turn` at the next free seq. If a turn for its `step_key` exists already (the
    step is being resumed), that one is returned and nothing is added."""
    while True:
        if turn.get("step_key"):
            existing = await db[TURNS].find_one({"room_id": turn["room_id"],
                                                 "step_key": turn["step_key"]})
            if existing is not None:
                return existing
        turn["seq"] = await next_turn_seq(db, turn["room_id"])
        document = {k: v for k, v in turn.items() if not (k == "step_key" and v is None)}
        try:
            await db[TURNS].insert_one(document)
        except DuplicateKeyError:
            continue  # another writer took this seq (or this step): look again
        return turn


async def update_turn(db: Any, turn_id: str, changes: dict[str, Any], *,
                      status: str | None = None) -> dict[str, Any] | None:
    query: dict[str, Any] = {"_id": turn_id}
    if status is not None:
        query["status"] = status
    return await db[TURNS].find_one_and_update(query, {"$set": changes},
                                               return_document=ReturnDocument.AFTER)


async def get_turn(db: Any, turn_id: str) -> dict[str, Any] | None:
    return await db[TURNS].find_one({"_id": turn_id})


async def delete_first_attempt(db: Any, turn_id: str) -> None:
    """Remove a turn never shown to viewers (its first attempt)."""
    await db[TURNS].delete_one({"_id": turn_id, "attempt": 1})


async def turns_of(db: Any, room_id: str) -> list[dict[str, Any]]:
    return await db[TURNS].find({"room_id": room_id}).sort("seq", 1).to_list()


async def turns_for_owner(db: Any, owner_id: str) -> list[dict[str, Any]]:
    return await db[TURNS].find({"owner_id": owner_id}).sort(
        [("room_id", 1), ("seq", 1)]).to_list()


# Events.

async def last_event_seq(db: Any, room_id: str) -> int:
    last = await db[EVENTS].find({"room_id": room_id}).sort("seq", -1).limit(1).to_list()
    return last[0]["seq"] if last else 0


async def append_event(db: Any, room_id: str, name: str, data: dict[str, Any], *,
                       now: datetime) -> int:
    while True:
        seq = await last_event_seq(db, room_id) + 1
        try:
            await db[EVENTS].insert_one({"_id": new_id(), "room_id": room_id, "seq": seq,
                                         "name": name, "data": data, "created_at": now})
        except DuplicateKeyError:
            continue
        return seq


async def first_event_of_turn(db: Any, room_id: str, turn_id: str) -> int | None:
    found = await db[EVENTS].find({"room_id": room_id, "name": "turn",
                                   "data.turn_id": turn_id}).sort("seq", 1).limit(1).to_list()
    return found[0]["seq"] if found else None


async def events_after(db: Any, room_id: str, *, after_seq: int,
                       limit: int = 500) -> list[dict[str, Any]]:
    return await db[EVENTS].find({"room_id": room_id, "seq": {"$gt": after_seq}}).sort(
        "seq", 1).limit(limit).to_list()


async def drop_token_events(db: Any, room_id: str) -> int:
    return (await db[EVENTS].delete_many({"room_id": room_id, "name": "token"})).deleted_count


async def delete_for_owner(db: Any, owner_id: str) -> int:
    """Every room of the owner with its turns and events, and any turn (with its room's
    events) left by an interrupted delete."""
    removed = 0
    for room in await rooms_for_owner(db, owner_id):
        removed += await delete_room(db, room["_id"])
    for room_id in await db[TURNS].distinct("room_id", {"owner_id": owner_id}):
        removed += await delete_room(db, room_id)
    return removed
