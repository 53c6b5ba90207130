"""What the personas domain holds about a person, registered with the privacy registry.

Export: every persona the person owns (all profile fields, share links included) and the
personas they favourited. Delete: each owned persona the way the owner's own delete does it
(memories, media files, other people's favourites of it, its share link), then the person's
favourites, taking each favourited persona's count down.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.personas import favourites, repo, service
from clonechats.personas.schemas import PersonaOut
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "personas"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    owned = await repo.for_owner(ctx.db, user_id)
    marks = await favourites.for_user(ctx.db, user_id)
    return {
        "personas": [PersonaOut.of(persona).model_dump(mode="json") for persona in owned],
        "favourites": [{"persona_id": mark["persona_id"],
                        "created_at": _plain(mark["created_at"])} for mark in marks],
    }


async def delete(ctx: Ctx, user_id: str) -> int:
    count = 0
    for persona in await repo.for_owner(ctx.db, user_id):
        counts = await service.remove_persona(ctx, persona)
        count += sum(counts.values())
    count += await favourites.delete_for_user(ctx.db, user_id)
    return count


register(DataHolder(
    name=NAME,
    description="Your personas (profiles, sliders, share links) and the personas you "
                "favourited.",
    export=export,
    delete=delete,
    collections=(Owned(repo.PERSONAS),
                 Owned(favourites.FAVOURITES, owner_field="user_id",
                       parents=(("persona_id", repo.PERSONAS),))),
))
