"""Alternative replies ("swipes"): every reply to the same user message is kept when it is
regenerated, and the owner pages through them and chooses which one the chat shows. The shown
one is what later replies see as context; the others stay stored, hidden, and go with the
conversation (they are in the data export, as replaced messages always were).

Only the latest exchange can change its reply, and only while no reply is being written: the
choice takes the conversation's reply lease for its two writes, so a send or a regenerate at the
same moment waits its turn (409 `reply_in_progress`).

Asked about a message the user sent, both answer for its versions instead (`chat.branches`):
the original and its edits, each with the branch of the chat that followed it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.chat import branches, repo
from clonechats.chat.replies import take_generation
from clonechats.chat.repo import Message
from clonechats.chat.service import get_message
from clonechats.errors import Conflict

if TYPE_CHECKING:
    from clonechats.context import Ctx



class NotChoosable(Conflict):
    code = "not_choosable"
    message = "Only a finished reply to your latest message can be chosen."


async def of(ctx: Ctx, *, user_id: str, conversation_id: str,
             message_id: str) -> tuple[list[Message], Message | None]:
    """The replies to the same user message as reply `message_id`, oldest first, and the one
    shown (None while none is)."""
    reply = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                              message_id=message_id)
    if reply["role"] == "user":
        return await branches.of(ctx, reply)
    answer_to = reply.get("answer_to")
    if not answer_to:
        return [reply], reply if reply.get("superseded_by") is None else None
    replies = await repo.replies_to(ctx.db, conversation_id, answer_to)
    shown = next((r for r in replies if r.get("superseded_by") is None), None)
    return replies, shown


async def choose(ctx: Ctx, *, user_id: str, conversation_id: str,
                 message_id: str) -> Message:
    """Show reply `message_id` in place of the other replies to its user message (or, for a
    user message, its version's branch in place of the shown one)."""
    message = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                                message_id=message_id)
    if message["role"] == "user":
        return await branches.switch(ctx, user_id=user_id, conversation_id=conversation_id,
                                     message_id=message_id)
    lease = f"choose:{repo.new_id()}"
    conversation = await take_generation(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=lease, seq_step=0)
    try:
        replies, _ = await of(ctx, user_id=user_id, conversation_id=conversation_id,
                              message_id=message_id)
        chosen = next(r for r in replies if r["_id"] == message_id)
        if chosen["role"] != "assistant" or chosen["status"] not in repo.TERMINAL:
            raise NotChoosable()
        user_message = await repo.get_message(ctx.db, chosen.get("answer_to") or "")
        last = await repo.last_visible(ctx.db, conversation_id, count=1)
        latest_answered = bool(last) and (last[0].get("answer_to") == chosen.get("answer_to")
                                          or last[0]["_id"] == chosen["answer_to"])
        if user_message is None or user_message.get("superseded_by") or not latest_answered:
            raise NotChoosable()
        await repo.show_instead(ctx.db, chosen_id=message_id,
                                others=[r["_id"] for r in replies if r["_id"] != message_id])
        await repo.forget_summary_from(ctx.db, conversation, user_message["seq"])
    finally:
        await repo.release_generation(ctx.db, conversation_id, message_id=lease)
    return await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                             message_id=message_id)


def position(replies: list[Message], shown_id: str) -> dict[str, Any] | None:
    """Where the shown reply is among its alternatives, for the chat page's ‹ n / m ›
    control (None when there is only one)."""
    ids = [r["_id"] for r in replies if r["status"] in repo.TERMINAL]
    if len(ids) < 2 or shown_id not in ids:
        return None
    index = ids.index(shown_id)
    return {"index": index + 1, "count": len(ids),
            "previous": ids[index - 1] if index > 0 else None,
            "next": ids[index + 1] if index + 1 < len(ids) else None}
