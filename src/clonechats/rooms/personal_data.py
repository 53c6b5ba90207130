"""What debate rooms hold about a person, registered with the privacy registry.

Export: every room they own (topic, speakers, settings, status, summary, verdict, cost) with
all its turns (speaker, round, text, status, credits, times). A withheld turn is exported as
the notice the person saw. Delete: every room they own, with its turns and its live events.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.rooms import repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "rooms"
ROOM_FIELDS = ("kind", "topic", "rounds", "moderator", "max_turn_words", "status", "reason",
               "summary", "verdict", "credits_charged", "created_at", "started_at",
               "finished_at")
TURN_FIELDS = ("seq", "round", "kind", "speaker", "text", "status", "credits_charged",
               "created_at", "completed_at")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    by_room: dict[str, list[dict[str, Any]]] = {}
    for turn in await repo.turns_for_owner(ctx.db, user_id):
        by_room.setdefault(turn["room_id"], []).append(
            {"id": turn["_id"], **{key: _plain(turn.get(key)) for key in TURN_FIELDS}})
    return {"rooms": [
        {"id": room["_id"], **{key: _plain(room.get(key)) for key in ROOM_FIELDS},
         "participants": [{"persona_id": p["persona_id"], "name": p["name"]}
                          for p in room["participants"]],
         "shared": bool(room.get("share_id")), "turns": by_room.get(room["_id"], [])}
        for room in await repo.rooms_for_owner(ctx.db, user_id)]}


async def delete(ctx: Ctx, user_id: str) -> int:
    return await repo.delete_for_owner(ctx.db, user_id)


register(DataHolder(name=NAME, description="Your debate rooms and every turn in them.",
                    export=export, delete=delete,
                    collections=(Owned(repo.ROOMS),
                                 Owned(repo.TURNS, parents=(("room_id", repo.ROOMS),)))))
