"""The `conversations` and `messages` collections: the only code that reads or writes them.

The shapes of a conversation and a message are `Conversation` and `Message` below.

Every read that a user causes filters on `owner_id`, so another user's conversation is simply
not found (the document is never loaded for them).
"""

import secrets
from datetime import datetime
from typing import Any, TypedDict, cast

from pymongo import ReturnDocument

from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page


class Conversation(TypedDict, total=False):
    _id: str
    owner_id: str
    persona_id: str
    persona_name: str  # kept for when the persona is gone
    title: str
    title_custom: bool  # renamed by the owner
    model: str
    summary: str | None  # running summary of folded older turns
    summary_upto_message_id: str | None
    summary_upto_seq: int
    message_seq: int  # the last sequence number handed out
    generating: dict[str, Any] | None  # {message_id, until}: the one reply in progress, leased
    created_at: datetime
    updated_at: datetime
    last_message_at: datetime
    pinned: bool  # kept at the top of the owner's list; absent on chats never pinned
    translation: dict[str, Any] | None  # a translation chat's languages (`chat.translation`)
    reply_length: str  # the owner's settings for this chat (`conversation_settings`)
    temperature: float
    about_me: dict[str, str] | None  # {name, description}: who the owner is, for the persona
    unread_count: int  # replies delivered while the owner was away (scheduled messages)
    preview: dict[str, Any] | None  # added by the chat list: the last shown message
    match: dict[str, Any] | None  # added by the chat list's search: where the words are


class Message(TypedDict, total=False):
    _id: str
    conversation_id: str
    owner_id: str
    seq: int  # order inside the conversation
    role: str  # "user" | "assistant"
    text: str
    html: str | None  # sanitised rendering, assistant only
    status: str  # "streaming" | "complete" | "stopped" | "failed" | "blocked"
    model: str | None
    usage: dict[str, int] | None  # {prompt_tokens, completion_tokens}
    credits_charged: int
    reserved_credits: int
    mood: dict[str, Any] | None  # {label, valence}
    mood_pending: bool  # its mood is still to be worked out (`chat.mood_backlog`)
    moderation: dict[str, Any] | None  # {flagged, reason}
    error_code: str | None
    created_at: datetime
    completed_at: datetime | None
    replaces_message_id: str | None  # the message a regenerate or edit replaced
    superseded_by: str | None  # set on a replaced message: stored, no longer shown
    stop_requested: bool
    withheld_text: str  # a reply hidden by moderation; never shown to the user
    ttft_ms: float | None
    latency_ms: float
    # How the model ended: "length" on a "complete" reply means it was cut at the length
    # limit (see `is_cut`).
    finish_reason: str | None
    continuations: int  # how many times a cut reply was continued
    # While a continuation streams, what the reply held before it: {text, usage,
    # credits_charged, ledger_id, prompt_tokens}.
    continuing: dict[str, Any] | None
    continued_at: datetime  # when the last continuation began
    edited_at: datetime  # the owner rewrote a persona reply's text
    # The user message a reply answers: replies to the same message are alternatives of each
    # other, one shown at a time.
    answer_to: str | None
    # Set with superseded_by on every message of a branch put away by an edit or a branch
    # switch: the id of that branch's first user message, so switching back shows exactly
    # those messages again.
    hidden_with: str | None
    translation: dict[str, Any] | None  # {language, text, provider} in a translation chat
    translation_error: str | None
    language: str | None
    language_flag: dict[str, Any] | None  # the language told apart from the declared one
    scheduled_id: str | None

CONVERSATIONS = "conversations"
MESSAGES = "messages"
COLLECTIONS = (CONVERSATIONS, MESSAGES)
CONVERSATION_ORDER = [("last_message_at", -1), ("_id", -1)]

STREAMING, COMPLETE, STOPPED, FAILED, BLOCKED = (
    "streaming", "complete", "stopped", "failed", "blocked")
TERMINAL = (COMPLETE, STOPPED, FAILED, BLOCKED)
LENGTH = "length"  # the finish reason of a reply cut at the length limit
EDITABLE = (COMPLETE, STOPPED)  # the persona replies their owner may rewrite


