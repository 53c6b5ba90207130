"""Persona memories: adding, editing, pinning, deleting, listing and recalling them.

Owns the `memories` collection (through `repo.py`) and decides what a valid memory is. Only the
persona's owner reads or changes its memories; to anyone else the persona does not exist (404).
Every memory is embedded when written, off the event loop; if the embedding provider fails the
text is kept anyway with no vector, a `memory.reembed` job is queued, and recall finds the memory
by its words until the vector exists. This module never imports the web framework.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from clonechats.errors import AppError, Conflict, NotFound
from clonechats.personas import ownership
from clonechats.personas import repo as persona_repo
from clonechats.personas.memory import recall as ranking
from clonechats.personas.memory import repo, vectors
from clonechats.providers.errors import ProviderError

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

REEMBED = "memory.reembed"
MAX_TEXT = 1000
MAX_MEMORIES = 10_000
MAX_PINNED = 20
MAX_RECALL = 50
LIMIT_RACE_MARGIN = 100  # concurrent adds closer than this to the limit are counted again
PAGE_DEFAULT, PAGE_MAX = 50, 100
COPY_BATCH = 500
REEMBED_BATCH = 64
_ALLOWED_CONTROLS = {"\n", "\t"}

Source = Literal["user", "chat"]


class MemoryNotFound(NotFound):
    code = "memory_not_found"
    message = "No such memory."


class InvalidMemoryText(AppError):
    code = "invalid_memory_text"
    status = 422
    message = f"A memory is 1 to {MAX_TEXT} characters of text."


class NothingToChange(AppError):
    code = "nothing_to_change"
    status = 422
    message = "Send the new text, a pinned value, or both."


class MemoryFull(Conflict):
    code = "memory_full"
    message = (f"This persona already has {MAX_MEMORIES:,} memories, the most it can keep. "
               "Delete some before adding more.")


class TooManyPinned(Conflict):
    code = "too_many_pinned"
    message = (f"At most {MAX_PINNED} memories can be pinned, because pinned memories are "
               "always recalled. Unpin one first.")


def clean_text(text: str) -> str:
    """The text as stored (line endings normalised, outer space trimmed) or InvalidMemoryText."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise InvalidMemoryText("A memory cannot be empty.")
    if len(text) > MAX_TEXT:
        raise InvalidMemoryText(f"A memory is at most {MAX_TEXT} characters "
                                f"(this one has {len(text)}).")
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and char not in _ALLOWED_CONTROLS:
            raise InvalidMemoryText("A memory cannot contain control characters.")
    return text


def public(memory: dict[str, Any]) -> dict[str, Any]:
    """The API shape of a memory: never its vector."""
    embedding = memory.get("embedding")
    model = memory.get("embedding_model", embedding.get("model_id") if embedding else None)
    return {
        "id": memory["_id"], "persona_id": memory["persona_id"], "text": memory["text"],
        "pinned": memory["pinned"], "source": memory["source"],
        "source_conversation_id": memory.get("source_conversation_id"),
        "created_at": memory["created_at"], "updated_at": memory["updated_at"],
        "embedding_model": model, "source_message_id": memory.get("source_message_id"),
    }


async def _embed(ctx: Ctx, text: str) -> dict[str, Any] | None:
    provider = ctx.embeddings
    if provider is None:
        return None
    try:
        [vector] = await provider.embed_passages([text])
        return vectors.pack(provider.model_id, vector)
    except (ProviderError, ValueError) as exc:
        log.warning("memory embedding failed; queued for later",
                    extra={"provider": provider.name, "error": str(exc)})
        return None


async def _queue_reembed(ctx: Ctx, persona_id: str) -> None:
    # At most one job per persona, model and minute, however many writes or recalls find
    # memories without a vector: one run embeds all of them. Recall queues another later if
    # some are still missing.
    minute = ctx.clock.now().strftime("%Y%m%d%H%M")
    model_id = ctx.embeddings.model_id if ctx.embeddings else "none"
    await ctx.enqueue(REEMBED, {"persona_id": persona_id},
                      dedupe_key=f"{REEMBED}:{persona_id}:{model_id}:{minute}")


