"""Delivering a scheduled message at its time: exactly once, across processes and crashes.

The job `chat.deliver_scheduled` (queued for `send_at`) claims the item with one conditional
update (pending and due, or delivering with an expired lease), so of any number of workers one
delivers it, and a cancel racing the claim either wins (nothing is sent) or loses (409). While
it delivers, the item's lease is renewed; a worker that dies stops renewing, and the job runner
hands the job to another worker, which resumes from what the item recorded:

1. the conversation is taken for the reply `reply_id` (chosen ahead), handing out the seats in
   the conversation once (`user_seq`, `reply_seq` are recorded; a resumed delivery already
   holding the conversation takes it again);
2. the context is built now, from the conversation as it is at delivery time;
3. credits are reserved under `reserve:{reply_id}` (the ledger key makes a second reserve a
   no-op, and the reserved amount is read back from the entry); too few credits: `failed`
   with `insufficient_credits`, nothing sent;
4. the user's message (`user_message_id`, chosen at creation) and the reply are inserted with
   their own ids, so a second insert finds them and adds nothing; a reply left "streaming" by
   a dead worker is started again from empty text on the same reservation;
5. the reply is generated and settled (`release:{reply_id}`) as every chat reply is, then the
   item is marked delivered, the conversation gets an unread mark, and an email notice goes
   out if the user turned that on (deduplicated on the item).

The model unavailable: the item is retried with doubling delays while within
`scheduled.retry_window_minutes` of its time (the failed reply is replaced by the next try's),
then marked `failed`. Every end is recorded on the item; nothing is dropped silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.billing.ledger import InsufficientCredits
from clonechats.chat import context as chat_context
from clonechats.chat import metering
from clonechats.chat import repo as chat_repo
from clonechats.chat.generation import ERROR_MESSAGES, Generation, lease_until
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.scheduled import notices, repo
from clonechats.chat.scheduled.service import queue_delivery
from clonechats.chat.settlement import ReplyPlan
from clonechats.errors import AppError
from clonechats.personas import service as persona_service
from clonechats.personas.repo import Persona

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

SHOWN = (chat_repo.COMPLETE, chat_repo.STOPPED, chat_repo.BLOCKED)
NOT_RETRIED = frozenset({"provider_rejected", "reply_blocked"})
FAILURE_MESSAGES = {
    "insufficient_credits": "You did not have enough credits when it was due. Buy credits and "
                            "schedule it again.",
    "persona_unavailable": "The persona is no longer available.",
    "provider_unavailable": "The model was not available, and retries did not help.",
    **{code: text for code, text in ERROR_MESSAGES.items() if code != "provider_unavailable"},
}


class Busy(Exception):
    """The conversation is writing another reply right now: try again shortly."""


class LostItem(Exception):
    """The item was taken over by another worker (this one stalled) or deleted meanwhile."""


async def deliver_scheduled(payload: dict[str, Any], ctx: Ctx) -> None:
    item_id = payload["scheduled_id"]
    now = ctx.clock.now()
    token = secrets.token_hex(8)
    item = await repo.claim(ctx.db, item_id, owner=token, now=now, until=now + _lease(ctx))
    if item is None:
        await _look_again_later(ctx, item_id, now)
        return
    heartbeat = asyncio.create_task(_keep_lease(ctx, item_id, token))
    try:
        await _deliver(ctx, item, token)
    except Busy:
        await _wait(ctx, item, token, seconds=ctx.settings.scheduled.busy_retry_seconds)
    except LostItem:
        log.warning("scheduled delivery lost its item", extra={"scheduled_id": item_id})
    except BaseException:
        # Free the item at once so the job's retry (or another worker) can resume it.
        with contextlib.suppress(Exception):
            await repo.save(ctx.db, item_id, owner=token,
                            changes={"lease_owner": None, "lease_until": ctx.clock.now()})
        raise
    finally:
        heartbeat.cancel()


def _lease(ctx: Ctx) -> timedelta:
    return timedelta(seconds=ctx.settings.jobs.lease_seconds)


async def _keep_lease(ctx: Ctx, item_id: str, token: str) -> None:
    while True:
        await asyncio.sleep(ctx.settings.jobs.lease_seconds / 3)
        await repo.renew(ctx.db, item_id, owner=token, until=ctx.clock.now() + _lease(ctx))


async def _look_again_later(ctx: Ctx, item_id: str, now: datetime) -> None:
    """Not claimable now: if it is not finished, queue a job for when it can be."""
    item = await repo.get(ctx.db, item_id)
    if item is None or item["status"] not in (repo.PENDING, repo.DELIVERING):
        return
    if item["status"] == repo.PENDING:
        when = item["send_at"]
    else:
        when = (item.get("lease_until") or now) + timedelta(seconds=1)
    if when > now:
        await queue_delivery(ctx, item_id, when)


async def _wait(ctx: Ctx, item: dict[str, Any], token: str, *, seconds: float,
                changes: dict[str, Any] | None = None) -> None:
    """Hand the item back until `seconds` from now, and queue the job that resumes it."""
    when = ctx.clock.now() + timedelta(seconds=seconds)
    saved = await repo.save(ctx.db, item["_id"], owner=token, changes={
        "lease_owner": None, "lease_until": when, **(changes or {})})
    if saved is not None:
        await queue_delivery(ctx, item["_id"], when)


async def _fail(ctx: Ctx, item: dict[str, Any], token: str, code: str,
                message: str | None = None) -> None:
    now = ctx.clock.now()
    saved = await repo.save(ctx.db, item["_id"], owner=token, changes={
        "status": repo.FAILED, "lease_owner": None, "lease_until": None, "retry_at": None,
        "updated_at": now,
        "error": {"code": code, "message": message or FAILURE_MESSAGES.get(
            code, ERROR_MESSAGES["reply_failed"])}})
    log.info("scheduled message failed", extra={"scheduled_id": item["_id"], "code": code})
    if saved is not None:
        await notices.failed(ctx, saved)


async def _deliver(ctx: Ctx, item: dict[str, Any], token: str) -> None:
    conversation = await chat_repo.get_conversation(ctx.db, item["conversation_id"])
    if conversation is None:  # deleted with its conversation as the delivery started
        return
    try:
        persona = await persona_service.get_usable(ctx, user_id=item["owner_id"],
                                                   persona_id=conversation["persona_id"])
    except persona_service.PersonaNotFound:
        await _fail(ctx, item, token, "persona_unavailable")
        return
    conversation, item = await _take_conversation(ctx, item, token)
    reply_id = item["reply_id"]
    try:
        generation = await _prepare(ctx, item, token, conversation=conversation,
                                    persona=persona)
    except BaseException:
        await chat_repo.release_generation(ctx.db, conversation["_id"], message_id=reply_id)
        raise
    if generation is None:
        return
    message = await generation.wait() if isinstance(generation, Generation) else generation
    await _conclude(ctx, item, token, message)


async def _take_conversation(ctx: Ctx, item: dict[str, Any],
                             token: str) -> tuple[Conversation, dict[str, Any]]:
    now = ctx.clock.now()
    needs_user_seat = item["kind"] == "message" and item["user_seq"] is None
    step = 0 if item["reply_seq"] is not None else (2 if needs_user_seat else 1)
    taken = await chat_repo.take_for_reply(
        ctx.db, item["conversation_id"], item["owner_id"], message_id=item["reply_id"],
        now=now, until=lease_until(ctx, now), seq_step=step)
    if taken is None:
        raise Busy()
    if step:
        seats = {"reply_seq": taken["message_seq"]}
        if needs_user_seat:
            seats["user_seq"] = taken["message_seq"] - 1
        saved = await repo.save(ctx.db, item["_id"], owner=token, changes=seats)
        if saved is None:  # lost the item (deleted, or another worker took over)
            await chat_repo.release_generation(ctx.db, taken["_id"], message_id=item["reply_id"])
            raise LostItem()
        item = saved
    return taken, item


async def _prepare(ctx: Ctx, item: dict[str, Any], token: str, *,
                   conversation: Conversation,
                   persona: Persona) -> Generation | Message | None:
    """Steps 2–4: the reply ready to generate; or the reply already settled by a worker that
    died before recording it; or None when the item ended here (failed, conversation freed)."""
    reply_id = item["reply_id"]
    existing = await chat_repo.get_message(ctx.db, reply_id)
    if existing is not None and existing["status"] != chat_repo.STREAMING:
        await chat_repo.release_generation(ctx.db, conversation["_id"], message_id=reply_id)
        return existing
    try:
        provider, model = ctx.llm.resolve(conversation["model"])
        price = metering.price_for(ctx.settings.chat, model.id)
        built = await chat_context.assemble(
            ctx, conversation=conversation, persona=persona, user_text=item["text"],
            model_info=model, provider=provider, history_before_seq=item["user_seq"])
    except AppError as error:
        await chat_repo.release_generation(ctx.db, conversation["_id"], message_id=reply_id)
        await _fail(ctx, item, token, error.code, error.message)
        return None
    estimate = metering.estimate_max_cost(
        price, prompt_tokens=built.prompt_tokens + ctx.settings.chat.context_margin_tokens,
        max_tokens=built.reply_tokens)
    try:
        reserved = await metering.reserve_once(ctx, user_id=item["owner_id"],
                                               message_id=reply_id, amount=estimate,
                                               persona_name=persona["name"])
    except InsufficientCredits:
        await chat_repo.release_generation(ctx.db, conversation["_id"], message_id=reply_id)
        await _fail(ctx, item, token, "insufficient_credits")
        return None
    user_message = await _store(ctx, item, conversation, existing=existing, model_id=model.id,
                                reserved=reserved, prompt_tokens=built.prompt_tokens)
    return Generation(ctx, ReplyPlan(
        owner_id=item["owner_id"], conversation_id=conversation["_id"],
        user_message=user_message, message_id=reply_id, persona_name=persona["name"],
        provider=provider, model=model, messages=built.messages,
        prompt_tokens=built.prompt_tokens, reply_tokens=built.reply_tokens, price=price,
        reserved=reserved, temperature=built.temperature)).start()


def _message(item: dict[str, Any], *, _id: str, seq: int, role: str, text: str, now: datetime,
             status: str, **fields: Any) -> Message:
    return chat_repo.new_message(_id=_id, conversation_id=item["conversation_id"],
                                 owner_id=item["owner_id"], seq=seq, role=role, text=text,
                                 now=now, status=status, scheduled_id=item["_id"], **fields)


async def _store(ctx: Ctx, item: dict[str, Any], conversation: Conversation, *,
                 existing: Message | None, model_id: str, reserved: int,
                 prompt_tokens: int) -> Message | None:
    """Insert the user's message (kind `message`) and the reply, each once."""
    now = ctx.clock.now()
    user_message: Message | None = None
    if item["kind"] == "message":
        user_message = _message(item, _id=item["user_message_id"], seq=item["user_seq"],
                                role="user", text=item["text"], now=now,
                                status=chat_repo.COMPLETE, completed_at=now)
        if not await chat_repo.insert_message_once(ctx.db, user_message):
            user_message = await chat_repo.get_message(ctx.db, item["user_message_id"])
        elif not conversation.get("title_custom") and (
                conversation["title"] == conversation["persona_name"]):
            title = " ".join(item["text"].split())
            await chat_repo.update_conversation(
                ctx.db, conversation["_id"], item["owner_id"],
                {"title": title if len(title) <= 60 else title[:59].rstrip() + "…"})
    if existing is None:
        reply = _message(item, _id=item["reply_id"], seq=item["reply_seq"], role="assistant",
                         text="", now=now, status=chat_repo.STREAMING, model=model_id,
                         reserved_credits=reserved,
                         usage={"prompt_tokens": prompt_tokens, "completion_tokens": 0},
                         replaces_message_id=item.get("replaces_reply_id"),
                         answer_to=user_message["_id"] if user_message else None)
        await chat_repo.insert_message_once(ctx.db, reply)
        if item.get("replaces_reply_id"):
            await chat_repo.supersede(ctx.db, [item["replaces_reply_id"]], by=item["reply_id"])
    else:  # a dead worker's half-written reply: write it again, on the same reservation
        await chat_repo.update_message(ctx.db, item["reply_id"], {"text": ""},
                                       status=chat_repo.STREAMING)
    return user_message


