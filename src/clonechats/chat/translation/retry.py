"""Translating a finished reply again, after no translator could do it when it was written.

Owner checks are chat's own (another user's conversation or message is a 404). Only a reply
that ended (complete or stopped), is still shown, and belongs to a translation chat can be
translated again (else 409 `not_translatable`). When it still cannot be translated, the answer
is 503 `translation_unavailable` and the message is left as it was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clonechats.chat import repo
from clonechats.chat import service as chat
from clonechats.chat.repo import Message
from clonechats.chat.translation.service import (
    TRANSLATED_STATUSES,
    TranslationUnavailable,
    reply_fields,
)
from clonechats.errors import AppError, Conflict

if TYPE_CHECKING:
    from clonechats.context import Ctx



class NotTranslatable(Conflict):
    code = "not_translatable"
    message = "Only a finished reply in a translation chat can be translated again."


async def retranslate(ctx: Ctx, *, user_id: str, conversation_id: str,
                      message_id: str) -> Message:
    """Translate a finished reply again (after a translator was down); 503 and no change
    when it still cannot be done."""
    conversation = await chat.get(ctx, user_id=user_id, conversation_id=conversation_id)
    message = await chat.get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                                     message_id=message_id)
    if (not conversation.get("translation") or message["role"] != "assistant"
            or message["status"] not in TRANSLATED_STATUSES or message.get("superseded_by")):
        raise NotTranslatable()
    fields = await reply_fields(ctx, mode=conversation["translation"],
                                status=message["status"], text=message["text"])
    if fields.get("translation_error"):
        raise AppError("The translation is still unavailable; the reply stays as the persona "
                       "wrote it. Please try again later.", code=TranslationUnavailable.code,
                       status=503)
    updated = await repo.update_message(ctx.db, message_id, fields, status=message["status"])
    if updated is None:
        raise NotTranslatable()
    return updated
