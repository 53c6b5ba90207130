"""Continuing a reply cut at the length limit: more text appended to the same persona message.

A reply is *cut* when the model stopped because it reached the longest allowed reply
(`repo.is_cut`: status "complete", `finish_reason` "length"). `continue_reply` goes, in order:
1. the message must be the caller's (404 `message_not_found`) and the conversation is taken
   for the continuation (one conditional update; a reply already running, or a second
   continue at the same time, gives 409 `reply_in_progress`);
2. it must be the conversation's last shown message, answering a user message (409
   `not_latest`), and cut (409 `not_cut`);
3. the context is the history up to the user message it answers, then the cut text as the
   persona's turn and `CONTINUE_INSTRUCTION`; the most the new part can cost is reserved under
   the message's own ledger id for this continuation (`{message_id}-more{n}`): a short balance
   gives 402 `insufficient_credits` with nothing changed;
4. the message is set "streaming" again (only while still cut), a recovery job is queued and
   the `Generation` starts: its tokens are only the new text, and settling appends it.
A continuation ends like any reply: "complete" (cut again when it too reached the limit),
"stopped" or "failed", with what arrived kept. This module never imports the web framework.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from clonechats.chat import context as chat_context
from clonechats.chat import metering, repo
from clonechats.chat.generation import Generation, admit
from clonechats.chat.replies import (
    SETTLE_GRACE_SECONDS,
    SETTLE_JOB,
    NotLatest,
    guarded_generation,
    take_generation,
)
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.service import get_message
from clonechats.chat.settlement import Continuation, ReplyPlan
from clonechats.chat.translation.texts import model_text
from clonechats.errors import Conflict
from clonechats.personas import service as persona_service
from clonechats.providers.llm.base import ChatMessage

if TYPE_CHECKING:
    from clonechats.context import Ctx


CONTINUE_INSTRUCTION = ("Your last reply was cut off at the length limit. Continue it exactly "
                        "where it stopped, without repeating any of it or starting over.")


class NotCut(Conflict):
    code = "not_cut"
    message = "Only a reply that was cut at the length limit can be continued."


def ledger_id_for(message_id: str, continuation: int) -> str:
    return f"{message_id}-more{continuation}"


async def continue_reply(ctx: Ctx, *, user_id: str, conversation_id: str,
                         message_id: str) -> Generation:
    target = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                               message_id=message_id)
    admit(ctx)
    conversation = await take_generation(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=message_id, seq_step=0)

    async def work() -> Generation:
        latest = await repo.last_visible(ctx.db, conversation_id, count=2)
        if (target["role"] != "assistant" or len(latest) < 2
                or latest[-1]["_id"] != target["_id"] or latest[0]["role"] != "user"):
            raise NotLatest("Only the latest reply can be continued.")
        reply = latest[-1]
        if not repo.is_cut(reply):
            raise NotCut()
        return await _start(ctx, conversation, user_message=latest[0], reply=reply)

    return await guarded_generation(ctx, conversation, message_id, work())


async def _start(ctx: Ctx, conversation: Conversation, *, user_message: Message,
                 reply: Message) -> Generation:
    """Steps 3 and 4 of the module docstring, for a conversation already taken."""
    persona = await persona_service.get_usable(ctx, user_id=conversation["owner_id"],
                                               persona_id=conversation["persona_id"])
    provider, model = ctx.llm.resolve(conversation["model"])
    price = metering.price_for(ctx.settings.chat, model.id)
    built = await chat_context.assemble(
        ctx, conversation=conversation, persona=persona, user_text=model_text(user_message),
        model_info=model, provider=provider, history_before_seq=user_message["seq"],
        after=(ChatMessage("assistant", reply["text"]),
               ChatMessage("user", CONTINUE_INSTRUCTION)))
    reserve = metering.estimate_max_cost(
        price, prompt_tokens=built.prompt_tokens + ctx.settings.chat.context_margin_tokens,
        max_tokens=built.reply_tokens)
    number = int(reply.get("continuations") or 0) + 1
    earlier = Continuation(
        text=reply["text"], credits_charged=int(reply.get("credits_charged") or 0),
        usage=reply.get("usage") or {"prompt_tokens": 0, "completion_tokens": 0},
        ledger_id=ledger_id_for(reply["_id"], number), prompt_tokens=built.prompt_tokens)
    await metering.reserve(ctx, user_id=conversation["owner_id"], message_id=earlier.ledger_id,
                           amount=reserve, persona_name=persona["name"])
    try:
        now = ctx.clock.now()
        await ctx.enqueue(SETTLE_JOB, {"message_id": reply["_id"]},
                          run_at=now + timedelta(seconds=ctx.settings.chat.generation_lease_seconds
                                                 + SETTLE_GRACE_SECONDS),
                          dedupe_key=f"{SETTLE_JOB}:{earlier.ledger_id}")
        begun = await repo.begin_continuation(ctx.db, reply["_id"], {
            "continuations": number, "continuing": earlier.record(), "reserved_credits": reserve,
            "stop_requested": False, "error_code": None, "model": model.id,
            "continued_at": now})
        if begun is None:
            raise NotCut()
    except BaseException:  # nothing will be generated: the whole reservation comes back
        await metering.settle(ctx, user_id=conversation["owner_id"],
                              message_id=earlier.ledger_id, reserved=reserve, charged=0)
        raise
    return Generation(ctx, ReplyPlan(
        owner_id=conversation["owner_id"], conversation_id=conversation["_id"],
        user_message=None, message_id=reply["_id"], persona_name=persona["name"],
        provider=provider, model=model, messages=built.messages,
        prompt_tokens=built.prompt_tokens, reply_tokens=built.reply_tokens, price=price,
        reserved=reserve, translation=conversation.get("translation"),
        continuing=earlier, temperature=built.temperature)).start()
