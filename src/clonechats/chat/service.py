"""Conversations and their messages: create, read, delete, and stop a reply (listing, search,
renaming and pins are `chat.conversation_list`).

A user chats with their own personas or any public one (anonymous trial users included).
Another user's conversation is always "not found", whatever the operation. Starting replies
(send, regenerate, edit) is `chat.replies`. This module never imports the web framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clonechats.chat import generation, repo
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.scheduled import repo as scheduled_repo
from clonechats.errors import AppError, Conflict, NotFound
from clonechats.media.clips import service as clips
from clonechats.media.video import service as video
from clonechats.personas import service as persona_service

if TYPE_CHECKING:
    from clonechats.context import Ctx


PAGE_SIZE, PAGE_MAX = 20, 100
MESSAGE_PAGE, MESSAGE_PAGE_MAX = 50, 200
TITLE_MAX = 80


class ConversationNotFound(NotFound):
    code = "conversation_not_found"
    message = "No such conversation."


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = "No such message."


class ReplyInProgress(Conflict):
    code = "reply_in_progress"
    message = "A reply is still being written in this conversation. Wait for it or stop it."


class InvalidTitle(AppError):
    code = "invalid_title"
    status = 422
    message = f"A title is 1 to {TITLE_MAX} characters."


def clean_title(title: str) -> str:
    title = " ".join((title or "").split())
    if not title or len(title) > TITLE_MAX:
        raise InvalidTitle()
    return title


# Conversations.

async def create(ctx: Ctx, *, user_id: str, persona_id: str,
                 translation: dict[str, str] | None = None) -> Conversation:
    """A new conversation; `translation` (from `chat.translation.service.mode_for`) makes it
    a translation chat."""
    persona = await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    wanted = persona.get("model")
    model = wanted if wanted and ctx.llm.is_enabled(wanted) else ctx.llm.default_model().id
    now = ctx.clock.now()
    conversation = await repo.insert_conversation(ctx.db, {
        "_id": repo.new_id(), "owner_id": user_id, "persona_id": persona["_id"],
        "persona_name": persona["name"], "title": persona["name"], "title_custom": False,
        "model": model, "summary": "", "summary_upto_message_id": None, "summary_upto_seq": 0,
        "message_seq": 0, "generating": None, "created_at": now, "updated_at": now,
        "last_message_at": now, "translation": translation,
    })
    await persona_service.record_chat_started(ctx, persona_id=persona["_id"])
    return conversation


async def get(ctx: Ctx, *, user_id: str, conversation_id: str) -> Conversation:
    conversation = await repo.get_owned(ctx.db, conversation_id, user_id)
    if conversation is None:
        raise ConversationNotFound()
    return conversation


def page_limit(limit: int | None, default: int, most: int) -> int:
    if limit is None:
        return default
    if not 1 <= limit <= most:
        raise AppError(f"limit must be between 1 and {most}.", code="invalid_limit")
    return limit


async def delete(ctx: Ctx, *, user_id: str, conversation_id: str) -> None:
    conversation = await get(ctx, user_id=user_id, conversation_id=conversation_id)
    generating = conversation.get("generating")
    if generating and (found := generation.running(generating["message_id"])) is not None:
        found.request_stop("deleted")
        await found.wait()
    await scheduled_repo.delete_for_conversation(ctx.db, conversation_id, user_id)
    await repo.delete_conversation(ctx.db, conversation_id, user_id)
    # its spoken clips and its video requests go with it
    await clips.delete_for_conversation(ctx, owner_id=user_id, conversation_id=conversation_id)
    await video.delete_for_conversation(ctx, user_id=user_id, conversation_id=conversation_id)


async def delete_message(ctx: Ctx, *, user_id: str, conversation_id: str,
                         message_id: str) -> int:
    """Delete one shown message with its earlier versions (edits, regenerations). If the
    running summary may quote it, the summary is dropped and rebuilt from what remains on the
    next reply. Refused while a reply is being written."""
    conversation = await get(ctx, user_id=user_id, conversation_id=conversation_id)
    message = await get_message(ctx, user_id=user_id, conversation_id=conversation_id,
                                message_id=message_id)
    if message.get("superseded_by"):
        raise MessageNotFound()
    generating = conversation.get("generating")
    if generating and generating["until"] > ctx.clock.now():
        raise ReplyInProgress()
    removed = await repo.delete_message_with_versions(
        ctx.db, conversation_id=conversation_id, owner_id=user_id, message_id=message_id)
    await repo.forget_summary_from(ctx.db, conversation, message["seq"])
    return removed


async def list_messages(ctx: Ctx, *, user_id: str, conversation_id: str,
                        limit: int | None = None,
                        cursor: str | None = None) -> tuple[list[Message], str | None]:
    """The shown messages, a page at a time going back in time; each page oldest first."""
    await get(ctx, user_id=user_id, conversation_id=conversation_id)
    items, next_cursor = await repo.page_messages(
        ctx.db, conversation_id, limit=page_limit(limit, MESSAGE_PAGE, MESSAGE_PAGE_MAX),
        cursor=cursor)
    return list(reversed(items)), next_cursor


async def get_message(ctx: Ctx, *, user_id: str, conversation_id: str,
                      message_id: str) -> Message:
    message = await repo.get_owned_message(ctx.db, conversation_id=conversation_id,
                                           message_id=message_id, owner_id=user_id)
    if message is None:
        raise MessageNotFound()
    return message


async def stop(ctx: Ctx, *, user_id: str, conversation_id: str,
               message_id: str) -> Message:
    """Ask a reply in progress to stop (in this process or any other); a finished reply is
    left as it is."""
    message = await repo.request_stop(ctx.db, conversation_id=conversation_id,
                                      message_id=message_id, owner_id=user_id)
    if message is None:
        raise MessageNotFound()
    found = generation.running(message_id)
    if found is not None:
        found.request_stop("stopped")
        return await found.wait()
    return message