def is_cut(message: Message) -> bool:
    """A persona reply that ended because it reached the longest allowed reply."""
    return (message.get("role") == "assistant" and message.get("status") == COMPLETE
            and message.get("finish_reason") == LENGTH)

INDEXES = [
    Index(CONVERSATIONS, [("owner_id", 1), ("last_message_at", -1), ("_id", -1)]),
    Index(CONVERSATIONS, [("persona_id", 1)]),
    Index(MESSAGES, [("conversation_id", 1), ("seq", 1)], unique=True),
    Index(MESSAGES, [("owner_id", 1), ("created_at", 1)]),
    Index(MESSAGES, [("mood_pending", 1), ("created_at", 1)], sparse=True),
]


def new_id() -> str:
    return secrets.token_hex(12)


# Conversations.

def new_message(*, conversation_id: str, owner_id: str, seq: int, role: str, text: str,
                now: datetime, status: str, **fields: Any) -> Message:
    """A message as it is first stored; `fields` add to the defaults or replace them."""
    message: dict[str, Any] = {
        "_id": new_id(), "conversation_id": conversation_id, "owner_id": owner_id, "seq": seq,
        "role": role, "text": text, "html": None, "status": status, "model": None,
        "usage": None, "credits_charged": 0, "reserved_credits": 0, "mood": None,
        "moderation": None, "error_code": None, "created_at": now, "completed_at": None,
        "replaces_message_id": None, "superseded_by": None, "stop_requested": False, **fields}
    return cast(Message, message)


async def insert_conversation(db: Any, conversation: Conversation) -> Conversation:
    await db[CONVERSATIONS].insert_one(conversation)
    return conversation


async def get_owned(db: Any, conversation_id: str, owner_id: str) -> Conversation | None:
    return await db[CONVERSATIONS].find_one({"_id": conversation_id, "owner_id": owner_id})


async def get_conversation(db: Any, conversation_id: str) -> Conversation | None:
    return await db[CONVERSATIONS].find_one({"_id": conversation_id})


async def page_conversations(db: Any, owner_id: str, *, limit: int, cursor: str | None = None,
                             where: list[dict[str, Any]] | None = None,
                             ) -> tuple[list[Conversation], str | None]:
    """Newest activity first (of those also matching every condition in `where`), and the next
    page's cursor."""
    query = {"$and": [{"owner_id": owner_id}, *where]} if where else {"owner_id": owner_id}
    return await fetch_page(db[CONVERSATIONS], query, order=CONVERSATION_ORDER,
                            limit=limit, cursor=cursor, kinds=(datetime, str))


async def count_pinned(db: Any, owner_id: str) -> int:
    return await db[CONVERSATIONS].count_documents({"owner_id": owner_id, "pinned": True})


async def update_conversation(db: Any, conversation_id: str, owner_id: str,
                              changes: dict[str, Any]) -> Conversation | None:
    return await db[CONVERSATIONS].find_one_and_update(
        {"_id": conversation_id, "owner_id": owner_id}, {"$set": changes},
        return_document=ReturnDocument.AFTER)


async def delete_conversation(db: Any, conversation_id: str, owner_id: str) -> int:
    """Delete the messages first, then the conversation, so a repeated delete finishes it."""
    removed = await db[MESSAGES].delete_many({"conversation_id": conversation_id,
                                              "owner_id": owner_id})
    result = await db[CONVERSATIONS].delete_one({"_id": conversation_id, "owner_id": owner_id})
    return removed.deleted_count + result.deleted_count


async def acquire_generation(db: Any, conversation_id: str, owner_id: str, *, message_id: str,
                             now: datetime, until: datetime,
                             seq_step: int) -> Conversation | None:
    """Hold the conversation for one reply (one conditional update), handing out `seq_step`
    sequence numbers; None while another reply holds an unexpired lease."""
    return await db[CONVERSATIONS].find_one_and_update(
        {"_id": conversation_id, "owner_id": owner_id,
         "$or": [{"generating": None}, {"generating.until": {"$lte": now}}]},
        {"$set": {"generating": {"message_id": message_id, "until": until}},
         "$inc": {"message_seq": seq_step}},
        return_document=ReturnDocument.AFTER)


