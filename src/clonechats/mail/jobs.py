"""The `email.send` job: hand one rendered message to the configured email provider.

A `ProviderError` propagates to the job runner, which retries the retryable ones (timeouts,
5xx, rate limits) with backoff, reusing the message's idempotency key so that at most one email
goes out, and dead-letters the others (rejected, auth, quota) without retrying.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clonechats.jobs.service import JobRegistry
from clonechats.mail.service import EMAIL_SEND, message_from_payload

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)


async def deliver_email(payload: dict[str, Any], ctx: Ctx) -> None:
    message = message_from_payload(payload)
    sent = await ctx.email.send(message)
    log.info("email sent", extra={"provider": ctx.email.name,
                                  "provider_message_id": sent.provider_message_id,
                                  "template": message.tags.get("template")})


def register_jobs(registry: JobRegistry) -> None:
    registry.register(EMAIL_SEND, deliver_email)
