"""What the contact inbox holds about a person, registered with the privacy registry.

Messages belong to a person by account (sent while signed in, or from the account's email)
or by email match: export lists them with the operator's replies; deletion removes them. Runs
before `accounts` (it needs the user's email). Closed messages are deleted 24 months after
they were closed (the `contact_messages` retention rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.contact import repo
from clonechats.privacy.registry import DataHolder, Owned, register

if TYPE_CHECKING:
    from clonechats.context import Ctx



async def _email(ctx: Ctx, user_id: str) -> str | None:
    user = await users.get(ctx.db, user_id)
    return user.get("email") if user else None


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    rows = await repo.of_person(ctx.db, user_id, await _email(ctx, user_id))
    return {"messages": [{
        "email": m["email"], "subject": m["subject"], "message": m["message"],
        "status": m["status"], "sent_at": m["created_at"].isoformat(),
        "replies": [{"at": r["at"].isoformat(), "text": r["text"]}
                    for r in m.get("replies") or []]} for m in rows]}


async def delete(ctx: Ctx, user_id: str) -> int:
    return await repo.delete_of_person(ctx.db, user_id, await _email(ctx, user_id))


register(DataHolder(name="contact_messages", description="Messages you sent us through the "
                    "contact form, and our answers.", export=export, delete=delete, order=50,
                    collections=(Owned(repo.MESSAGES, owner_field="user_id",
                                       nullable_owner=True),)))
