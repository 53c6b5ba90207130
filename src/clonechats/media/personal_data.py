"""What the media domain holds about a person, registered with the privacy registry.

Export: every media document of the user (kind, persona, type, size, digest, dimensions,
duration, time) with the media store key of its file, so an export job can copy the files.

Delete: every file of the user in the media store (stray files without a document included)
and every media document.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.media import repo, service
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "media"


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    items = []
    for media in await service.export_for_owner(ctx, owner_id=user_id):
        items.append({("id" if key == "_id" else key): _plain(value)
                      for key, value in media.items()})
    return {"files": items}


async def delete(ctx: Ctx, user_id: str) -> int:
    return await service.delete_for_owner(ctx, owner_id=user_id)


register(DataHolder(
    name=NAME,
    description="Uploaded avatars, reference images and reference voice recordings, with "
                "their details (type, size, dimensions, duration).",
    export=export,
    delete=delete,
    collections=(Owned(repo.MEDIA, parents=(("persona_id", "personas"),)),),
))
