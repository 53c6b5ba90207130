"""Memories a persona learns from the conversation: "the system remembers".

After a message is sent, `queue()` adds a `memory.learn` job (off the reply's path). The job
reads the message again (an edited, deleted or blocked message teaches nothing), checks that
its author may still use the persona and has not turned learning off for it, and stores each
durable fact the author stated about themselves (`extract.extract_facts`) as a memory with
provenance: source "chat", the conversation and the message. The memory belongs to the user who
said it, not to the persona's owner, so a public persona never recalls one user's facts for
another (`service.recall(user_id=...)`).

Duplicates merge: a fact about the same thing (`fact_key`, e.g. "my:dog") replaces the older
memory's text; a fact whose meaning is already stored (cosine >= DUPLICATE_COSINE with one of
the user's memories of that persona, or the same words) is not stored twice.
`mine` / `edit_mine` / `delete_mine` / `forget_message` are what the chat's memory panel
uses: the user's own memories of a persona they may chat with. Never imports the web framework.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from clonechats.chat import repo as chat_repo
from clonechats.chat.repo import Message
from clonechats.personas import service as persona_service
from clonechats.personas.memory import recall as ranking
from clonechats.personas.memory import repo, service, vectors
from clonechats.personas.memory.extract import extract_facts

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

LEARN = "memory.learn"
DUPLICATE_COSINE = 0.93


async def queue(ctx: Ctx, *, message_id: str) -> None:
    """Learn from the user message `message_id`, in the background."""
    await ctx.enqueue(LEARN, {"message_id": message_id}, dedupe_key=f"{LEARN}:{message_id}")


async def queue_quietly(ctx: Ctx, *, message_id: str) -> None:
    """`queue`, where failing to queue must not fail the reply (learning is a nicety)."""
    try:
        await queue(ctx, message_id=message_id)
    except Exception:
        log.warning("could not queue learning from a message", exc_info=True,
                    extra={"message_id": message_id})


async def learn_from_message(ctx: Ctx, message_id: str) -> list[dict[str, Any]]:
    """Store what the message says about its author; returns the memories written."""
    message = await chat_repo.get_message(ctx.db, message_id)
    if (message is None or message["role"] != "user" or message["status"] != chat_repo.COMPLETE
            or message.get("superseded_by")):
        return []
    conversation = await chat_repo.get_conversation(ctx.db, message["conversation_id"])
    if conversation is None:
        return []
    user_id, persona_id = message["owner_id"], conversation["persona_id"]
    try:
        await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    except persona_service.PersonaNotFound:
        return []
    if not await repo.learning_enabled(ctx.db, user_id=user_id, persona_id=persona_id):
        return []
    written = []
    for fact in extract_facts(message["text"]):
        memory = await _remember(ctx, user_id=user_id, persona_id=persona_id, key=fact.key,
                                 text=fact.text, message=message)
        if memory is not None:
            written.append(memory)
    if written:
        log.info("memories learnt from a chat", extra={"persona_id": persona_id,
                                                       "count": len(written)})
    return written


async def _duplicate(ctx: Ctx, *, user_id: str, persona_id: str, text: str,
                     embedding: dict[str, Any] | None) -> bool:
    index = await ranking.load_index(ctx.db, persona_id=persona_id, owner_id=user_id,
                                     model_id=embedding["model_id"] if embedding else None)
    plain = " ".join(text.lower().split())
    if any(" ".join(m["text"].lower().split()) == plain for m in index.memories):
        return True
    if embedding is None or not index.matrix.shape[0]:
        return False
    vector = vectors.unpack(embedding)
    if vector.size != index.matrix.shape[1]:
        return False
    vector = vector / (np.linalg.norm(vector) or 1.0)
    return float(np.max(index.matrix @ vector)) >= DUPLICATE_COSINE


async def _remember(ctx: Ctx, *, user_id: str, persona_id: str, key: str, text: str,
                    message: Message) -> dict[str, Any] | None:
    now = ctx.clock.now()
    provenance = {"source": "chat", "source_conversation_id": message["conversation_id"],
                  "source_message_id": message["_id"], "fact_key": key}
    same_subject = await repo.find_fact(ctx.db, persona_id=persona_id, owner_id=user_id,
                                        fact_key=key)
    if same_subject is not None:
        if same_subject["text"] == text:
            return None
        embedding = await service._embed(ctx, text)
        return await repo.update(ctx.db, persona_id=persona_id, memory_id=same_subject["_id"],
                                 changes={"text": text, "embedding": embedding, **provenance},
                                 now=now)
    embedding = await service._embed(ctx, text)
    if await _duplicate(ctx, user_id=user_id, persona_id=persona_id, text=text,
                        embedding=embedding):
        return None
    if await repo.count(ctx.db, persona_id) >= service.MAX_MEMORIES:
        log.warning("persona memory full; a learnt fact was not kept",
                    extra={"persona_id": persona_id})
        return None
    memory = {"_id": repo.new_memory_id(), "persona_id": persona_id, "owner_id": user_id,
              "text": text, "pinned": False, "created_at": now, "updated_at": now,
              "version": repo.new_version(), "embedding": embedding, **provenance}
    await repo.insert(ctx.db, memory)
    if embedding is None and ctx.embeddings is not None:
        await service._queue_reembed(ctx, persona_id)
    return memory


# The user's own memories of a persona they may chat with (the chat's memory panel).

async def _mine(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str) -> dict[str, Any]:
    await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    memory = await repo.get(ctx.db, persona_id=persona_id, memory_id=memory_id)
    if memory is None or memory["owner_id"] != user_id:
        raise service.MemoryNotFound()
    return memory


async def mine(ctx: Ctx, *, user_id: str, persona_id: str, limit: int = service.PAGE_DEFAULT,
               cursor: str | None = None,
               message_id: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The user's memories of the persona (pinned first, newest next); with `message_id`,
    only those learnt from that message."""
    await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    if message_id is not None:
        return await repo.learnt_from(ctx.db, persona_id=persona_id, owner_id=user_id,
                                      message_id=message_id), None
    return await repo.page(ctx.db, persona_id, limit=max(1, min(limit, service.PAGE_MAX)),
                           cursor=cursor or None, owner_id=user_id)


