"""What the privacy domain holds about a person, registered with the privacy registry.

Export: privacy settings, the consent history, the person's data requests and their exports
(metadata only). Delete: all of those, and the archives of their exports. Anonymous analytics
counts hold nothing about anyone and stay; a finished account-deletion record names only a
pseudonym.

Imported when the context opens (`context.PRIVACY_SOURCES`), which registers the holder.
"""

from datetime import datetime
from typing import Any

from clonechats.privacy import consent, export, repo
from clonechats.privacy.registry import DataHolder, Owned, register

NAME = "privacy"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def export_data(ctx: Any, user_id: str) -> dict[str, Any]:
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


async def delete(ctx: Any, user_id: str) -> int:
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
