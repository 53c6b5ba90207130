"""The operator's inbox: contact messages and data requests in one list, with deadlines.

Every item has an acknowledgement deadline (3 business days after it arrived) and an answer
deadline (30 days). A contact message is acknowledged when it arrives (the sender gets an
email at once); a data request counts as acknowledged once an admin moved it on or wrote a
note. Overdue items come first (an answer overdue, then an acknowledgement overdue), then the
rest by answer deadline. An admin replies from the console: the answer is emailed to the
sender (or to the requester's address) and recorded on the item. Never touches HTTP.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, overload

from clonechats.accounts.users import User
from clonechats.contact import service as contact
from clonechats.errors import AppError, NotFound
from clonechats.mail import service as mail
from clonechats.privacy import requests as data_requests

if TYPE_CHECKING:
    from clonechats.context import Ctx


CONTACT, DATA_REQUEST = "contact", "data_request"
KINDS = (CONTACT, DATA_REQUEST)
EXCERPT = 280
SOURCE_LIMIT = 500


class NoAddress(AppError):
    code = "no_email"
    status = 409
    message = "This request has no email address to answer; answer it in the app."


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _item(*, kind: str, doc: dict[str, Any], subject: str, text: str, status: str,
          acknowledged: bool, closed: bool, now: datetime) -> dict[str, Any]:
    created = _aware(doc["created_at"])
    ack_due = _aware(doc.get("ack_due_at")) or contact.add_business_days(
        created, contact.ACK_BUSINESS_DAYS)
    due = _aware(doc["due_at"])
    return {
        "kind": kind, "id": doc["_id"], "email": doc.get("email"),
        "user_id": doc.get("user_id"), "subject": subject, "excerpt": text[:EXCERPT],
        "message": text, "status": status, "created_at": created.isoformat(),
        "ack_due_at": ack_due.isoformat(), "due_at": due.isoformat(),
        "acknowledged": acknowledged,
        "ack_overdue": not acknowledged and not closed and ack_due < now,
        "overdue": not closed and due < now, "days_left": (due - now).days,
        "replies": [{"at": _aware(r["at"]).isoformat(), "text": r["text"]}
                    for r in doc.get("replies") or doc.get("notes") or []],
    }


def contact_item(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    return _item(kind=CONTACT, doc=doc, subject=doc["subject"], text=doc["message"],
                 status=doc["status"], acknowledged=doc.get("acknowledged_at") is not None,
                 closed=doc["status"] == contact.CLOSED, now=now)


def request_item(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    acknowledged = doc["status"] != data_requests.OPEN or bool(doc.get("notes"))
    return _item(kind=DATA_REQUEST, doc=doc, subject=f"Data request: {doc['kind']}",
                 text=doc.get("message") or "", status=doc["status"],
                 acknowledged=acknowledged, closed=doc["status"] in data_requests.CLOSED,
                 now=now)


def _order(item: dict[str, Any]) -> tuple[int, str]:
    urgency = 0 if item["overdue"] else 1 if item["ack_overdue"] else 2
    return urgency, item["due_at"]


async def list_items(ctx: Ctx, *, closed: bool = False) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    messages = await contact.active(ctx, closed=closed, limit=SOURCE_LIMIT)
    found, _ = await data_requests.queue(ctx, closed=closed, limit=SOURCE_LIMIT)
    items = [contact_item(m, now) for m in messages] + [request_item(r, now) for r in found]
    return sorted(items, key=_order)


def page(items: list[dict[str, Any]], *, limit: int,
         cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the (sorted) inbox; the cursor is the offset of the next page."""
    start = int(cursor) if cursor and cursor.isdigit() else 0
    chunk = items[start:start + limit]
    return chunk, str(start + limit) if start + limit < len(items) else None


async def reply(ctx: Ctx, *, kind: str, item_id: str, text: str, admin: User,
                close: bool) -> dict[str, Any]:
    """Email an answer and record it on the item; returns the item."""
    now = ctx.clock.now()
    if kind == CONTACT:
        updated = await contact.reply(ctx, message_id=item_id, text=text, admin=admin,
                                      close=close)
        return contact_item(updated, now)
    if kind != DATA_REQUEST:
        raise NotFound("No such inbox item.")
    body = contact.check_reply(text)
    found = await data_requests.get(ctx, item_id)
    if not found.get("email"):
        raise NoAddress()
    await mail.send_email(ctx, to=found["email"], template="operator_reply", context={
        "topic": f"Your data request ({found['kind']})", "text": body},
        idempotency_key=f"data_request:{item_id}:reply:{secrets.token_hex(6)}")
    status = data_requests.DONE if close else (
        data_requests.IN_PROGRESS if found["status"] == data_requests.OPEN else None)
    updated = await data_requests.update(ctx, request_id=item_id, status=status,
                                         note=f"Answered by email: {body}"[:data_requests.NOTE_MAX])
    return request_item(updated, now)
