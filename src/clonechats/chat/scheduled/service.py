"""Scheduled ("send later") messages: schedule, list, edit and cancel while pending.

Two kinds. `message`: the text is sent as the user at `send_at` and the persona answers then,
from the conversation as it is at that moment. `reply`: the text is stored in the conversation
now and the persona's answer arrives at `send_at` ("answer me tomorrow at 9").

Nothing is ever sent that the user did not ask for: an item is delivered once at its time
(`chat.scheduled.delivery`), or cancelled, or marked failed with its reason; never dropped.
Cancelling removes the pending text from the store (and, for a `reply`, the unanswered message
it stored). Times: see `timing`. The user's time zone is a profile setting; the first item
scheduled from a browser stores the browser's zone when none is set. This module never
imports the web framework.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.accounts import profile
from clonechats.accounts.users import User
from clonechats.chat import repo as chat_repo
from clonechats.chat import screening
from clonechats.chat import service as chat
from clonechats.chat.replies import MessageBlocked, clean_text
from clonechats.chat.repo import Conversation
from clonechats.chat.scheduled import repo, timing
from clonechats.errors import AppError, Conflict, NotFound
from clonechats.personas import service as persona_service

if TYPE_CHECKING:
    from clonechats.context import Ctx


DELIVER_JOB = "chat.deliver_scheduled"
KINDS = ("message", "reply")
PAGE_SIZE, PAGE_MAX = 20, 100


class ScheduledNotFound(NotFound):
    code = "scheduled_not_found"
    message = "No such scheduled message."


class NotPending(Conflict):
    code = "scheduled_not_pending"
    message = "This scheduled message is no longer pending, so it cannot be changed."


class TooManyScheduled(AppError):
    code = "too_many_scheduled"
    status = 422
    message = "You have too many scheduled messages waiting. Cancel one or wait for it first."


class NothingToChange(AppError):
    code = "invalid_scheduled"
    status = 422
    message = "Give a new text or a new time."


def user_zone(user: User) -> str:
    return user.get("time_zone") or timing.DEFAULT_TIME_ZONE


async def _screen(ctx: Ctx, *, user_id: str, item_id: str, text: str) -> None:
    result = await screening.check_input(ctx, text)
    if result.flagged:
        await screening.flag(ctx, user_id=user_id, subject="scheduled_message", ref_id=item_id,
                             result=result)
        reason = f" ({result.reason})" if result.reason else ""
        raise MessageBlocked(f"This message was not scheduled because it breaks the content "
                             f"rules{reason}.", details={"reason": result.reason})


async def queue_delivery(ctx: Ctx, item_id: str, when: datetime) -> None:
    """Queue a delivery job for `when`. Several jobs for one item are harmless: each claims the
    item atomically and the others find nothing to do."""
    await ctx.enqueue(DELIVER_JOB, {"scheduled_id": item_id}, run_at=when,
                      dedupe_key=f"{DELIVER_JOB}:{item_id}:{when.isoformat()}")


async def _remember_zone(ctx: Ctx, user: User, zone_name: str | None) -> None:
    if zone_name and not user.get("time_zone"):
        await profile.update_preferences(ctx, user, time_zone=zone_name)


async def create(ctx: Ctx, *, user: User, conversation_id: str, text: str,
                 send_at: str, kind: str, time_zone: str | None = None,
                 fold: int = 0) -> dict[str, Any]:
    conversation = await chat.get(ctx, user_id=user["_id"], conversation_id=conversation_id)
    await persona_service.get_usable(ctx, user_id=user["_id"],
                                     persona_id=conversation["persona_id"])
    text = clean_text(ctx, text)
    if kind not in KINDS:
        raise AppError("kind is message or reply.", code="invalid_kind", status=422)
    zone_name = timing.clean_zone_name(time_zone) if time_zone else user_zone(user)
    now = ctx.clock.now()
    settings = ctx.settings.scheduled
    when = timing.resolve_send_at(send_at, time_zone=zone_name, now=now,
                                  max_ahead_days=settings.max_ahead_days, fold=fold)
    if await repo.count_pending(ctx.db, user["_id"]) >= settings.max_pending_per_user:
        raise TooManyScheduled()
    item_id = repo.new_id()
    await _screen(ctx, user_id=user["_id"], item_id=item_id, text=text)
    item = {
        "_id": item_id, "owner_id": user["_id"], "conversation_id": conversation_id,
        "kind": kind, "text": text, "send_at": when, "time_zone": zone_name,
        "status": repo.PENDING, "created_at": now, "updated_at": now,
        "user_message_id": chat_repo.new_id(), "user_seq": None, "reply_id": chat_repo.new_id(),
        "reply_seq": None, "replaces_reply_id": None, "attempts": 0, "lease_owner": None,
        "lease_until": None, "retry_at": None, "error": None, "delivered_at": None,
        "cancelled_at": None, "message_ids": [],
    }
    # The job first: an item stored without its job would never be delivered.
    await queue_delivery(ctx, item_id, when)
    if kind == "reply":
        item["user_seq"] = await _store_question(ctx, conversation, item)
    await repo.insert(ctx.db, item)
    await _remember_zone(ctx, user, time_zone)
    return item


async def _store_question(ctx: Ctx, conversation: Conversation, item: dict[str, Any]) -> int:
    """A `reply` item's text goes into the conversation now, as the user's message."""
    seq = await chat_repo.allocate_seq(ctx.db, conversation["_id"], conversation["owner_id"])
    if seq is None:
        raise chat.ConversationNotFound()
    now = ctx.clock.now()
    await chat_repo.insert_message(ctx.db, {
        "_id": item["user_message_id"], "conversation_id": conversation["_id"],
        "owner_id": conversation["owner_id"], "seq": seq, "role": "user", "text": item["text"],
        "html": None, "status": chat_repo.COMPLETE, "model": None, "usage": None,
        "credits_charged": 0, "reserved_credits": 0, "mood": None, "moderation": None,
        "error_code": None, "created_at": now, "completed_at": now,
        "replaces_message_id": None, "superseded_by": None, "stop_requested": False,
        "scheduled_id": item["_id"]})
    await chat_repo.update_conversation(ctx.db, conversation["_id"], conversation["owner_id"],
                                        {"last_message_at": now, "updated_at": now})
    return seq


async def get(ctx: Ctx, *, user_id: str, item_id: str) -> dict[str, Any]:
    item = await repo.get_owned(ctx.db, item_id, user_id)
    if item is None:
        raise ScheduledNotFound()
    return item


def _statuses(status: str | None) -> list[str] | None:
    if not status:
        return None
    wanted = [part.strip() for part in status.split(",") if part.strip()]
    unknown = [s for s in wanted if s not in repo.STATUSES]
    if unknown or not wanted:
        raise AppError(f"status is one or more of {', '.join(repo.STATUSES)} (comma-separated).",
                       code="invalid_status", status=422)
    return wanted


async def list_for_owner(ctx: Ctx, *, user_id: str, status: str | None = None,
                         conversation_id: str | None = None, limit: int | None = None,
                         cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    if conversation_id is not None:
        await chat.get(ctx, user_id=user_id, conversation_id=conversation_id)
    if limit is not None and not 1 <= limit <= PAGE_MAX:
        raise AppError(f"limit must be between 1 and {PAGE_MAX}.", code="invalid_limit")
    return await repo.page_for_owner(ctx.db, user_id, statuses=_statuses(status),
                                     conversation_id=conversation_id,
                                     limit=limit or PAGE_SIZE, cursor=cursor)


async def for_conversation(ctx: Ctx, *, user_id: str,
                           conversation_id: str) -> list[dict[str, Any]]:
    """What the conversation's strip shows: pending, delivering and failed items."""
    return await repo.open_for_conversation(ctx.db, conversation_id, user_id)


