"""The owner rewrites a persona reply's text in place.

Any shown persona reply that has ended ("complete" or "stopped", a cut one included) can be
rewritten; the new text is what the transcript shows and what later context sends the model,
and the message is marked edited (`edited_at`). In order:
1. the text is cleaned like a message the user sends (422 `invalid_message` when empty, too
   long or with control characters);
2. the message must be the caller's and shown (404 `message_not_found`); a reply still being
   written gives 409 `reply_in_progress`; a user message, or a failed or blocked reply, gives
   409 `reply_not_editable`;
3. the text is moderated like user input (422 `message_blocked`, nothing changed);
4. the text, its rendering and (in a translation chat) its translation are stored with one
   conditional update; a running summary that may quote the old text is dropped, to be rebuilt
   from what the conversation holds now on the next reply.
This module never imports the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.chat import markdown, repo, screening
from clonechats.chat.replies import MessageBlocked, clean_text
from clonechats.chat.repo import Message
from clonechats.chat.service import MessageNotFound, ReplyInProgress, get, get_message
from clonechats.chat.translation import service as chat_translation
from clonechats.errors import Conflict

if TYPE_CHECKING:
    from clonechats.context import Ctx



class ReplyNotEditable(Conflict):
    code = "reply_not_editable"
    message = "Only a persona reply that has ended can be edited here."


def _refusal(message: Message) -> Exception:
    if message.get("superseded_by"):
        return MessageNotFound()
    if message["status"] == repo.STREAMING:
        return ReplyInProgress("This reply is still being written. Wait for it or stop it.")
    if message["role"] != "assistant":
        return ReplyNotEditable("This is your own message: edit it from the message box.")
    return ReplyNotEditable()


async def edit_reply(ctx: Ctx, *, user_id: str, conversation_id: str, message_id: str,
                     text: str) -> Message:
    """Rewrite persona reply `message_id` to `text`; the updated message."""
    text = clean_text(ctx, text)
    conversation = await get(ctx, user_id=user_id, conversation_id=conversation_id)
    message = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                                message_id=message_id)
    if (message["role"] != "assistant" or message.get("superseded_by")
            or message["status"] not in repo.EDITABLE):
        raise _refusal(message)
    result = await screening.check_input(ctx, text, user_id=user_id)
    if result.flagged:
        reason = f" ({result.reason})" if result.reason else ""
        raise MessageBlocked(f"This text was not saved because it breaks the content "
                             f"rules{reason}.", details={"reason": result.reason})
    changes: dict[str, Any] = {"text": text, "html": markdown.render(text),
                               "edited_at": ctx.clock.now()}
    changes.update(await chat_translation.reply_fields(
        ctx, mode=conversation.get("translation"), status=message["status"], text=text))
    updated = await repo.rewrite_reply(ctx.db, message_id=message_id, owner_id=user_id,
                                       changes=changes)
    if updated is None:  # it changed meanwhile (a continuation started, a regenerate)
        raise _refusal(await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=message_id))
    await repo.forget_summary_from(ctx.db, conversation, updated["seq"])
    return updated
