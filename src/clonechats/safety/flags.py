"""Moderation flags: what the moderator held back, recorded for admins to review.

A flag (collection `moderation_flags`):
    _id, user_id (whose message it was, or who the model was answering), subject ("user_message",
    "model_output", ...: what kind of thing `ref_id` points at), ref_id, categories {name: score},
    reason (the sentence the user was shown), created_at, reviewed_at, reviewer_id

Minimum data: a flag holds no text of the message. The admin reads the message through
`ref_id` (the chat keeps blocked messages, with a withheld reply's text, for that), so the
text is stored once and goes when the message goes. After the account is deleted a flag keeps
only its categories, reason and dates (see `safety.personal_data`).

Trust boundary: the list, detail and review functions are for admins; `admin.routes` checks the
role before they are called. Never touches HTTP.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument

from clonechats.chat import repo as chat_repo
from clonechats.errors import NotFound
from clonechats.personas.repo import Persona
from clonechats.providers.moderation.base import ModerationResult
from clonechats.storage.indexes import Index
from clonechats.storage.pagination import fetch_page

if TYPE_CHECKING:
    from clonechats.context import Ctx


FLAGS = "moderation_flags"
COLLECTIONS = (FLAGS,)
OPEN, REVIEWED = "open", "reviewed"
STATUSES = (OPEN, REVIEWED)
MESSAGE_SUBJECTS = frozenset({"user_message", "model_output"})
_SUBJECT = re.compile(r"[a-z][a-z0-9_]{1,39}")

INDEXES = [
    Index(FLAGS, [("created_at", -1), ("_id", -1)]),
    Index(FLAGS, [("reviewed_at", 1), ("created_at", -1), ("_id", -1)]),
    Index(FLAGS, [("user_id", 1), ("created_at", 1)]),
]


class UnknownFlag(NotFound):
    message = "No such moderation flag."


async def record_flag(ctx: Ctx, *, user_id: str | None, subject: str, ref_id: str | None,
                      result: ModerationResult) -> dict[str, Any] | None:
    """Store a flag for a flagged result; a result that is not flagged records nothing."""
    if _SUBJECT.fullmatch(subject) is None:
        raise ValueError(f"subject must be a snake_case name, not {subject!r}")
    if not result.flagged:
        return None
    flag = {
        "_id": secrets.token_hex(12),
        "user_id": user_id,
        "subject": subject,
        "ref_id": ref_id,
        "categories": {str(name): float(score) for name, score in result.categories.items()},
        "reason": result.reason,
        "created_at": ctx.clock.now(),
        "reviewed_at": None,
        "reviewer_id": None,
    }
    await ctx.db[FLAGS].insert_one(flag)
    return flag


def _status_query(status: str | None) -> dict[str, Any]:
    if status == OPEN:
        return {"reviewed_at": None}
    if status == REVIEWED:
        return {"reviewed_at": {"$ne": None}}
    return {}


async def list_flags(ctx: Ctx, *, status: str | None = None, limit: int = 50,
                     cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of flags, newest first, and the cursor of the next page (or None)."""
    return await fetch_page(ctx.db[FLAGS], _status_query(status),
                            order=[("created_at", -1), ("_id", -1)], limit=limit, cursor=cursor,
                            kinds=(datetime, str))


async def count_open(ctx: Ctx) -> int:
    return await ctx.db[FLAGS].count_documents({"reviewed_at": None})


async def get_flag(ctx: Ctx, flag_id: str) -> dict[str, Any]:
    flag = await ctx.db[FLAGS].find_one({"_id": flag_id})
    if flag is None:
        raise UnknownFlag()
    return flag


async def mark_reviewed(ctx: Ctx, *, flag_id: str, reviewer_id: str) -> dict[str, Any]:
    """Mark the flag reviewed. Reviewing a reviewed flag again changes nothing (the first
    reviewer and time stay)."""
    updated = await ctx.db[FLAGS].find_one_and_update(
        {"_id": flag_id, "reviewed_at": None},
        {"$set": {"reviewed_at": ctx.clock.now(), "reviewer_id": reviewer_id}},
        return_document=ReturnDocument.AFTER)
    return updated if updated is not None else await get_flag(ctx, flag_id)


