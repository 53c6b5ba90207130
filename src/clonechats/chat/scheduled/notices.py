"""Telling the user a scheduled message arrived (or could not): the conversation's unread
mark, and an email only for those who turned email notices on (off by default).

The email says that something arrived and links to the chat; it never carries the message or
the reply. It is deduplicated on the item, so a delivery finished twice mails once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.chat import repo as chat_repo
from clonechats.chat.scheduled import timing
from clonechats.mail import service as mail

if TYPE_CHECKING:
    from clonechats.context import Ctx



async def delivered(ctx: Ctx, item: dict[str, Any]) -> None:
    await _email(ctx, item, delivered=True)


async def failed(ctx: Ctx, item: dict[str, Any]) -> None:
    await chat_repo.mark_unread(ctx.db, item["conversation_id"])
    await _email(ctx, item, delivered=False)


async def _email(ctx: Ctx, item: dict[str, Any], *, delivered: bool) -> None:
    user = await users.get(ctx.db, item["owner_id"])
    if not user or not user.get("scheduled_email_notice") or not user.get("email") or (
            not user.get("email_verified")):
        return
    conversation = await chat_repo.get_conversation(ctx.db, item["conversation_id"]) or {}
    await mail.send_email(ctx, to=user["email"], template="scheduled_notice", context={
        "display_name": user.get("display_name"),
        "persona_name": conversation.get("persona_name") or "Your persona",
        "delivered": delivered,
        "conversation_url": f"{ctx.settings.public_url.rstrip('/')}/chat/{item['conversation_id']}",
        "due_at": timing.describe(item["send_at"], item.get("time_zone")),
    }, idempotency_key=f"scheduled:{item['_id']}:{'delivered' if delivered else 'failed'}")
