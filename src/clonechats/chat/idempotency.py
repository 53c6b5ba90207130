"""`Idempotency-Key` on message sends: a retried send never sends (or charges) twice.

Owns the `send_keys` collection: {_id: digest of (user, key), owner_id, conversation_id,
text_digest, reply_id (None while the first send is being taken), created_at, expires_at}.

- The first request with a key claims it (one insert; the unique `_id` settles a race), sends,
  and stores the reply's id. If the send is refused (blocked, no credits, busy) the claim is
  dropped, so nothing is remembered for a request that changed nothing (as Stripe does).
- A retry with the same key, conversation and text gets the reply the first one started, as it
  is now (200, `Idempotent-Replayed: true`); nothing new is stored or charged.
- The same key with another conversation or text is 422 `idempotency_key_reused`; a retry
  while the first is still being taken is 409 `idempotency_in_progress`.
- Keys are kept `KEEP` (24 h, the retention rule `send_keys`), are at most 255 characters, and
  go with the account (privacy registry). Never imports the web framework.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from clonechats.chat import repo
from clonechats.chat.repo import Message
from clonechats.errors import AppError, Conflict
from clonechats.privacy.registry import DataHolder, Owned, register
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


SEND_KEYS = "send_keys"
COLLECTIONS = (SEND_KEYS,)
EXPIRING = Expiring(SEND_KEYS)
KEEP = timedelta(hours=24)
MAX_KEY = 255

INDEXES = [Index(SEND_KEYS, [("owner_id", 1)]), Index(SEND_KEYS, [("expires_at", 1)])]


class KeyReused(AppError):
    code = "idempotency_key_reused"
    status = 422
    message = "This Idempotency-Key was already used for a different message."


class KeyInProgress(Conflict):
    code = "idempotency_in_progress"
    message = "The first request with this Idempotency-Key is still being handled."


class InvalidKey(AppError):
    code = "invalid_idempotency_key"
    status = 400
    message = f"An Idempotency-Key is 1 to {MAX_KEY} printable characters."


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


async def send_once(ctx: Ctx, *, key: str, user_id: str, conversation_id: str, text: str,
                    send: Any) -> tuple[Any, Message | None]:
    """(generation, None) for a first send through `send()`, or (None, reply) for a retry."""
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidKey()
    now = ctx.clock.now()
    claim_id, text_digest = _digest(user_id, key), _digest(text)
    await ctx.db[SEND_KEYS].delete_one({"_id": claim_id, "expires_at": {"$lte": now}})
    try:
        await ctx.db[SEND_KEYS].insert_one({
            "_id": claim_id, "owner_id": user_id, "conversation_id": conversation_id,
            "text_digest": text_digest, "reply_id": None, "created_at": now,
            "expires_at": now + KEEP})
    except DuplicateKeyError:
        return None, await _replay(ctx, claim_id, conversation_id, text_digest, user_id)
    try:
        generation = await send()
    except BaseException:
        await ctx.db[SEND_KEYS].delete_one({"_id": claim_id})
        raise
    await ctx.db[SEND_KEYS].update_one({"_id": claim_id},
                                       {"$set": {"reply_id": generation.plan.message_id}})
    return generation, None


async def _replay(ctx: Ctx, claim_id: str, conversation_id: str, text_digest: str,
                  user_id: str) -> Message:
    claim = await ctx.db[SEND_KEYS].find_one({"_id": claim_id})
    if claim is None:
        raise KeyInProgress()  # the first request was refused just now: retry
    if claim["conversation_id"] != conversation_id or claim["text_digest"] != text_digest:
        raise KeyReused()
    if not claim["reply_id"]:
        raise KeyInProgress()
    reply = await repo.get_owned_message(ctx.db, conversation_id=conversation_id,
                                         message_id=claim["reply_id"], owner_id=user_id)
    if reply is None:  # deleted since
        raise KeyReused("The message sent with this Idempotency-Key was deleted.")
    return reply


async def _export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {"send_keys": len(await ctx.db[SEND_KEYS].find({"owner_id": user_id}).to_list())}


async def _delete(ctx: Ctx, user_id: str) -> int:
    return (await ctx.db[SEND_KEYS].delete_many({"owner_id": user_id})).deleted_count


register(DataHolder(name="send_keys", description="Keys of recent message sends (24 hours), "
                    "so that a retried send is not sent twice", export=_export, delete=_delete,
                    collections=(Owned(SEND_KEYS),)))