async def referenced_message(ctx: Ctx, flag: dict[str, Any]) -> dict[str, Any] | None:
    """The flagged chat message as an admin reviews it, or None when it is gone (deleted with
    its conversation or account) or the flag is about something else."""
    if flag["subject"] not in MESSAGE_SUBJECTS or not flag.get("ref_id"):
        return None
    message = await chat_repo.get_message(ctx.db, flag["ref_id"])
    if message is None:
        return None
    return {
        "id": message["_id"],
        "conversation_id": message.get("conversation_id"),
        "role": message.get("role"),
        "status": message.get("status"),
        "text": message.get("withheld_text") or message.get("text") or "",
        "created_at": _iso(message.get("created_at")),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def public(flag: dict[str, Any]) -> dict[str, Any]:
    """The admin API's view of a flag."""
    return {
        "id": flag["_id"],
        "user_id": flag.get("user_id"),
        "subject": flag["subject"],
        "ref_id": flag.get("ref_id"),
        "categories": flag.get("categories") or {},
        "reason": flag.get("reason"),
        "status": REVIEWED if flag.get("reviewed_at") else OPEN,
        "created_at": _iso(flag["created_at"]),
        "reviewed_at": _iso(flag.get("reviewed_at")),
        "reviewer_id": flag.get("reviewer_id"),
        "action": flag.get("action"),
        "report_count": flag.get("report_count", 0),
    }


async def for_user(ctx: Ctx, user_id: str) -> list[dict[str, Any]]:
    return await ctx.db[FLAGS].find({"user_id": user_id}).sort("created_at", 1).to_list()


async def anonymise_user(ctx: Ctx, user_id: str) -> int:
    """Cut every flag loose from `user_id` and from the (deleted) message it pointed at."""
    result = await ctx.db[FLAGS].update_many(
        {"user_id": user_id}, {"$set": {"user_id": None, "ref_id": None,
                                        "anonymised_at": ctx.clock.now()}})
    return result.modified_count


async def daily_counts(ctx: Ctx, *, since: datetime) -> dict[str, int]:
    """Flags created per day (UTC) from `since`."""
    counts: dict[str, int] = {}
    for flag in await ctx.db[FLAGS].find({"created_at": {"$gte": since}},
                                         {"created_at": 1}).to_list():
        day = flag["created_at"].date().isoformat()
        counts[day] = counts.get(day, 0) + 1
    return counts


PERSONA_REPORT = "persona_report"
REPORTS_KEPT = 50


async def add_persona_report(ctx: Ctx, *, persona: Persona,
                             reason: str) -> dict[str, Any]:
    """File a report against a public persona: one open flag per persona gathers every
    report (count and the latest `REPORTS_KEPT` reasons) until a moderator acts on it."""
    now = ctx.clock.now()
    return await ctx.db[FLAGS].find_one_and_update(
        {"subject": PERSONA_REPORT, "ref_id": persona["_id"], "reviewed_at": None},
        {"$inc": {"report_count": 1},
         "$push": {"reports": {"$each": [{"reason": reason, "at": now}],
                               "$slice": -REPORTS_KEPT}},
         "$set": {"last_reported_at": now},
         "$setOnInsert": {"_id": secrets.token_hex(12), "user_id": persona["owner_id"],
                          "categories": {}, "reason": reason, "created_at": now,
                          "reviewer_id": None}},
        upsert=True, return_document=ReturnDocument.AFTER)


async def record_action(ctx: Ctx, *, flag_id: str, action: str, reviewer_id: str,
                        note: str) -> dict[str, Any] | None:
    """Close an open flag with the moderator's action; None if it was already reviewed."""
    return await ctx.db[FLAGS].find_one_and_update(
        {"_id": flag_id, "reviewed_at": None},
        {"$set": {"reviewed_at": ctx.clock.now(), "reviewer_id": reviewer_id,
                  "action": action, "action_note": note}},
        return_document=ReturnDocument.AFTER)


async def count_for_user(ctx: Ctx, user_id: str) -> int:
    return await ctx.db[FLAGS].count_documents({"user_id": user_id})