async def edit_mine(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str,
                    text: str | None = None, pinned: bool | None = None) -> dict[str, Any]:
    memory = await _mine(ctx, user_id=user_id, persona_id=persona_id, memory_id=memory_id)
    if text is None and pinned is None:
        raise service.NothingToChange()
    changes: dict[str, Any] = {}
    if text is not None and service.clean_text(text) != memory["text"]:
        changes["text"] = service.clean_text(text)
        changes["embedding"] = await service._embed(ctx, changes["text"])
    if pinned is not None and pinned != memory["pinned"]:
        if pinned and await _pinned_count(ctx, persona_id, user_id) >= service.MAX_PINNED:
            raise service.TooManyPinned()
        changes["pinned"] = pinned
    if not changes:
        return memory
    updated = await repo.update(ctx.db, persona_id=persona_id, memory_id=memory_id,
                                changes=changes, now=ctx.clock.now())
    if updated is None:
        raise service.MemoryNotFound()
    return updated


async def _pinned_count(ctx: Ctx, persona_id: str, user_id: str) -> int:
    return await repo.count_pinned_by(ctx.db, persona_id=persona_id, owner_id=user_id)


async def delete_mine(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str) -> None:
    await _mine(ctx, user_id=user_id, persona_id=persona_id, memory_id=memory_id)
    if not await repo.delete(ctx.db, persona_id=persona_id, memory_id=memory_id):
        raise service.MemoryNotFound()


async def forget_message(ctx: Ctx, *, user_id: str, persona_id: str, message_id: str) -> int:
    """Delete what was learnt from one message (offered when that message is deleted)."""
    await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    found = await repo.learnt_from(ctx.db, persona_id=persona_id, owner_id=user_id,
                                   message_id=message_id)
    deleted = 0
    for memory in found:
        deleted += await repo.delete(ctx.db, persona_id=persona_id, memory_id=memory["_id"])
    return deleted


async def learning(ctx: Ctx, *, user_id: str, persona_id: str) -> bool:
    await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    return await repo.learning_enabled(ctx.db, user_id=user_id, persona_id=persona_id)


async def set_learning(ctx: Ctx, *, user_id: str, persona_id: str, enabled: bool) -> bool:
    await persona_service.get_usable(ctx, user_id=user_id, persona_id=persona_id)
    await repo.set_learning(ctx.db, user_id=user_id, persona_id=persona_id, enabled=enabled)
    return enabled
