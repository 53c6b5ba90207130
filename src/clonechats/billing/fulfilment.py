"""Settling orders and delivering what was bought, exactly once.

`settle_paid` moves an order `created -> paid` with one conditional update, then fulfils it:
a credit pack's credits (ledger key `order:{order_id}`), or a plan month through
`subscriptions`, and a receipt email (idempotency key `receipt:{order_id}`). Every step is
idempotent on its own, so a duplicate webhook, the return page and the reconciliation job may
all call it for the same order: the first call moves the order, the credits arrive once, and a
call after a crash half-way finishes the fulfilment. `settle_failed` moves `created -> failed`.

Provider news (a webhook or a status fetched from the provider) is checked against the stored
order: the amount and currency must match exactly, as `Decimal`s.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING

from clonechats.accounts import users
from clonechats.accounts.users import User
from clonechats.billing import ledger, orders, subscriptions
from clonechats.billing.orders import Order
from clonechats.billing.plans import PACK, format_amount
from clonechats.mail import service as mail
from clonechats.providers.payments.base import FAILED, PAID, ProviderOrder

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)


def amounts_match(order: Order, amount: Decimal | None, currency: str | None) -> bool:
    return amount is not None and currency == order["currency"] and \
        amount == Decimal(order["amount"])


async def settle_paid(ctx: Ctx, order_id: str, *, payment_id: str | None,
                      via: str) -> tuple[Order | None, bool]:
    """Mark the order paid (once) and fulfil it; returns (order, whether this call moved it)."""
    now = ctx.clock.now()
    moved = await orders.transition(ctx.db, order_id, orders.PAID, now=now,
                                    provider_payment_id=payment_id, paid_via=via)
    order = moved or await orders.get(ctx.db, order_id)
    if order is not None and order["status"] == orders.PAID and order["fulfilled_at"] is None:
        order = await fulfil(ctx, order)
    if moved is not None:
        log.info("order paid", extra={"order_id": order_id, "via": via})
    return order, moved is not None


async def fulfil(ctx: Ctx, order: Order) -> Order:
    now = ctx.clock.now()
    user = await users.get(ctx.db, order["user_id"])
    if user is None:
        note = "paid after the account was deleted: refund this order"
        await orders.set_fields(ctx.db, order["_id"], {"needs_attention": note}, now=now)
    elif order["item_kind"] == PACK:
        await ledger.apply(ctx.db, user_id=order["user_id"], delta=order["credits"],
                           kind=ledger.GRANT, reason=order["description"],
                           idempotency_key=f"order:{order['_id']}", now=now,
                           details={"order_id": order["_id"]})
    else:
        await subscriptions.activate_from_order(ctx, order)
    if user is not None and user.get("email"):
        await send_receipt(ctx, order, user)
    done = await orders.set_fields(ctx.db, order["_id"], {"fulfilled_at": now}, now=now,
                                   expect={"fulfilled_at": None})
    return done or await orders.get(ctx.db, order["_id"]) or order


async def send_receipt(ctx: Ctx, order: Order, user: User) -> None:
    await mail.send_email(ctx, to=user["email"], template="receipt", context={
        "display_name": user.get("display_name"),
        "order_id": order["_id"],
        "description": order["description"],
        "amount": format_amount(Decimal(order["amount"]), order["currency"]),
        "paid_at": order["paid_at"],
        "credits": order["credits"] or None,
    }, idempotency_key=f"receipt:{order['_id']}")


async def settle_failed(ctx: Ctx, order_id: str, *, reason: str) -> Order | None:
    moved = await orders.transition(ctx.db, order_id, orders.FAILED, now=ctx.clock.now(),
                                    failure_reason=reason)
    if moved is not None:
        log.info("order failed", extra={"order_id": order_id, "reason": reason})
        await subscriptions.on_renewal_failed(ctx, moved)
        return moved
    return await orders.get(ctx.db, order_id)


async def apply_remote(ctx: Ctx, order: Order, remote: ProviderOrder, *,
                       via: str) -> Order:
    """Settle a still-created order from the provider's own view of it."""
    if order["status"] != orders.CREATED:
        return order
    if remote.status == PAID:
        if not amounts_match(order, remote.amount, remote.currency):
            note = (f"the provider reports {remote.amount} {remote.currency} paid, "
                    f"not {order['amount']} {order['currency']}")
            return await orders.set_fields(ctx.db, order["_id"], {"needs_attention": note},
                                           now=ctx.clock.now()) or order
        settled, _ = await settle_paid(ctx, order["_id"], payment_id=remote.payment_id, via=via)
        return settled or order
    if remote.status == FAILED:
        return await settle_failed(ctx, order["_id"],
                                   reason=f"provider: {remote.raw_status.lower()}") or order
    return order
