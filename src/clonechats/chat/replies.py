"""Starting replies: sending a message, regenerating the last reply, editing a message.

Each happens in this order, and a refusal at any step leaves nothing behind but what the step
names:
1. the conversation is taken for this reply (one conditional update with a lease): a reply
   already in progress gives 409 `reply_in_progress`;
2. the text is moderated: a flagged message is stored with status "blocked" and its reason, a
   moderation flag is recorded, and 422 `message_blocked` is returned; the model is not called
   and nothing is charged;
3. the context is built (`chat.context`) and the most the reply can cost is reserved: a short
   balance gives 402 `insufficient_credits` with nothing stored (the user can buy credits and
   send the same message again);
4. the user message and a "streaming" assistant message are stored, a recovery job is queued
   for the case where this process dies mid-reply (`chat.jobs`), and the `Generation` starts.
Regenerate and edit keep what they replace: the old message gets `superseded_by`, the new one
`replaces_message_id`, and only the newest is shown (an edit puts away the rest of the chat
after it too, as a branch: `chat.branches`). Retrying a failed reply is a regenerate.
This module never imports the web framework.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.chat import context as chat_context
from clonechats.chat import generation, metering, repo, screening
from clonechats.chat.generation import Generation
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.service import ReplyInProgress, get, get_message
from clonechats.chat.settlement import ReplyPlan
from clonechats.chat.translation import service as chat_translation
from clonechats.chat.translation.texts import model_text
from clonechats.errors import AppError, Conflict
from clonechats.personas import service as persona_service
from clonechats.personas.memory import learning
from clonechats.personas.repo import Persona

if TYPE_CHECKING:
    from clonechats.context import Ctx


SETTLE_JOB = "chat.settle_abandoned"
SETTLE_GRACE_SECONDS = 30


class NotLatest(Conflict):
    code = "not_latest"
    message = "Only the latest reply of a conversation can be regenerated or continued."


class NotEditable(Conflict):
    code = "not_editable"
    message = "Only a message you sent that is shown in the chat can be edited."


class MessageBlocked(AppError):
    code = "message_blocked"
    status = 422
    message = "This message was not sent because it breaks the content rules."


class InvalidMessage(AppError):
    code = "invalid_message"
    status = 422
    message = "A message is some text."


def clean_text(ctx: Ctx, text: str) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidMessage("A message cannot be empty.")
    limit = ctx.settings.chat.max_message_chars
    if len(text) > limit:
        raise InvalidMessage(f"A message is at most {limit:,} characters "
                             f"(this one has {len(text):,}).")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in text):
        raise InvalidMessage("A message cannot contain control characters.")
    return text


def _title_from(text: str) -> str:
    title = " ".join(text.split())
    return title if len(title) <= 60 else title[:59].rstrip() + "…"


async def take_generation(ctx: Ctx, *, user_id: str, conversation_id: str, message_id: str,
                          seq_step: int) -> Conversation:
    now = ctx.clock.now()
    taken = await repo.acquire_generation(ctx.db, conversation_id, user_id, message_id=message_id,
                                          now=now, until=generation.lease_until(ctx, now),
                                          seq_step=seq_step)
    if taken is None:
        await get(ctx, user_id=user_id, conversation_id=conversation_id)
        raise ReplyInProgress()
    return taken


def _message(conversation: Conversation, *, seq: int, role: str, text: str, now: datetime,
             status: str, **fields: Any) -> Message:
    return repo.new_message(conversation_id=conversation["_id"],
                            owner_id=conversation["owner_id"], seq=seq, role=role, text=text,
                            now=now, status=status, **fields)


async def _screen(ctx: Ctx, conversation: Conversation, *, text: str, seq: int,
                  reply_id: str, replaces: list[str]) -> None:
    """Moderate the user's text; a flagged one is stored as blocked and refused (422)."""
    result = await screening.check_input(ctx, text, user_id=conversation["owner_id"])
    if not result.flagged:
        return
    now = ctx.clock.now()
    blocked = _message(conversation, seq=seq, role="user", text=text, now=now,
                       status=repo.BLOCKED, completed_at=now,
                       replaces_message_id=replaces[0] if replaces else None,
                       moderation={"flagged": True, "reason": result.reason},
                       error_code=MessageBlocked.code)
    await repo.insert_message(ctx.db, blocked)
    if replaces:  # an edit: the old branch is put away, as for a sent edit
        await repo.supersede(ctx.db, replaces, by=blocked["_id"], branch=replaces[0])
    await screening.flag(ctx, user_id=conversation["owner_id"], subject="user_message",
                         ref_id=blocked["_id"], result=result)
    await repo.release_generation(ctx.db, conversation["_id"], message_id=reply_id,
                                  changes={"last_message_at": now, "updated_at": now})
    reason = f" ({result.reason})" if result.reason else ""
    raise MessageBlocked(f"This message was not sent because it breaks the content "
                         f"rules{reason}.", details={"message_id": blocked["_id"],
                                                     "reason": result.reason})


