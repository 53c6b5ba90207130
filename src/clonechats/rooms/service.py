"""Debate rooms: setting one up, starting, interjecting, moderating, stopping, the verdict,
sharing and deleting. The turns themselves are written by the `rooms.advance` job
(`rooms.jobs`); this module only changes the room's state with conditional updates and queues
that job, so any web process can take any request. Another user's room is "not found",
whatever the operation. This module never imports the web framework.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from clonechats.billing import ledger
from clonechats.chat import screening
from clonechats.chat.replies import clean_text
from clonechats.errors import AppError, Conflict, NotFound
from clonechats.personas import service as persona_service
from clonechats.rooms import jobs, metering, plan, repo
from clonechats.rooms.schemas import RoomCreate
from clonechats.telemetry import events

if TYPE_CHECKING:
    from clonechats.context import Ctx


PAGE_SIZE, PAGE_MAX = 20, 100


class RoomNotFound(NotFound):
    code = "room_not_found"
    message = "No such debate."


class SpeakerNotFound(NotFound):
    code = "speaker_not_found"
    message = "That persona is not a speaker in this debate."


class RoomStateConflict(Conflict):
    code = "room_state"


class TextBlocked(AppError):
    code = "message_blocked"
    status = 422
    message = "This text was not accepted because it breaks the content rules."


async def _check_text(ctx: Ctx, *, user_id: str, text: str, subject: str, ref_id: str) -> None:
    result = await screening.check_input(ctx, text)  # fails closed: 503 when unavailable
    if result.flagged:
        await screening.flag(ctx, user_id=user_id, subject=subject, ref_id=ref_id,
                             result=result)
        reason = f" ({result.reason})" if result.reason else ""
        raise TextBlocked(f"This text was not accepted because it breaks the content "
                          f"rules{reason}.", details={"reason": result.reason})


async def create(ctx: Ctx, *, user_id: str, data: RoomCreate) -> dict[str, Any]:
    people = [await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
              for persona_id in data.persona_ids]
    room_id = repo.new_id()
    await _check_text(ctx, user_id=user_id, text=data.topic, subject="room_topic",
                      ref_id=room_id)
    now = ctx.clock.now()
    return await repo.insert_room(ctx.db, {
        "_id": room_id, "owner_id": user_id, "kind": data.kind, "topic": data.topic,
        "participants": [{"persona_id": p["_id"], "name": p["name"],
                          "tagline": p.get("tagline") or "",
                          "avatar_media_id": p.get("avatar_media_id"), "model": p.get("model"),
                          "muted": False, "left": False} for p in people],
        "rounds": data.rounds, "moderator": data.moderator,
        "max_turn_words": data.max_turn_words, "status": repo.READY, "reason": None,
        "step": 0, "round": 0, "floor": None, "pending": [], "driver": None, "closed": False,
        "summary": None, "verdict": None, "verdict_requested": False, "credits_charged": 0,
        "failures": 0, "share_id": None, "created_at": now, "updated_at": now,
        "started_at": None, "finished_at": None,
    })


async def get(ctx: Ctx, *, user_id: str, room_id: str) -> dict[str, Any]:
    room = await repo.get_owned(ctx.db, room_id, user_id)
    if room is None:
        raise RoomNotFound()
    return room


async def get_with_turns(ctx: Ctx, *, user_id: str,
                         room_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    return room, await repo.turns_of(ctx.db, room_id)


async def turns_of(ctx: Ctx, room: dict[str, Any]) -> list[dict[str, Any]]:
    return await repo.turns_of(ctx.db, room["_id"])


async def snapshot(ctx: Ctx, room: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """The room's turns and the event seq a page showing them follows the room from: the
    last event read before the turns, or, while a turn is being written, the event just
    before that turn began (the page leaves it to the live stream to write out)."""
    after = await repo.last_event_seq(ctx.db, room["_id"])
    turns = await repo.turns_of(ctx.db, room["_id"])
    for turn in turns:
        if turn["status"] == repo.STREAMING:
            began = await repo.first_event_of_turn(ctx.db, room["_id"], turn["_id"])
            if began is not None:
                after = min(after, began - 1)
    return after, turns


async def list_for_owner(ctx: Ctx, *, user_id: str, limit: int | None = None,
                         cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    if limit is not None and not 1 <= limit <= PAGE_MAX:
        raise AppError(f"limit must be between 1 and {PAGE_MAX}.", code="invalid_limit")
    return await repo.page_rooms(ctx.db, user_id, limit=limit or PAGE_SIZE, cursor=cursor)


async def _change(ctx: Ctx, room: dict[str, Any], query: dict[str, Any],
                  changes: dict[str, Any], refusal: str, **ops: Any) -> dict[str, Any]:
    updated = await repo.update_room(ctx.db, room["_id"], {"owner_id": room["owner_id"],
                                                           **query},
                                     {**changes, "updated_at": ctx.clock.now()}, **ops)
    if updated is None:
        raise RoomStateConflict(refusal)
    return updated


async def start(ctx: Ctx, *, user_id: str, room_id: str) -> dict[str, Any]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    if room["status"] != repo.READY:
        raise RoomStateConflict("This debate has already started.")
    if await ledger.balance(ctx.db, user_id) <= 0:
        await events.record_paywall_hit(ctx, user_id=user_id, feature=metering.PAYWALL_FEATURE)
        raise metering.InsufficientCredits("You have no credits left, and every turn of a "
                                           "debate costs credits. Buy a credit pack to start.")
    now = ctx.clock.now()
    room = await _change(ctx, room, {"status": repo.READY},
                         {"status": repo.RUNNING, "started_at": now},
                         "This debate has already started.")
    await repo.append_event(ctx.db, room_id, "status", {"status": repo.RUNNING, "reason": None,
                                                        "message": None}, now=now)
    await jobs.queue_advance(ctx, room_id)
    return room


def _pending_item(kind: str, text: str, **fields: Any) -> dict[str, Any]:
    return {"id": secrets.token_hex(8), "kind": kind, "text": text, **fields}


async def _queue(ctx: Ctx, room: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    most = ctx.settings.rooms.max_pending
    room = await _change(
        ctx, room, {"status": repo.RUNNING, f"pending.{most - 1}": {"$exists": False}}, {},
        "The debate is not running, or too much is already waiting for the current turn "
        "to end.", push={"pending": item})
    await jobs.queue_advance(ctx, room["_id"])
    return item


async def interject(ctx: Ctx, *, user_id: str, room_id: str, text: str) -> dict[str, Any]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    text = clean_text(ctx, text)
    if room["status"] != repo.RUNNING:
        raise RoomStateConflict("You can interject only while the debate is running.")
    await _check_text(ctx, user_id=user_id, text=text, subject="room_interjection",
                      ref_id=room_id)
    return await _queue(ctx, room, _pending_item("interjection", text))


async def stop(ctx: Ctx, *, user_id: str, room_id: str) -> dict[str, Any]:
    """Stop now (from any process): the turn being written ends as "stopped", then the
    summary is written. A debate that had ended already is left as it is."""
    room = await get(ctx, user_id=user_id, room_id=room_id)
    if room["status"] in repo.ENDED:
        return room
    now = ctx.clock.now()
    stopped = await repo.update_room(
        ctx.db, room_id, {"owner_id": user_id, "status": {"$in": [repo.READY, repo.RUNNING]}},
        {"status": repo.STOPPED, "reason": "stopped_by_owner", "finished_at": now,
         "updated_at": now})
    if stopped is None:
        return await get(ctx, user_id=user_id, room_id=room_id)
    await repo.append_event(ctx.db, room_id, "status", {
        "status": repo.STOPPED, "reason": "stopped_by_owner", "message": None}, now=now)
    await jobs.queue_advance(ctx, room_id)
    return stopped


def _speaker(room: dict[str, Any], persona_id: str) -> dict[str, Any]:
    found = plan.participant(room, persona_id)
    if found is None:
        raise SpeakerNotFound()
    return found


def _user_moderated(room: dict[str, Any]) -> None:
    if room["moderator"] != "user":
        raise RoomStateConflict("The platform moderates this debate; only a debate you "
                                "moderate takes these controls.")
    if room["status"] != repo.RUNNING:
        raise RoomStateConflict("The debate is not running.")


async def give_floor(ctx: Ctx, *, user_id: str, room_id: str,
                     persona_id: str) -> dict[str, Any]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    _user_moderated(room)
    speaker = _speaker(room, persona_id)
    if speaker.get("muted") or speaker.get("left"):
        raise RoomStateConflict(f"{speaker['name']} is muted or has left the debate.")
    spoken = await jobs.spoken_counts(ctx, room)
    if plan.user_turns_left(room, spoken, persona_id) <= 0:
        raise RoomStateConflict(f"{speaker['name']} has used all {room['rounds']} of their "
                                "turns.")
    room = await _change(ctx, room, {"status": repo.RUNNING, "floor": None},
                         {"floor": {"id": secrets.token_hex(8), "persona_id": persona_id}},
                         "Someone has the floor already: wait for their turn to end.")
    await jobs.queue_advance(ctx, room_id)
    return room


async def mute(ctx: Ctx, *, user_id: str, room_id: str, persona_id: str,
               muted: bool) -> dict[str, Any]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    _user_moderated(room)
    speaker = _speaker(room, persona_id)
    changed = await repo.set_participant(ctx.db, room_id, persona_id, {"muted": muted},
                                         query={"owner_id": user_id, "status": repo.RUNNING})
    if changed is None:
        raise RoomStateConflict("The debate is not running.")
    await _queue(ctx, changed, _pending_item("notice", plan.muted_line(speaker["name"], muted)))
    return changed


async def warn(ctx: Ctx, *, user_id: str, room_id: str, persona_id: str,
               text: str) -> dict[str, Any]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    _user_moderated(room)
    speaker = _speaker(room, persona_id)
    text = " ".join(text.split())
    if text:
        await _check_text(ctx, user_id=user_id, text=text, subject="room_interjection",
                          ref_id=room_id)
    return await _queue(ctx, room, _pending_item(
        "warning", plan.warning_line(speaker["name"], text), persona_id=persona_id))


async def request_verdict(ctx: Ctx, *, user_id: str, room_id: str) -> dict[str, Any]:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    if room.get("verdict") or room.get("verdict_requested"):
        return room
    if room["status"] not in (repo.FINISHED, repo.STOPPED) or not room.get("started_at"):
        raise RoomStateConflict("A verdict can be asked for once the debate has ended.")
    room = await _change(ctx, room, {"verdict": None},
                         {"verdict_requested": True, "closed": False},
                         "A verdict was written already.")
    await jobs.queue_advance(ctx, room_id)
    return room


async def share(ctx: Ctx, *, user_id: str, room_id: str) -> dict[str, Any]:
    """A new read-only public link, replacing any earlier one (which stops working)."""
    room = await get(ctx, user_id=user_id, room_id=room_id)
    return await _change(ctx, room, {}, {"share_id": secrets.token_urlsafe(9)},
                         "The debate changed; try again.")


async def unshare(ctx: Ctx, *, user_id: str, room_id: str) -> None:
    room = await get(ctx, user_id=user_id, room_id=room_id)
    await _change(ctx, room, {}, {}, "The debate changed; try again.",
                  unset={"share_id": ""})


async def get_public(ctx: Ctx, *, share_id: str) -> dict[str, Any]:
    room = await repo.get_by_share_id(ctx.db, share_id) if share_id else None
    if room is None:
        raise RoomNotFound()
    return room


async def delete(ctx: Ctx, *, user_id: str, room_id: str) -> None:
    await get(ctx, user_id=user_id, room_id=room_id)
    await repo.delete_room(ctx.db, room_id)