async def renew_generation(db: Any, conversation_id: str, *, message_id: str,
                           until: datetime) -> None:
    await db[CONVERSATIONS].update_one(
        {"_id": conversation_id, "generating.message_id": message_id},
        {"$set": {"generating.until": until}})


async def release_generation(db: Any, conversation_id: str, *, message_id: str,
                             changes: dict[str, Any] | None = None) -> None:
    """Let the conversation take the next reply (only if `message_id` still holds it)."""
    await db[CONVERSATIONS].update_one(
        {"_id": conversation_id, "generating.message_id": message_id},
        {"$set": {"generating": None, **(changes or {})}})


async def set_summary(db: Any, conversation_id: str, *, summary: str, upto_message_id: str,
                      upto_seq: int) -> None:
    await db[CONVERSATIONS].update_one(
        {"_id": conversation_id},
        {"$set": {"summary": summary, "summary_upto_message_id": upto_message_id,
                  "summary_upto_seq": upto_seq}})


async def conversations_for_owner(db: Any, owner_id: str) -> list[Conversation]:
    return await db[CONVERSATIONS].find({"owner_id": owner_id}).sort("created_at", 1).to_list()


async def delete_for_owner(db: Any, owner_id: str) -> int:
    messages = await db[MESSAGES].delete_many({"owner_id": owner_id})
    conversations = await db[CONVERSATIONS].delete_many({"owner_id": owner_id})
    return messages.deleted_count + conversations.deleted_count


# Messages.

async def insert_message(db: Any, message: Message) -> Message:
    await db[MESSAGES].insert_one(message)
    return message


async def get_message(db: Any, message_id: str) -> Message | None:
    return await db[MESSAGES].find_one({"_id": message_id})


async def messages_in(db: Any, conversation_id: str, ids: list[str]) -> list[Message]:
    """The messages `ids` of one conversation, oldest first."""
    return await db[MESSAGES].find({"_id": {"$in": ids}, "conversation_id": conversation_id}
                                   ).sort("seq", 1).to_list()


async def get_owned_message(db: Any, *, conversation_id: str, message_id: str,
                            owner_id: str) -> Message | None:
    return await db[MESSAGES].find_one({"_id": message_id, "conversation_id": conversation_id,
                                        "owner_id": owner_id})


async def update_message(db: Any, message_id: str, changes: dict[str, Any], *,
                         status: str | None = None) -> Message | None:
    """Set `changes`; with `status`, only while the message still has that status."""
    query: dict[str, Any] = {"_id": message_id}
    if status is not None:
        query["status"] = status
    return await db[MESSAGES].find_one_and_update(query, {"$set": changes},
                                                  return_document=ReturnDocument.AFTER)


async def begin_continuation(db: Any, message_id: str,
                             changes: dict[str, Any]) -> Message | None:
    """Set a cut reply streaming again (only while it is still cut); None otherwise."""
    return await db[MESSAGES].find_one_and_update(
        {"_id": message_id, "role": "assistant", "status": COMPLETE, "finish_reason": LENGTH,
         "superseded_by": None},
        {"$set": {**changes, "status": STREAMING}}, return_document=ReturnDocument.AFTER)


async def rewrite_reply(db: Any, *, message_id: str, owner_id: str,
                        changes: dict[str, Any]) -> Message | None:
    """Set a shown, ended persona reply's new text; None when it is not one (any more)."""
    return await db[MESSAGES].find_one_and_update(
        {"_id": message_id, "owner_id": owner_id, "role": "assistant", "superseded_by": None,
         "status": {"$in": list(EDITABLE)}},
        {"$set": changes}, return_document=ReturnDocument.AFTER)


async def request_stop(db: Any, *, conversation_id: str, message_id: str,
                       owner_id: str) -> Message | None:
    return await db[MESSAGES].find_one_and_update(
        {"_id": message_id, "conversation_id": conversation_id, "owner_id": owner_id,
         "role": "assistant"},
        {"$set": {"stop_requested": True}}, return_document=ReturnDocument.AFTER)