async def _persona(ctx: Ctx, conversation: Conversation) -> Persona:
    """The conversation's persona, while its owner may still chat with it (else 404)."""
    return await persona_service.get_usable(ctx, user_id=conversation["owner_id"],
                                            persona_id=conversation["persona_id"])


async def _start(ctx: Ctx, conversation: Conversation, *, persona: Persona,
                 user_message: Message, store_user: bool, reply_id: str, reply_seq: int,
                 history_before_seq: int | None, replaces: list[str],
                 replaces_reply: str | None) -> Generation:
    """Steps 3 and 4 of the module docstring, for a conversation already taken."""
    provider, model = ctx.llm.resolve(conversation["model"])
    price = metering.price_for(ctx.settings.chat, model.id)
    built = await chat_context.assemble(
        ctx, conversation=conversation, persona=persona, user_text=model_text(user_message),
        model_info=model, provider=provider, history_before_seq=history_before_seq)
    reserve = metering.estimate_max_cost(
        price, prompt_tokens=built.prompt_tokens + ctx.settings.chat.context_margin_tokens,
        max_tokens=built.reply_tokens)
    await metering.reserve(ctx, user_id=conversation["owner_id"], message_id=reply_id,
                           amount=reserve, persona_name=persona["name"])
    try:
        plan = await _store(ctx, conversation, user_message=user_message, store_user=store_user,
                            reply_id=reply_id, reply_seq=reply_seq, replaces=replaces,
                            replaces_reply=replaces_reply, reserve=reserve, model_id=model.id,
                            prompt_tokens=built.prompt_tokens)
    except BaseException:  # nothing will be generated: the whole reservation comes back
        await metering.settle(ctx, user_id=conversation["owner_id"], message_id=reply_id,
                              reserved=reserve, charged=0)
        await repo.update_message(ctx.db, reply_id, {
            "status": repo.FAILED, "error_code": "reply_failed",
            "completed_at": ctx.clock.now()}, status=repo.STREAMING)
        raise
    return Generation(ctx, ReplyPlan(
        **plan, persona_name=persona["name"], provider=provider, model=model,
        messages=built.messages, prompt_tokens=built.prompt_tokens,
        reply_tokens=built.reply_tokens, price=price, reserved=reserve,
        translation=conversation.get("translation"), temperature=built.temperature)).start()


async def _store(ctx: Ctx, conversation: Conversation, *, user_message: Message,
                 store_user: bool, reply_id: str, reply_seq: int, replaces: list[str],
                 replaces_reply: str | None, reserve: int, model_id: str,
                 prompt_tokens: int) -> dict[str, Any]:
    now = ctx.clock.now()
    if store_user:
        if ctx.mood_backlog is not None:  # its mood is worked out once the reply has settled
            user_message["mood_pending"] = True
        await repo.insert_message(ctx.db, user_message)
    reply = _message(conversation, _id=reply_id, seq=reply_seq, role="assistant", text="",
                     now=now, status=repo.STREAMING, model=model_id, reserved_credits=reserve,
                     usage={"prompt_tokens": prompt_tokens, "completion_tokens": 0},
                     replaces_message_id=replaces_reply, answer_to=user_message["_id"])
    await repo.insert_message(ctx.db, reply)
    if replaces and store_user:  # an edit: what it replaces is put away as a branch
        await repo.supersede(ctx.db, replaces, by=user_message["_id"], branch=replaces[0])
    elif replaces:  # a regenerate: the earlier reply becomes an alternative
        await repo.supersede(ctx.db, replaces, by=reply_id)
    if store_user and not conversation.get("title_custom") and (
            conversation["title"] == conversation["persona_name"]):
        await repo.update_conversation(ctx.db, conversation["_id"], conversation["owner_id"],
                                       {"title": _title_from(user_message["text"])})
    await ctx.enqueue(SETTLE_JOB, {"message_id": reply_id},
                      run_at=now + timedelta(seconds=ctx.settings.chat.generation_lease_seconds
                                             + SETTLE_GRACE_SECONDS),
                      dedupe_key=f"{SETTLE_JOB}:{reply_id}")
    if store_user:
        await learning.queue_quietly(ctx, message_id=user_message["_id"])  # facts, later
    return {"owner_id": conversation["owner_id"], "conversation_id": conversation["_id"],
            "user_message": user_message, "message_id": reply_id}


