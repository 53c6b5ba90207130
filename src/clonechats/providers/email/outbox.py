"""The local outbox: the default email provider, which keeps every message in the database.

Nothing leaves the machine. Each sent message becomes one document in the `outbox` collection,
newest listed first, so that in development mode an admin can read verification and reset emails
in the browser (see `mail.service.outbox_page_data`). This module is the only code touching the
collection. An idempotency key already stored returns the stored message's id and stores nothing.
"""

import secrets
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.clock import Clock
from clonechats.providers.email.base import EmailMessage, SentEmail
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

COLLECTION = "outbox"
COLLECTIONS = (COLLECTION,)
EXPIRING = Expiring(COLLECTION)
PAGE_ORDER = [("created_at", -1), ("_id", -1)]

INDEXES = [
    Index(COLLECTION, PAGE_ORDER),
    Index(COLLECTION, [("idempotency_key", 1)], unique=True),
]

MAX_PAGE = 100


class OutboxEmailProvider:
    name = "outbox"

    def __init__(self, *, db: Any, clock: Clock, from_address: str) -> None:
        self._db = db
        self._clock = clock
        self._from_address = from_address

    async def send(self, message: EmailMessage) -> SentEmail:
        document = {
            "_id": secrets.token_hex(12),
            "idempotency_key": message.idempotency_key,
            "from_address": self._from_address,
            "to": message.to,
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
            "tags": dict(message.tags),
            "created_at": self._clock.now(),
        }
        try:
            await self._db[COLLECTION].insert_one(document)
        except DuplicateKeyError:
            existing = await self._db[COLLECTION].find_one(
                {"idempotency_key": message.idempotency_key}, {"_id": 1}
            )
            if existing is None:  # removed between the insert and this read
                raise
            return SentEmail(provider_message_id=str(existing["_id"]))
        return SentEmail(provider_message_id=str(document["_id"]))


async def list_outbox(db: Any, *, limit: int = 25,
                      cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of stored messages, newest first, and the cursor of the next page (or None);
    `storage.pagination.InvalidCursor` for a cursor this list never handed out."""
    return await fetch_page(db[COLLECTION], {}, order=PAGE_ORDER,
                            limit=max(1, min(limit, MAX_PAGE)), cursor=cursor,
                            kinds=(datetime, str))


async def get(db: Any, message_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": message_id})


async def list_to(db: Any, address: str) -> list[dict[str, Any]]:
    return await db[COLLECTION].find({"to": address}).sort("created_at", 1).to_list()


async def delete_to(db: Any, address: str) -> int:
    return (await db[COLLECTION].delete_many({"to": address})).deleted_count
