"""The local outbox: the default email provider, which keeps every message in the database.

Nothing leaves the machine. Each sent message becomes one document in the `outbox` collection,
newest listed first, so that in development mode an admin can read verification and reset emails
in the browser (see `mail.service.outbox_page_data`). This module is the only code touching the
collection. An idempotency key already stored returns the stored message's id and stores nothing.
"""

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import DuplicateKeyError

from clonechats.clock import Clock
from clonechats.errors import AppError
from clonechats.providers.email.base import EmailMessage, SentEmail
from clonechats.storage.indexes import Index

COLLECTION = "outbox"

INDEXES = [
    Index(COLLECTION, [("created_at", -1), ("_id", -1)]),
    Index(COLLECTION, [("idempotency_key", 1)], unique=True),
]

MAX_PAGE = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"(?P<micros>[0-9]{1,18})\.(?P<id>[0-9a-f]{24})")


class InvalidCursor(AppError):
    code = "invalid_cursor"
    status = 400
    message = "That page link is not valid. Start again from the first page."


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
            return SentEmail(provider_message_id=existing["_id"])
        return SentEmail(provider_message_id=document["_id"])


def encode_cursor(document: dict[str, Any]) -> str:
    created_at: datetime = document["created_at"]
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return f"{(created_at - _EPOCH) // _MICROSECOND}.{document['_id']}"


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    match = _CURSOR.fullmatch(cursor)
    if match is None:
        raise InvalidCursor()
    try:
        created_at = _EPOCH + int(match["micros"]) * _MICROSECOND
    except OverflowError:
        raise InvalidCursor() from None
    return created_at, match["id"]


async def list_outbox(db: Any, *, limit: int = 25,
                      cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of stored messages, newest first, and the cursor of the next page (or None)."""
    limit = max(1, min(limit, MAX_PAGE))
    query: dict[str, Any] = {}
    if cursor:
        created_at, message_id = decode_cursor(cursor)
        query = {"$or": [
            {"created_at": {"$lt": created_at}},
            {"created_at": created_at, "_id": {"$lt": message_id}},
        ]}
    found = await (db[COLLECTION].find(query)
                   .sort([("created_at", -1), ("_id", -1)])
                   .limit(limit + 1)
                   .to_list())
    items = found[:limit]
    next_cursor = encode_cursor(items[-1]) if len(found) > limit else None
    return items, next_cursor


async def get(db: Any, message_id: str) -> dict[str, Any] | None:
    return await db[COLLECTION].find_one({"_id": message_id})


async def list_to(db: Any, address: str) -> list[dict[str, Any]]:
    return await db[COLLECTION].find({"to": address}).sort("created_at", 1).to_list()


async def delete_to(db: Any, address: str) -> int:
    return (await db[COLLECTION].delete_many({"to": address})).deleted_count