async def guarded_generation(ctx: Ctx, conversation: Conversation, reply_id: str,
                             work: Any) -> Any:
    """Run `work` for a taken conversation; free the conversation if it refuses or fails."""
    try:
        return await work
    except BaseException:
        await repo.release_generation(ctx.db, conversation["_id"], message_id=reply_id)
        raise


async def send_message(ctx: Ctx, *, user_id: str, conversation_id: str,
                       text: str) -> Generation:
    text = clean_text(ctx, text)
    generation.admit(ctx)
    reply_id = repo.new_id()
    conversation = await take_generation(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=reply_id, seq_step=2)
    seq = conversation["message_seq"] - 1

    async def work() -> Generation:
        persona = await _persona(ctx, conversation)
        await _screen(ctx, conversation, text=text, seq=seq, reply_id=reply_id, replaces=[])
        user_message = _message(conversation, seq=seq, role="user", text=text,
                                now=ctx.clock.now(), status=repo.COMPLETE,
                                completed_at=ctx.clock.now())
        user_message.update(await chat_translation.user_message_fields(ctx, conversation, text))
        return await _start(ctx, conversation, persona=persona, user_message=user_message,
                            store_user=True, reply_id=reply_id, reply_seq=seq + 1,
                            history_before_seq=None,
                            replaces=[], replaces_reply=None)

    return await guarded_generation(ctx, conversation, reply_id, work())


async def _latest(ctx: Ctx, conversation_id: str) -> list[Message]:
    return await repo.last_visible(ctx.db, conversation_id, count=2)


async def regenerate(ctx: Ctx, *, user_id: str, conversation_id: str,
                     message_id: str) -> Generation:
    """A new reply to the last user message, replacing reply `message_id` (also how a failed
    reply is retried)."""
    target = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                               message_id=message_id)
    generation.admit(ctx)
    reply_id = repo.new_id()
    conversation = await take_generation(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=reply_id, seq_step=1)

    async def work() -> Generation:
        latest = await _latest(ctx, conversation_id)
        if (target["role"] != "assistant" or len(latest) < 2
                or latest[-1]["_id"] != target["_id"] or latest[0]["role"] != "user"):
            raise NotLatest("Only the latest reply can be regenerated.")
        user_message = latest[0]
        return await _start(ctx, conversation, persona=await _persona(ctx, conversation),
                            user_message=user_message, store_user=False,
                            reply_id=reply_id, reply_seq=conversation["message_seq"],
                            history_before_seq=user_message["seq"], replaces=[target["_id"]],
                            replaces_reply=target["_id"])

    return await guarded_generation(ctx, conversation, reply_id, work())


async def edit_message(ctx: Ctx, *, user_id: str, conversation_id: str, message_id: str,
                       text: str) -> Generation:
    """Replace user message `message_id` with `text`, and reply. The message and every later
    one are put away as a branch (`chat.branches`), so editing an earlier message forks the
    chat there and the other branch can be shown again."""
    text = clean_text(ctx, text)
    target = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                               message_id=message_id)
    generation.admit(ctx)
    reply_id = repo.new_id()
    conversation = await take_generation(ctx, user_id=user_id, conversation_id=conversation_id,
                                         message_id=reply_id, seq_step=2)
    seq = conversation["message_seq"] - 1

    async def work() -> Generation:
        current = await repo.get_message(ctx.db, target["_id"])
        if (current is None or current["role"] != "user" or current.get("superseded_by")
                or current["status"] not in repo.TERMINAL):
            raise NotEditable()
        replaced = [m["_id"] for m in await repo.visible_after(
            ctx.db, conversation_id, after_seq=current["seq"] - 1)]
        persona = await _persona(ctx, conversation)
        if await repo.forget_summary_from(ctx.db, conversation, current["seq"]):
            conversation.update({"summary": None, "summary_upto_message_id": None,
                                 "summary_upto_seq": 0})
        await _screen(ctx, conversation, text=text, seq=seq, reply_id=reply_id,
                      replaces=replaced)
        now = ctx.clock.now()
        user_message = _message(conversation, seq=seq, role="user", text=text, now=now,
                                status=repo.COMPLETE, completed_at=now,
                                replaces_message_id=current["_id"])
        user_message.update(await chat_translation.user_message_fields(ctx, conversation, text))
        return await _start(ctx, conversation, persona=persona, user_message=user_message,
                            store_user=True, reply_id=reply_id, reply_seq=seq + 1,
                            history_before_seq=current["seq"], replaces=replaced,
                            replaces_reply=None)

    return await guarded_generation(ctx, conversation, reply_id, work())
