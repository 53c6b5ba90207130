"""What safety holds about a person, registered with the privacy registry.

Export: the moderation flags on their messages (subject, categories, reason, dates; a flag
holds no message text).

Delete: flags are abuse signals counted in the admin dashboards, so they are anonymised rather
than removed: the user id and the reference to the (deleted) message are cleared, leaving only
categories, reason and dates, which no longer say anything about the person.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.safety import flags

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "moderation_flags"


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {"flags": [{"subject": f["subject"], "categories": f.get("categories") or {},
                       "reason": f.get("reason"), "created_at": f["created_at"].isoformat(),
                       "reviewed": f.get("reviewed_at") is not None}
                      for f in await flags.for_user(ctx, user_id)]}


async def delete(ctx: Ctx, user_id: str) -> int:
    return await flags.anonymise_user(ctx, user_id)


register(DataHolder(name=NAME, description="Moderation flags on your messages (anonymised "
                    "when the account is deleted).", export=export, delete=delete,
                    collections=(Owned(flags.FLAGS, owner_field="user_id",
                                       nullable_owner=True),)))
