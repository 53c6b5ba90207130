"""What the privacy domain holds about a person, registered with the privacy registry.

Export: privacy settings, the consent history, the person's data requests and their exports
(metadata only). Delete: all of those, and the archives of their exports. Anonymous analytics
counts hold nothing about anyone and stay; a finished account-deletion record names only a
pseudonym.

A second holder, `job_history`, removes finished background jobs whose payload names the
person (their id or email), e.g. a payment provider's notification carrying their customer
id: the jobs are transport, not records, and otherwise stay until their 30-day retention.
Jobs still queued or running are left to finish.

Imported when the context opens (`domains.PERSONAL_DATA_ORDER`), which registers the holder.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.jobs import repo as jobs
from clonechats.privacy import consent, export, repo
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "privacy"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def export_data(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return _plain({
        "settings": await consent.get_settings(ctx, user_id),
        "consent_history": await consent.history(ctx, user_id),
        "data_requests": [{"id": r["_id"], "kind": r["kind"], "message": r["message"],
                           "status": r["status"], "created_at": r["created_at"],
                           "due_at": r["due_at"], "closed_at": r["closed_at"]}
                          for r in await repo.requests_of(ctx.db, user_id)],
        "exports": [{"id": e["_id"], "status": e["status"], "created_at": e["created_at"],
                     "ready_at": e["ready_at"], "expires_at": e["expires_at"]}
                    for e in await repo.exports_of(ctx.db, user_id)],
    })


async def delete(ctx: Ctx, user_id: str) -> int:
    removed = await repo.delete_for_user(ctx.db, user_id)
    for name in removed["export_files"]:
        export.delete_file(ctx, name)
    return sum(removed["counts"].values()) + len(removed["export_files"])


register(DataHolder(
    name=NAME,
    description="Your privacy settings, the history of your consents, your data requests "
                "and your data exports.",
    export=export_data,
    delete=delete,
    order=800,
    collections=(Owned(repo.SETTINGS, owner_field="_id"),
                 Owned(repo.CONSENTS, owner_field="user_id"),
                 Owned(repo.EXPORTS, owner_field="user_id"),
                 Owned(repo.REQUESTS, owner_field="user_id", nullable_owner=True)),
))


def _mentions(value: Any, needles: list[str]) -> bool:
    if isinstance(value, str):
        folded = value.casefold()
        return any(needle in folded for needle in needles)
    if isinstance(value, dict):
        return any(_mentions(k, needles) or _mentions(v, needles) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_mentions(item, needles) for item in value)
    return False


async def export_jobs(ctx: Ctx, user_id: str) -> dict[str, Any]:
    return {}  # finished jobs are transport copies of data exported by their own domains


async def delete_jobs(ctx: Ctx, user_id: str) -> int:
    user = await users.get(ctx.db, user_id) or {}
    needles = [n.casefold() for n in (user_id, user.get("email"), user.get("pending_email"))
               if n]
    removed = 0
    for job in await jobs.finished(ctx.db):
        if _mentions(job.get("payload"), needles) or _mentions(job.get("last_error"), needles):
            removed += await jobs.delete_if_status(ctx.db, job["_id"], job["status"])
    return removed


register(DataHolder(
    name="job_history",
    description="Finished background tasks that carried your data (deleted with the "
                "account; otherwise kept 30 days).",
    export=export_jobs,
    delete=delete_jobs,
    order=950,
))
