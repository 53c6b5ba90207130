"""What the mail domain holds about a person: the emails sent to their address (stored by the
outbox provider) and the queued `email.send` jobs carrying it. Registered with the privacy
registry; runs before `accounts` because it finds the data by the user's email address.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.jobs import repo as jobs
from clonechats.mail.service import EMAIL_SEND
from clonechats.privacy.registry import DataHolder, register
from clonechats.providers.email import outbox

if TYPE_CHECKING:
    from clonechats.context import Ctx


NAME = "mail"


async def _addresses(ctx: Ctx, user_id: str) -> list[str]:
    user = await users.get(ctx.db, user_id)
    if user is None:
        return []
    addresses = [user.get("email"), user.get("pending_email")]
    return [address for address in addresses if address]


async def export(ctx: Ctx, user_id: str) -> dict[str, Any]:
    emails: list[dict[str, Any]] = []
    for address in await _addresses(ctx, user_id):
        emails.extend({"to": m["to"], "subject": m["subject"],
                       "created_at": m["created_at"].isoformat()}
                      for m in await outbox.list_to(ctx.db, address))
    return {"emails": emails}


async def delete(ctx: Ctx, user_id: str) -> int:
    count = 0
    for address in await _addresses(ctx, user_id):
        count += await outbox.delete_to(ctx.db, address)
        count += await jobs.delete_finished_or_queued(ctx.db, kind=EMAIL_SEND,
                                                      payload_match={"to": address})
    return count


register(DataHolder(
    name=NAME,
    description="Emails we sent you (in the local outbox) and emails waiting to be sent.",
    export=export,
    delete=delete,
    order=900,
))