async def delete_message_with_versions(db: Any, *, conversation_id: str, owner_id: str,
                                      message_id: str) -> int:
    """Delete a message and every earlier version it replaced (however many edits back)."""
    ids = [message_id]
    frontier = [message_id]
    while frontier:
        older = await db[MESSAGES].find({"conversation_id": conversation_id,
                                         "owner_id": owner_id,
                                         "superseded_by": {"$in": frontier}}).to_list()
        frontier = [m["_id"] for m in older if m["_id"] not in ids]
        ids.extend(frontier)
    result = await db[MESSAGES].delete_many({"_id": {"$in": ids}, "owner_id": owner_id})
    return result.deleted_count


async def set_mood(db: Any, message_id: str, mood: dict[str, Any] | None) -> None:
    """Store a pending message's mood (None: none could be worked out)."""
    await db[MESSAGES].update_one({"_id": message_id, "mood_pending": True},
                                  {"$set": {"mood": mood}, "$unset": {"mood_pending": ""}})


async def pending_moods(db: Any, *, limit: int) -> list[Message]:
    """The oldest messages still waiting for their mood."""
    return await db[MESSAGES].find({"mood_pending": True}, {"_id": 1, "text": 1}).sort(
        "created_at", 1).limit(limit).to_list()


async def forget_summary_from(db: Any, conversation: Conversation, seq: int) -> bool:
    """Drop the running summary when it may tell of message `seq` or later (changed, put away
    or deleted), to be rebuilt from what is shown on the next reply; True when it was."""
    if (conversation.get("summary_upto_seq") or 0) < seq:
        return False
    await forget_summary(db, conversation["_id"])
    return True


async def forget_summary(db: Any, conversation_id: str) -> None:
    await db[CONVERSATIONS].update_one(
        {"_id": conversation_id},
        {"$set": {"summary": None, "summary_upto_message_id": None, "summary_upto_seq": 0}})


async def supersede(db: Any, message_ids: list[str], *, by: str,
                    branch: str | None = None) -> None:
    """Hide `message_ids` behind message `by`; with `branch`, as the branch that starts at
    user message `branch` (see `hidden_with` above)."""
    changes: dict[str, Any] = {"superseded_by": by}
    if branch is not None:
        changes["hidden_with"] = branch
    await db[MESSAGES].update_many({"_id": {"$in": message_ids}}, {"$set": changes})


async def hide_branch(db: Any, conversation_id: str, *, from_seq: int, by: str,
                      branch: str) -> None:
    """Put away every shown message from `from_seq` on, as the branch starting at `branch`."""
    await db[MESSAGES].update_many({**_visible(conversation_id), "seq": {"$gte": from_seq}},
                                   {"$set": {"superseded_by": by, "hidden_with": branch}})


async def restore_branch(db: Any, conversation_id: str, branch: str) -> None:
    """Show again the messages put away as the branch starting at `branch`."""
    await db[MESSAGES].update_many({"conversation_id": conversation_id, "hidden_with": branch},
                                   {"$set": {"superseded_by": None, "hidden_with": None}})


async def edited_user_messages(db: Any, conversation_id: str) -> list[Message]:
    """The user messages that replaced another (an edit), shown or not, oldest first."""
    return await db[MESSAGES].find(
        {"conversation_id": conversation_id, "role": "user",
         "replaces_message_id": {"$ne": None}},
        {"_id": 1, "seq": 1, "replaces_message_id": 1}).sort("seq", 1).to_list()


def _visible(conversation_id: str) -> dict[str, Any]:
    return {"conversation_id": conversation_id, "superseded_by": None}


async def page_messages(db: Any, conversation_id: str, *, limit: int, cursor: str | None = None,
                        ) -> tuple[list[Message], str | None]:
    """The shown messages, newest first, and the cursor of the older ones."""
    return await fetch_page(db[MESSAGES], _visible(conversation_id), order=[("seq", -1)],
                            limit=limit, cursor=cursor, kinds=(int,))


async def visible_after(db: Any, conversation_id: str, *, after_seq: int,
                        before_seq: int | None = None) -> list[Message]:
    """The shown messages with after_seq < seq (< before_seq), oldest first."""
    bounds: dict[str, Any] = {"$gt": after_seq}
    if before_seq is not None:
        bounds["$lt"] = before_seq
    return await db[MESSAGES].find({**_visible(conversation_id), "seq": bounds}).sort(
        "seq", 1).to_list()


