"""Transactional email: render a template and queue it; never send inline.

`send_email` renders the named email (see `mail.render.TEMPLATES`) and enqueues one `email.send`
job whose payload is the finished message, deduplicated on the idempotency key: the same key
queues one job and delivers one email, however often it is asked for. A caller that means to
send again (the person asks for a new verification link) uses a new key, e.g. including the new
token's id. The payload holds the rendered text, so the one-time link the email carries is the
only secret in it; callers never pass other secrets in `context`.

The job (in `mail/jobs.py`) hands the message to `ctx.email`, the configured provider; provider
errors that can pass are retried with backoff, the others dead-letter at once.

Not here: when an email is due (the accounts, privacy and billing services decide) and vendor
HTTP (in `providers/email`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from clonechats.errors import NotFound
from clonechats.mail.render import render_email
from clonechats.providers.email import outbox
from clonechats.providers.email.base import EmailMessage

if TYPE_CHECKING:
    from clonechats.context import Ctx


EMAIL_SEND = "email.send"
OUTBOX_PAGE_SIZE = 25


async def send_email(ctx: Ctx, *, to: str, template: str, context: Mapping[str, Any],
                     idempotency_key: str) -> None:
    rendered = render_email(template, context, settings=ctx.settings)
    message = EmailMessage(to=to, subject=rendered.subject, text=rendered.text,
                           html=rendered.html, idempotency_key=idempotency_key,
                           tags={"template": template})
    await ctx.enqueue(EMAIL_SEND, message_payload(message),
                      dedupe_key=f"email:{idempotency_key}")


def message_payload(message: EmailMessage) -> dict[str, Any]:
    payload = asdict(message)
    payload["tags"] = dict(message.tags)
    return payload


def message_from_payload(payload: Mapping[str, Any]) -> EmailMessage:
    return EmailMessage(to=payload["to"], subject=payload["subject"], text=payload["text"],
                        html=payload.get("html"), idempotency_key=payload["idempotency_key"],
                        tags=dict(payload.get("tags") or {}))


async def outbox_page_data(ctx: Ctx, *, cursor: str | None) -> dict[str, Any]:
    """What the admin outbox page shows: one page of stored emails, newest first.

    Only in dev mode (elsewhere it is a 404), since stored emails hold live one-time links.
    Raises `storage.pagination.InvalidCursor` (400) for a cursor this page never handed out.
    """
    if not ctx.settings.dev_mode:
        raise NotFound()
    documents, next_cursor = await outbox.list_outbox(ctx.db, limit=OUTBOX_PAGE_SIZE,
                                                      cursor=cursor or None)
    return {
        "messages": [
            {
                "id": document["_id"],
                "to": document["to"],
                "from_address": document.get("from_address", ""),
                "subject": document["subject"],
                "text": document["text"],
                "template": (document.get("tags") or {}).get("template"),
                "created_at": document["created_at"],
            }
            for document in documents
        ],
        "next_cursor": next_cursor,
        "is_first_page": not cursor,
        "provider": ctx.email.name,
    }