async def _owned(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str) -> dict[str, Any]:
    await ownership.get_owned(ctx, user_id=user_id, persona_id=persona_id)
    memory = await repo.get(ctx.db, persona_id=persona_id, memory_id=memory_id)
    if memory is None or memory.get("owner_id", user_id) != user_id:
        raise MemoryNotFound()  # another user's memory of a public persona is not the owner's
    return memory


async def add(ctx: Ctx, *, user_id: str, persona_id: str, text: str, pinned: bool = False,
              source: Source = "user", source_conversation_id: str | None = None,
              ) -> dict[str, Any]:
    """Store a memory for the owner's persona. From a chat, pass the conversation it came from."""
    persona = await ownership.get_owned(ctx, user_id=user_id, persona_id=persona_id)
    text = clean_text(text)
    if source == "chat" and not source_conversation_id:
        raise ValueError("a memory from a chat names its conversation")
    existing = await repo.count(ctx.db, persona_id)
    if existing >= MAX_MEMORIES:
        raise MemoryFull()
    if pinned and await repo.count(ctx.db, persona_id, pinned=True) >= MAX_PINNED:
        raise TooManyPinned()
    now = ctx.clock.now()
    memory: dict[str, Any] = {
        "_id": repo.new_memory_id(), "persona_id": persona_id, "owner_id": persona["owner_id"],
        "text": text, "pinned": pinned, "source": source, "created_at": now, "updated_at": now,
        "version": repo.new_version(), "embedding": await _embed(ctx, text),
    }
    if source == "chat":
        memory["source_conversation_id"] = source_conversation_id
    await repo.insert(ctx.db, memory)
    near_limit = existing >= MAX_MEMORIES - LIMIT_RACE_MARGIN
    if near_limit and await repo.count(ctx.db, persona_id) > MAX_MEMORIES:  # lost a race
        await repo.delete(ctx.db, persona_id=persona_id, memory_id=memory["_id"])
        raise MemoryFull()
    if memory["embedding"] is None and ctx.embeddings is not None:
        await _queue_reembed(ctx, persona_id)
    return memory


async def get(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str) -> dict[str, Any]:
    return await _owned(ctx, user_id=user_id, persona_id=persona_id, memory_id=memory_id)


async def update(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str,
                 text: str | None = None, pinned: bool | None = None) -> dict[str, Any]:
    """Change the text (re-embedded) and/or the pin of one memory."""
    memory = await _owned(ctx, user_id=user_id, persona_id=persona_id, memory_id=memory_id)
    if text is None and pinned is None:
        raise NothingToChange()
    changes: dict[str, Any] = {}
    if text is not None:
        text = clean_text(text)
        if text != memory["text"]:
            changes["text"] = text
    if pinned is not None and pinned != memory["pinned"]:
        if pinned and await repo.count(ctx.db, persona_id, pinned=True) >= MAX_PINNED:
            raise TooManyPinned()
        changes["pinned"] = pinned
    if not changes:
        return memory
    if "text" in changes:
        changes["embedding"] = await _embed(ctx, changes["text"])
    updated = await repo.update(ctx.db, persona_id=persona_id, memory_id=memory_id,
                                changes=changes, now=ctx.clock.now())
    if updated is None:
        raise MemoryNotFound()
    if "text" in changes and updated["embedding"] is None and ctx.embeddings is not None:
        await _queue_reembed(ctx, persona_id)
    return updated


async def delete(ctx: Ctx, *, user_id: str, persona_id: str, memory_id: str) -> None:
    await _owned(ctx, user_id=user_id, persona_id=persona_id, memory_id=memory_id)
    if not await repo.delete(ctx.db, persona_id=persona_id, memory_id=memory_id):
        raise MemoryNotFound()


