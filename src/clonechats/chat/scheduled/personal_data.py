"""What scheduled messages hold about a person, registered with the privacy registry.

Export: every scheduled item they own (kind, text, time and zone, status, error, times, the
messages it produced). Delete: all of them. Items also go with their conversation (see
`chat.service.delete`), and a cancelled item keeps no text.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.chat import repo as chat_repo
from clonechats.chat.scheduled import repo
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "scheduled_messages"
FIELDS = ("conversation_id", "kind", "text", "send_at", "time_zone", "status", "error",
          "attempts", "created_at", "updated_at", "delivered_at", "cancelled_at",
          "message_ids")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {"scheduled_messages": [
        {"id": item["_id"], **{key: _plain(item.get(key)) for key in FIELDS}}
        for item in await repo.for_owner(ctx.db, user_id)]}


async def delete(ctx: Ctx, user_id: str) -> int:
    return await repo.delete_for_owner(ctx.db, user_id)


register(DataHolder(name=NAME, description="Messages you scheduled to be sent or answered "
                    "later, with their times and outcome.", export=export, delete=delete,
                    order=90,
                    collections=(Owned(repo.COLLECTION,
                                       parents=(("conversation_id",
                                                 chat_repo.CONVERSATIONS),)),)))
