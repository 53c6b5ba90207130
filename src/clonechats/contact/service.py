"""Contact messages: anyone writes to the operator; the operator answers by email.

`send` (public, throttled per hashed address) stores the message, emails it to the operator's
address (`admin.operator_email`, else `contact_email`) and acknowledges it to the sender, both
through the mail outbox and its jobs. Deadlines follow the privacy policy: acknowledged within
3 business days (the acknowledgement goes out at once), answered within 30 days. `reply`
emails the operator's answer to the sender and records it. Never touches HTTP.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.accounts.emails import InvalidEmail, normalise_email
from clonechats.accounts.users import User
from clonechats.client_info import ClientInfo
from clonechats.contact import repo
from clonechats.errors import AppError, NotFound
from clonechats.mail import service as mail
from clonechats.safety import rate_limits

if TYPE_CHECKING:
    from clonechats.context import Ctx


OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
STATUSES = (OPEN, ANSWERED, CLOSED)
ACTIVE = [OPEN, ANSWERED]
ACK_BUSINESS_DAYS = 3
ANSWER_DAYS = 30
SUBJECT_MAX = 200
MESSAGE_MAX = 5000
REPLY_MAX = 10000


class InvalidContact(AppError):
    code = "invalid_contact"
    status = 422


class MessageNotFound(NotFound):
    message = "No such contact message."


def add_business_days(moment: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `moment`, same time of day."""
    result = moment
    while days > 0:
        result += timedelta(days=1)
        if result.weekday() < 5:
            days -= 1
    return result


def operator_address(ctx: Ctx) -> str:
    return ctx.settings.admin.operator_email or ctx.settings.contact_email


async def send(ctx: Ctx, *, email: str, subject: str, message: str, client: ClientInfo,
               user: User | None) -> dict[str, Any]:
    try:
        address = normalise_email(email)
    except InvalidEmail:
        raise InvalidContact("Enter an email address we can answer.", code="invalid_email") \
            from None
    title = " ".join(subject.split())
    body = message.strip()
    if not title or len(title) > SUBJECT_MAX:
        raise InvalidContact(f"Give a subject of up to {SUBJECT_MAX} characters.")
    if len(body) < 2 or len(body) > MESSAGE_MAX:
        raise InvalidContact(f"Write a message of up to {MESSAGE_MAX} characters.")
    await rate_limits.hit(ctx, bucket="contact", key=client.ip_hash,
                          limit=ctx.settings.admin.contact_per_address_per_hour,
                          message="Too many messages from your network. Please try again in "
                          "an hour, or email us directly.")
    owner = user if user is not None and user.get("email") == address else \
        await users.get_by_email(ctx.db, address)
    now = ctx.clock.now()
    stored = await repo.insert(ctx.db, {
        "_id": secrets.token_hex(12), "email": address, "subject": title, "message": body,
        "user_id": owner["_id"] if owner else None, "status": OPEN, "created_at": now,
        "ack_due_at": add_business_days(now, ACK_BUSINESS_DAYS),
        "due_at": now + timedelta(days=ANSWER_DAYS), "acknowledged_at": now,
        "replies": [], "answered_at": None, "closed_at": None, "updated_at": now})
    await mail.send_email(ctx, to=operator_address(ctx), template="contact_received", context={
        "from_email": address, "topic": title, "message": body, "received_at": now,
        "due_at": stored["due_at"], "inbox_url": _url(ctx, "/admin/inbox")},
        idempotency_key=f"contact:{stored['_id']}:operator")
    await mail.send_email(ctx, to=address, template="contact_ack", context={
        "topic": title, "received_at": now, "due_at": stored["due_at"]},
        idempotency_key=f"contact:{stored['_id']}:ack")
    return stored


def _url(ctx: Ctx, path: str) -> str:
    return f"{ctx.settings.public_url.rstrip('/')}{path}"


async def get(ctx: Ctx, message_id: str) -> dict[str, Any]:
    found = await repo.get(ctx.db, message_id)
    if found is None:
        raise MessageNotFound()
    return found


async def active(ctx: Ctx, *, closed: bool = False, limit: int = 500) -> list[dict[str, Any]]:
    return await repo.with_status(ctx.db, [CLOSED] if closed else ACTIVE, limit=limit)


def check_reply(text: str) -> str:
    body = text.strip()
    if not body or len(body) > REPLY_MAX:
        raise InvalidContact(f"Write a reply of up to {REPLY_MAX} characters.")
    return body


async def reply(ctx: Ctx, *, message_id: str, text: str, admin: User,
                close: bool) -> dict[str, Any]:
    """Email the answer to the sender and record it (closing the message if asked)."""
    body = check_reply(text)
    found = await get(ctx, message_id)
    now = ctx.clock.now()
    entry = {"at": now, "admin_id": admin["_id"], "text": body}
    await mail.send_email(ctx, to=found["email"], template="operator_reply", context={
        "topic": f"Re: {found['subject']}", "text": body},
        idempotency_key=f"contact:{message_id}:reply:{secrets.token_hex(6)}")
    changes: dict[str, Any] = {"status": CLOSED if close else ANSWERED, "updated_at": now,
                               "answered_at": found.get("answered_at") or now}
    if close:
        changes["closed_at"] = now
    updated = await repo.update(ctx.db, message_id, changes, reply=entry)
    if updated is None:
        raise MessageNotFound()
    return updated


async def set_status(ctx: Ctx, *, message_id: str, status: str) -> dict[str, Any]:
    if status not in STATUSES:
        raise InvalidContact("Status must be open, answered or closed.")
    await get(ctx, message_id)
    now = ctx.clock.now()
    updated = await repo.update(ctx.db, message_id, {
        "status": status, "updated_at": now, "closed_at": now if status == CLOSED else None})
    if updated is None:
        raise MessageNotFound()
    return updated
