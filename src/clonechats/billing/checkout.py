"""Opening a checkout: the order document, the provider call, and the follow-up jobs.

`new_order` builds the document for a catalog item (or a subscription's next month);
`open_checkout` registers it with its provider and stores the provider's ids, or fails the
order when the provider cannot take it. Each opened order gets a reconciliation job, so an
order whose webhook never comes is still settled. `enqueue_delivery` queues a sandbox webhook
for delivery to our own endpoint logic.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from clonechats.billing import orders
from clonechats.billing.orders import Order
from clonechats.billing.plans import Item
from clonechats.errors import AppError
from clonechats.providers.errors import ProviderError
from clonechats.providers.payments.base import CheckoutRequest, SignedDelivery

if TYPE_CHECKING:
    from clonechats.context import Ctx


RECONCILE = "billing.reconcile_order"
DELIVER = "billing.deliver_webhook"
WEBHOOK_PATH = "/api/v1/billing/webhooks/{provider}"
RETURN_PATH = "/billing/orders/{order_id}/return"


class PaymentProviderUnavailable(AppError):
    code = "payment_provider_unavailable"
    status = 502
    message = "The payment provider could not take the order. Nothing was charged; try again."


def new_order(*, order_id: str, user_id: str, item: Item, amount: Decimal, currency: str,
              provider: str, now: datetime, ttl: timedelta, description: str | None = None,
              subscription_id: str | None = None, period: int | None = None) -> Order:
    return {
        "_id": order_id, "user_id": user_id, "item_id": item.id, "item_kind": item.kind,
        "item_name": item.name, "tier": item.tier, "credits": item.credits,
        "description": description or item.description(), "amount": str(amount),
        "currency": currency, "provider": provider, "provider_order_id": None,
        "payment_session_id": None, "checkout_url": None, "provider_payment_id": None,
        "status": orders.CREATED, "created_at": now, "updated_at": now, "expires_at": now + ttl,
        "paid_at": None, "failed_at": None, "refunded_at": None, "fulfilled_at": None,
        "failure_reason": None, "refund": None, "needs_attention": None,
        "subscription_id": subscription_id, "period": period,
    }


def absolute(ctx: Ctx, path: str) -> str:
    return ctx.settings.public_url.rstrip("/") + path


async def open_checkout(ctx: Ctx, order: Order, *, customer_email: str | None,
                        fail_on_error: bool = True) -> Order:
    """Register `order` with its provider; the order with its checkout URL, or a 502.

    On a provider error the order fails, unless `fail_on_error` is False (a renewal keeps its
    order and its job tries again later)."""
    now = ctx.clock.now()
    provider = ctx.payments.get(order["provider"])
    request = CheckoutRequest(
        order_id=order["_id"], amount=Decimal(order["amount"]), currency=order["currency"],
        description=order["description"], customer_id=order["user_id"],
        customer_email=customer_email,
        return_url=absolute(ctx, RETURN_PATH.format(order_id=order["_id"])),
        notify_url=absolute(ctx, WEBHOOK_PATH.format(provider=order["provider"])),
        expires_at=order["expires_at"], item_id=order["item_id"],
    )
    try:
        checkout = await provider.create_checkout(request)
    except ProviderError as exc:
        if not fail_on_error:
            raise PaymentProviderUnavailable() from exc
        await orders.transition(ctx.db, order["_id"], orders.FAILED, now=now,
                                failure_reason=f"provider: {exc.code or exc.status or 'error'}")
        raise PaymentProviderUnavailable() from exc
    opened = await orders.set_fields(ctx.db, order["_id"], {
        "provider_order_id": checkout.provider_order_id,
        "payment_session_id": checkout.payment_session_id,
        "checkout_url": checkout.checkout_url,
    }, now=now)
    await schedule_reconcile(ctx, order["_id"], attempt=1)
    return opened or order


async def schedule_reconcile(ctx: Ctx, order_id: str, *, attempt: int) -> None:
    """Check the order with its provider later, backing off: 15 min, 30 min, 1 h, ..."""
    billing = ctx.settings.billing
    if attempt > billing.reconcile_max_attempts:
        return
    delay = timedelta(minutes=billing.reconcile_after_minutes * 2 ** (attempt - 1))
    await ctx.enqueue(RECONCILE, {"order_id": order_id, "attempt": attempt},
                      ctx.clock.now() + delay, dedupe_key=f"{RECONCILE}:{order_id}:{attempt}")


async def enqueue_delivery(ctx: Ctx, provider: str, delivery: SignedDelivery, *,
                           dedupe_key: str | None = None) -> None:
    await ctx.enqueue(DELIVER, {"provider": provider, "headers": delivery.headers,
                                "body": delivery.body.decode()}, dedupe_key=dedupe_key)