async def list_page(ctx: Ctx, *, user_id: str, persona_id: str, limit: int = PAGE_DEFAULT,
                    cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Pinned memories first, then the newest; `cursor` comes from the previous page."""
    await ownership.get_owned(ctx, user_id=user_id, persona_id=persona_id)
    return await repo.page(ctx.db, persona_id, limit=max(1, min(limit, PAGE_MAX)),
                           cursor=cursor or None, owner_id=user_id)


async def recall(ctx: Ctx, *, persona_id: str, query: str, k: int = 5,
                 user_id: str | None = None) -> list[ranking.Recalled]:
    """The k memories of the persona that best match `query`, plus every pinned one; with
    `user_id`, only that user's own memories (what they typed in, or what was learnt from
    their chats), never another user's: a chat passes the chatting user, so the owner of a
    public persona never has their memories recalled into someone else's prompt. Says nothing
    about who may see the persona: callers check that.
    """
    k = max(1, min(k, MAX_RECALL))
    provider = ctx.embeddings
    model_id = provider.model_id if provider is not None else None
    index = await ranking.load_index(ctx.db, persona_id=persona_id, model_id=model_id,
                                     owner_id=user_id)
    if not index.memories:
        return []  # nothing to rank: spare the query embedding
    query_vector = None
    if provider is not None:
        try:
            [query_vector] = await provider.embed_queries([query[:4 * MAX_TEXT]])
        except ProviderError as exc:
            log.warning("query embedding failed; recalling by words",
                        extra={"provider": provider.name, "error": str(exc)})
    if query_vector is not None and index.pending_rows:
        await _queue_reembed(ctx, persona_id)
    return ranking.rank(index, query=query, query_vector=query_vector, k=k)


async def search(ctx: Ctx, *, user_id: str, persona_id: str, query: str,
                 k: int = 5) -> list[ranking.Recalled]:
    """`recall` for the persona's owner: what a message would bring back, with scores."""
    await ownership.get_owned(ctx, user_id=user_id, persona_id=persona_id)
    return await recall(ctx, persona_id=persona_id, query=query, k=k, user_id=user_id)


async def reembed_persona(ctx: Ctx, *, persona_id: str, limit: int = 1000) -> tuple[int, bool]:
    """Give up to `limit` memories lacking a current vector one.

    Returns (vectors stored, whether some are still missing). A memory edited meanwhile keeps
    its new text and is picked up again. Provider errors propagate: the job runner retries.
    """
    provider = ctx.embeddings
    if provider is None:
        return 0, False
    stored = attempts = 0
    while attempts < limit:
        pending = await repo.needing_embedding(ctx.db, persona_id, model_id=provider.model_id,
                                               limit=min(REEMBED_BATCH, limit - attempts))
        if not pending:
            return stored, False
        embedded = await provider.embed_passages([memory["text"] for memory in pending])
        for memory, vector in zip(pending, embedded, strict=True):
            stored += await repo.set_embedding(ctx.db, persona_id=persona_id,
                                               memory_id=memory["_id"],
                                               version=memory["version"],
                                               embedding=vectors.pack(provider.model_id, vector))
        attempts += len(pending)
    remaining = await repo.needing_embedding(ctx.db, persona_id, model_id=provider.model_id,
                                             limit=1)
    return stored, bool(remaining)


async def delete_for_persona(ctx: Ctx, *, persona_id: str) -> int:
    """Remove every memory of a persona (called when the persona is deleted)."""
    ranking.CACHE.discard(persona_id)
    return await repo.delete_for_persona(ctx.db, persona_id)


async def copy_for_persona(ctx: Ctx, *, source_persona_id: str, target_persona_id: str,
                           owner_id: str | None = None) -> int:
    """Copy every memory (vectors included) to a duplicated persona. The copies belong to
    `owner_id`, by default the target persona's owner."""
    if owner_id is None:
        target = await persona_repo.get(ctx.db, target_persona_id)
        if target is None:
            raise ownership.PersonaNotFound()
        owner_id = target["owner_id"]
    now: datetime = ctx.clock.now()
    batch: list[dict[str, Any]] = []
    copied = 0
    source_owner = (await persona_repo.get(ctx.db, source_persona_id) or {}).get("owner_id")
    # Only the source owner's own memories: what other users' chats taught it stays theirs.
    for memory in reversed(await repo.all_for_persona(ctx.db, source_persona_id,
                                                      source_owner or "")):
        batch.append({**memory, "_id": repo.new_memory_id(), "persona_id": target_persona_id,
                      "owner_id": owner_id, "updated_at": now, "version": repo.new_version()})
        if len(batch) >= COPY_BATCH:
            copied += await repo.insert_many(ctx.db, batch)
            batch = []
    copied += await repo.insert_many(ctx.db, batch)
    return copied
