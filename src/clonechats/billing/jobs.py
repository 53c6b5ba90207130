"""Billing's background jobs.

- `billing.deliver_webhook`: a sandbox webhook (exact body and headers) handed to the same
  `webhooks.receive` path an HTTP delivery takes; an answer the provider would retry (409, 5xx)
  makes the job retry with backoff.
- `billing.reconcile_order`: settle an order from its provider if its webhook never came.
- `billing.renew_subscription`: one month's renewal, enqueued once per month (`sub:{id}:{n}`).
- `billing.check_refund`: follow a refund the provider left pending.
- `billing.confirm_webhook`: ask the provider about an order a webhook announced, so the
  webhook itself is acknowledged without waiting on the provider (`webhooks.py`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clonechats.billing import (
    checkout,
    reconcile,
    refunds,
    subscriptions,
    webhooks,
)
from clonechats.jobs.service import JobRegistry

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)


class DeliveryNotAccepted(RuntimeError):
    """The endpoint answered what a provider retries later; the job retries too."""

    retryable = True


async def deliver_webhook(payload: dict[str, Any], ctx: Ctx) -> None:
    outcome = await webhooks.receive(ctx, payload["provider"], payload["headers"],
                                     payload["body"].encode())
    if outcome.status == 409 or outcome.status >= 500:
        raise DeliveryNotAccepted(f"webhook answered {outcome.status} {outcome.result}")
    if outcome.status != 200:
        log.warning("webhook refused", extra={"status": outcome.status,
                                              "result": outcome.result})


async def reconcile_order(payload: dict[str, Any], ctx: Ctx) -> None:
    await reconcile.reconcile_order(ctx, payload["order_id"], attempt=payload["attempt"])


async def renew_subscription(payload: dict[str, Any], ctx: Ctx) -> None:
    await subscriptions.renew(ctx, payload["subscription_id"], payload["period"])


async def check_refund(payload: dict[str, Any], ctx: Ctx) -> None:
    await refunds.check_refund(ctx, payload["order_id"], payload["refund_id"],
                               attempt=payload["attempt"])


def register_jobs(registry: JobRegistry) -> None:
    registry.register(checkout.DELIVER, deliver_webhook)
    registry.register(checkout.RECONCILE, reconcile_order)
    registry.register(subscriptions.RENEW, renew_subscription)
    registry.register(refunds.CHECK_REFUND, check_refund)
    registry.register(webhooks.CONFIRM, webhooks.confirm_webhook)
