"""Data requests: access, correction or deletion, answered within 30 days.

A user files one from Privacy Settings; someone who writes to the operator's address gets one
filed on their behalf by an admin (linked to the account that uses the sender's email, if
any). Each request has a deadline (`due_at`, 30 days after it was made). The admin queue lists
open requests by deadline, so overdue ones come first; an admin moves a request through
in_progress to done or rejected, adding notes. Never touches HTTP.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.accounts.emails import InvalidEmail, normalise_email
from clonechats.accounts.users import User
from clonechats.errors import AppError, NotFound
from clonechats.privacy import analytics, repo

if TYPE_CHECKING:
    from clonechats.context import Ctx


KINDS = ("access", "correction", "deletion")
OPEN, IN_PROGRESS, DONE, REJECTED = "open", "in_progress", "done", "rejected"
STATUSES = (OPEN, IN_PROGRESS, DONE, REJECTED)
ACTIVE = [OPEN, IN_PROGRESS]
CLOSED = [DONE, REJECTED]
DEADLINE = timedelta(days=30)
OPEN_PER_USER = 10
MESSAGE_MAX = 4000
NOTE_MAX = 2000


class RequestNotFound(NotFound):
    message = "No such data request."


class InvalidRequest(AppError):
    code = "invalid_request"
    status = 422


class TooManyOpenRequests(AppError):
    code = "too_many_requests_open"
    status = 429
    message = f"You already have {OPEN_PER_USER} open requests. We will answer those first."


def _check(kind: str, message: str) -> str:
    if kind not in KINDS:
        raise InvalidRequest("Choose access, correction or deletion.")
    text = message.strip()
    if len(text) > MESSAGE_MAX:
        raise InvalidRequest(f"Keep the message under {MESSAGE_MAX} characters.")
    return text


def _new(*, user_id: str | None, email: str | None, kind: str, message: str, source: str,
         now: datetime) -> dict[str, Any]:
    return {"_id": secrets.token_hex(12), "user_id": user_id, "email": email, "kind": kind,
            "message": message, "status": OPEN, "source": source, "created_at": now,
            "due_at": now + DEADLINE, "updated_at": now, "closed_at": None, "notes": []}


async def file_request(ctx: Ctx, *, user: User, kind: str,
                       message: str) -> dict[str, Any]:
    """A request the signed-in user makes about their own data."""
    text = _check(kind, message)
    mine = await repo.requests_of(ctx.db, user["_id"])
    if sum(1 for r in mine if r["status"] in ACTIVE) >= OPEN_PER_USER:
        raise TooManyOpenRequests()
    request = _new(user_id=user["_id"], email=user.get("email"), kind=kind, message=text,
                   source="web", now=ctx.clock.now())
    await repo.insert_request(ctx.db, request)
    await analytics.record(ctx, user_id=user["_id"], kind=analytics.FEATURE,
                           name="data_request_filed")
    return request


async def file_for_email(ctx: Ctx, *, email: str, kind: str, message: str) -> dict[str, Any]:
    """A request that arrived by email, filed by an admin; linked to the sender's account."""
    text = _check(kind, message)
    try:
        address = normalise_email(email)
    except InvalidEmail:
        raise InvalidRequest("Enter the sender's email address.") from None
    owner = await users.get_by_email(ctx.db, address)
    request = _new(user_id=owner["_id"] if owner else None, email=address, kind=kind,
                   message=text, source="email", now=ctx.clock.now())
    return await repo.insert_request(ctx.db, request)


async def list_mine(ctx: Ctx, *, user_id: str) -> list[dict[str, Any]]:
    return await repo.requests_of(ctx.db, user_id)


async def queue(ctx: Ctx, *, closed: bool = False, limit: int = 100,
                cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Open requests by deadline, overdue first (or the closed ones, same order)."""
    return await repo.request_queue(ctx.db, statuses=CLOSED if closed else ACTIVE, limit=limit,
                                    cursor=cursor)


def is_overdue(request: dict[str, Any], now: datetime) -> bool:
    return request["status"] in ACTIVE and request["due_at"] < now


async def update(ctx: Ctx, *, request_id: str, status: str | None,
                 note: str | None) -> dict[str, Any]:
    """Change a request's status and/or add a note."""
    request = await repo.get_request(ctx.db, request_id)
    if request is None:
        raise RequestNotFound()
    if status is not None and status not in STATUSES:
        raise InvalidRequest("Status must be open, in_progress, done or rejected.")
    text = (note or "").strip()
    if len(text) > NOTE_MAX:
        raise InvalidRequest(f"Keep the note under {NOTE_MAX} characters.")
    if status is None and not text:
        raise InvalidRequest("Change the status or write a note.")
    now = ctx.clock.now()
    changes: dict[str, Any] = {"updated_at": now}
    if status is not None:
        changes["status"] = status
        changes["closed_at"] = now if status in CLOSED else None
    updated = await repo.update_request(ctx.db, request_id, changes,
                                        note={"at": now, "text": text} if text else None)
    if updated is None:
        raise RequestNotFound()
    return updated


async def get(ctx: Ctx, request_id: str) -> dict[str, Any]:
    request = await repo.get_request(ctx.db, request_id)
    if request is None:
        raise RequestNotFound()
    return request