async def last_visible(db: Any, conversation_id: str, *, count: int = 2) -> list[Message]:
    """The last `count` shown messages, oldest first."""
    found = await db[MESSAGES].find(_visible(conversation_id)).sort("seq", -1).limit(
        count).to_list()
    return list(reversed(found))


async def conversations_with_text(db: Any, owner_id: str, pattern: str) -> list[str]:
    """The conversations with a shown message whose text matches `pattern` (an escaped regular
    expression, matched without regard to case)."""
    return await db[MESSAGES].distinct("conversation_id", {
        "owner_id": owner_id, "superseded_by": None,
        "text": {"$regex": pattern, "$options": "i"}})


async def last_matching(db: Any, conversation_id: str, pattern: str) -> Message | None:
    """The latest shown message whose text matches `pattern`."""
    found = await db[MESSAGES].find({**_visible(conversation_id), "text": {
        "$regex": pattern, "$options": "i"}}).sort("seq", -1).limit(1).to_list()
    return found[0] if found else None


async def replies_to(db: Any, conversation_id: str, user_message_id: str) -> list[Message]:
    """Every reply to one user message, shown or not, oldest first."""
    return await db[MESSAGES].find({"conversation_id": conversation_id, "role": "assistant",
                                    "answer_to": user_message_id}).sort("seq", 1).to_list()


async def show_instead(db: Any, *, chosen_id: str, others: list[str]) -> None:
    """Show reply `chosen_id` in place of the `others`: they are hidden first, so a crash in
    between leaves none of them shown, never two (choosing again repairs it)."""
    if others:
        await db[MESSAGES].update_many({"_id": {"$in": others}},
                                       {"$set": {"superseded_by": chosen_id}})
    await db[MESSAGES].update_one({"_id": chosen_id}, {"$set": {"superseded_by": None}})


async def messages_for_owner(db: Any, owner_id: str) -> list[Message]:
    return await db[MESSAGES].find({"owner_id": owner_id}).sort(
        [("conversation_id", 1), ("seq", 1)]).to_list()


# Scheduled delivery (`chat.scheduled`).

async def allocate_seq(db: Any, conversation_id: str, owner_id: str) -> int | None:
    """Hand out the conversation's next sequence number without taking it for a reply (a
    message stored now whose reply comes later); None when there is no such conversation."""
    found = await db[CONVERSATIONS].find_one_and_update(
        {"_id": conversation_id, "owner_id": owner_id}, {"$inc": {"message_seq": 1}},
        return_document=ReturnDocument.AFTER)
    return None if found is None else found["message_seq"]


async def take_for_reply(db: Any, conversation_id: str, owner_id: str, *, message_id: str,
                         now: datetime, until: datetime, seq_step: int) -> Conversation | None:
    """Like `acquire_generation`, but also when `message_id` already holds the conversation (a
    delivery resumed after its process died)."""
    return await db[CONVERSATIONS].find_one_and_update(
        {"_id": conversation_id, "owner_id": owner_id,
         "$or": [{"generating": None}, {"generating.until": {"$lte": now}},
                 {"generating.message_id": message_id}]},
        {"$set": {"generating": {"message_id": message_id, "until": until}},
         "$inc": {"message_seq": seq_step}},
        return_document=ReturnDocument.AFTER)


async def insert_message_once(db: Any, message: Message) -> bool:
    """Insert a message whose `_id` was chosen ahead; False when it is already stored."""
    from pymongo.errors import DuplicateKeyError

    try:
        await db[MESSAGES].insert_one(message)
    except DuplicateKeyError:
        if await db[MESSAGES].find_one({"_id": message["_id"]}) is None:
            raise
        return False
    return True


async def delete_messages(db: Any, message_ids: list[str], *, owner_id: str) -> int:
    result = await db[MESSAGES].delete_many({"_id": {"$in": message_ids}, "owner_id": owner_id})
    return result.deleted_count


async def mark_unread(db: Any, conversation_id: str) -> None:
    await db[CONVERSATIONS].update_one({"_id": conversation_id}, {"$inc": {"unread_count": 1}})


async def clear_unread(db: Any, conversation_id: str, owner_id: str) -> None:
    await db[CONVERSATIONS].update_one(
        {"_id": conversation_id, "owner_id": owner_id, "unread_count": {"$gt": 0}},
        {"$set": {"unread_count": 0}})
