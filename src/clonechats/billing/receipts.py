"""Receipts: what a buyer keeps of a paid order (a credit pack or a plan month).

Only an order that was paid has one: `paid`, or `refunded` after it was paid. The receipt is
built from the order as stored and the buyer's account; it names the payment provider and the
ids it gave the payment, and nothing about how it was paid (we hold no card, UPI or bank data).
A refund shows once one was asked for: in progress, or done with its date. A refund the
provider refused is not shown, as none was made. Someone else's order is a 404, as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from clonechats.accounts.users import User
from clonechats.billing import orders, refunds, service
from clonechats.billing.orders import Order
from clonechats.billing.plans import PACK, format_amount
from clonechats.errors import NotFound

if TYPE_CHECKING:
    from clonechats.context import Ctx


PROVIDER_NAMES = {"sandbox": "Sandbox (test payments, no money moved)", "cashfree": "Cashfree"}
KIND_NAMES = {PACK: "Credit pack"}
PLAN_KIND_NAME = "Plan subscription"
SHOWN_REFUNDS = (refunds.PENDING, refunds.SUCCESS)


class NoReceipt(NotFound):
    code = "no_receipt"
    message = "This order was not paid, so it has no receipt."


@dataclass(frozen=True)
class RefundLine:
    status: str  # "pending" or "success"
    amount: str
    amount_display: str
    requested_at: datetime
    refunded_at: datetime | None


@dataclass(frozen=True)
class Receipt:
    number: str
    order_id: str
    operator_name: str
    issued_at: datetime
    description: str
    item_kind: str  # "pack" or "plan"
    kind: str
    credits: int
    period: int | None
    amount: str
    currency: str
    amount_display: str
    provider: str
    provider_name: str
    provider_order_id: str | None
    provider_payment_id: str | None
    buyer_email: str | None
    refund: RefundLine | None


def receipt_number(order_id: str) -> str:
    """Stable and unique, as the order id it is made from."""
    return "R-" + order_id.removeprefix("ord_").upper()


def refund_line(order: Order) -> RefundLine | None:
    refund = order.get("refund") or {}
    if refund.get("status") not in SHOWN_REFUNDS:
        return None
    amount = Decimal(order["amount"])
    return RefundLine(status=refund["status"], amount=order["amount"],
                      amount_display=format_amount(amount, order["currency"]),
                      requested_at=refund["requested_at"],
                      refunded_at=order.get("refunded_at") if order["status"] == orders.REFUNDED
                      else None)


def from_order(order: Order, *, buyer: User,
               operator_name: str) -> Receipt:
    paid_at = order.get("paid_at")
    if order["status"] not in (orders.PAID, orders.REFUNDED) or paid_at is None:
        raise NoReceipt()
    return Receipt(
        number=receipt_number(order["_id"]), order_id=order["_id"], operator_name=operator_name,
        issued_at=paid_at, description=order["description"],
        item_kind=order["item_kind"],
        kind=KIND_NAMES.get(order["item_kind"], PLAN_KIND_NAME), credits=order["credits"] or 0,
        period=order.get("period"), amount=order["amount"], currency=order["currency"],
        amount_display=format_amount(Decimal(order["amount"]), order["currency"]),
        provider=order["provider"],
        provider_name=PROVIDER_NAMES.get(order["provider"], order["provider"].title()),
        provider_order_id=order.get("provider_order_id"),
        provider_payment_id=order.get("provider_payment_id"),
        buyer_email=buyer.get("email"), refund=refund_line(order))


async def for_buyer(ctx: Ctx, *, user: User, order_id: str) -> Receipt:
    """The receipt of one of `user`'s orders; 404 `unknown_order` or `no_receipt`."""
    order = await service.get_order(ctx, user=user, order_id=order_id)
    return from_order(order, buyer=user, operator_name=ctx.settings.operator_name)