async def _conclude(ctx: Ctx, item: dict[str, Any], token: str, message: Message) -> None:
    """Record how the delivery ended: delivered, retried later, or failed."""
    now = ctx.clock.now()
    if message.get("status") in SHOWN:
        saved = await repo.save(ctx.db, item["_id"], owner=token, changes={
            "status": repo.DELIVERED, "delivered_at": now, "updated_at": now,
            "lease_owner": None, "lease_until": None, "retry_at": None, "error": None,
            "message_ids": [item["user_message_id"], item["reply_id"]]})
        if saved is not None:
            await chat_repo.mark_unread(ctx.db, item["conversation_id"])
            await notices.delivered(ctx, saved)
        elif await chat_repo.get_conversation(ctx.db, item["conversation_id"]) is None:
            # The conversation was deleted while the reply was written: leave nothing behind.
            await chat_repo.delete_messages(ctx.db, [item["user_message_id"], item["reply_id"]],
                                            owner_id=item["owner_id"])
        return
    code = message.get("error_code") or "reply_failed"
    settings = ctx.settings.scheduled
    delay = min(settings.retry_base_seconds * 2 ** item["attempts"], settings.retry_max_seconds)
    deadline = item["send_at"] + timedelta(minutes=settings.retry_window_minutes)
    if code not in NOT_RETRIED and now + timedelta(seconds=delay) <= deadline:
        log.warning("scheduled delivery failed, will retry",
                    extra={"scheduled_id": item["_id"], "code": code, "retry_in_s": delay})
        await _wait(ctx, item, token, seconds=delay, changes={
            "attempts": item["attempts"] + 1, "reply_id": chat_repo.new_id(), "reply_seq": None,
            "replaces_reply_id": item["reply_id"],
            "retry_at": now + timedelta(seconds=delay), "updated_at": now,
            "error": {"code": code, "message": FAILURE_MESSAGES.get(
                code, ERROR_MESSAGES["reply_failed"])}})
        return
    await _fail(ctx, item, token, code)
