"""What the clips domain holds about a person, registered with the privacy registry.

Export: every clip of the user (kind, persona, conversation, message, spoken text, voice,
length, provider and its job id, timings, credits, saved, dates) and every cloned voice made
from the user's reference recordings. The clip files themselves are `media` documents, exported
and deleted with the rest of the user's files by `media.personal_data`.
Delete: the clip documents, and the cloned voices (also at the vendor). Runs before `media`
deletes the files.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.media.clips import repo
from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.voice import clones

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "clips"


def _plain(document: dict[str, Any]) -> dict[str, Any]:
    return {("id" if key == "_id" else key): (value.isoformat() if isinstance(value, datetime)
                                              else value) for key, value in document.items()}


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {"clips": [_plain(c) for c in await repo.list_for_owner(ctx.db, user_id)],
            "cloned_voices": [_plain(c) for c in await clones.list_for_owner(ctx, user_id)]}


async def delete(ctx: Ctx, user_id: str) -> int:
    removed = await clones.delete_for_owner(ctx, user_id)
    return removed + await repo.delete_for_owner(ctx.db, user_id)


register(DataHolder(
    name=NAME,
    description="Voice and video clips generated for you (what was spoken, voice, length), "
                "and voices cloned from your personas' reference recordings.",
    export=export,
    delete=delete,
    order=90,
    collections=(Owned(repo.CLIPS, parents=(("media_id", "media"),)),
                 Owned(clones.CLONES, parents=(("persona_id", "personas"),))),
))