async def edit(ctx: Ctx, *, user: User, item_id: str, text: str | None = None,
               send_at: str | None = None, time_zone: str | None = None,
               fold: int = 0) -> dict[str, Any]:
    item = await get(ctx, user_id=user["_id"], item_id=item_id)
    if text is None and send_at is None:
        raise NothingToChange()
    if item["status"] != repo.PENDING:
        raise NotPending()
    now = ctx.clock.now()
    changes: dict[str, Any] = {"updated_at": now}
    if text is not None:
        changes["text"] = clean_text(ctx, text)
        await _screen(ctx, user_id=user["_id"], item_id=item_id, text=changes["text"])
    if send_at is not None:
        zone_name = timing.clean_zone_name(time_zone) if time_zone else item["time_zone"]
        changes["send_at"] = timing.resolve_send_at(
            send_at, time_zone=zone_name, now=now,
            max_ahead_days=ctx.settings.scheduled.max_ahead_days, fold=fold)
        changes["time_zone"] = zone_name
        await queue_delivery(ctx, item_id, changes["send_at"])
    updated = await repo.update_pending(ctx.db, item_id, user["_id"], changes)
    if updated is None:  # a delivery (or a cancel) took it meanwhile
        raise NotPending()
    if "text" in changes and updated["kind"] == "reply":
        await chat_repo.update_message(ctx.db, updated["user_message_id"],
                                       {"text": changes["text"]})
    return updated


async def cancel(ctx: Ctx, *, user_id: str, item_id: str) -> dict[str, Any]:
    """Cancel a pending item: its text is removed from the store (a `reply` item's stored
    message too). Cancelling again answers the cancelled item; a delivered one is 409."""
    cancelled = await repo.cancel(ctx.db, item_id, user_id, now=ctx.clock.now())
    if cancelled is None:
        item = await get(ctx, user_id=user_id, item_id=item_id)
        if item["status"] == repo.CANCELLED:
            return item
        raise NotPending("This scheduled message is being delivered or was already; it can "
                         "no longer be cancelled.")
    if cancelled["kind"] == "reply":
        await chat_repo.delete_messages(ctx.db, [cancelled["user_message_id"]], owner_id=user_id)
    return cancelled


async def dismiss(ctx: Ctx, *, user_id: str, item_id: str) -> None:
    """Remove a failed item from the strip (and the store)."""
    item = await get(ctx, user_id=user_id, item_id=item_id)
    if item["status"] != repo.FAILED or not await repo.dismiss_failed(ctx.db, item_id, user_id):
        raise Conflict("Only a failed scheduled message can be dismissed.",
                       code="scheduled_not_failed")


async def set_preferences(ctx: Ctx, *, user: User, time_zone: str | None,
                          email_notice: bool | None) -> User:
    zone_name = timing.clean_zone_name(time_zone) if time_zone is not None else None
    return await profile.update_preferences(ctx, user, time_zone=zone_name,
                                            scheduled_email_notice=email_notice)
