"""Refunds: an admin action, carried out by the order's payment provider.

1. The order must be paid with no refund in progress; the refund is claimed on the order with a
   conditional update (refund id `rf_<order>_<attempt>`, the provider's idempotency key).
2. The credits the order brought are clawed back at once (ledger key `refund:{refund_id}`):
   never more than the balance; what was already spent is the shortfall, and the account is
   flagged (`billing_flag`) for the operator to look at.
3. The provider is asked to refund. SUCCESS moves the order `paid -> refunded` (and ends a
   plan's subscription); PENDING waits for the refund webhook or the check job; a refusal
   marks the refund failed and gives the clawed-back credits back (`refund_reversed:{id}`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from clonechats.accounts import users
from clonechats.billing import ledger, orders, subscriptions
from clonechats.billing.orders import Order
from clonechats.billing.plans import PLAN
from clonechats.errors import AppError, Conflict, NotFound, still_there
from clonechats.providers.errors import ProviderError
from clonechats.providers.payments.base import REFUND_FAILED, REFUND_SUCCESS, RefundResult

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

CHECK_REFUND = "billing.check_refund"
CHECK_MINUTES = 30
MAX_CHECKS = 48
PENDING, SUCCESS, FAILED = "pending", "success", "failed"


class NotRefundable(Conflict):
    code = "not_refundable"
    message = "Only a paid order without a refund in progress can be refunded."


class RefundRefused(AppError):
    code = "refund_failed"
    status = 502
    message = "The payment provider did not accept the refund. The credits were given back."


async def refund_order(ctx: Ctx, *, order_id: str, actor_id: str,
                       reason: str) -> Order:
    now = ctx.clock.now()
    order = await orders.get(ctx.db, order_id)
    if order is None:
        raise NotFound("There is no such order.", code="unknown_order")
    previous = order.get("refund") or {}
    attempt = previous.get("attempt", 0) + 1
    refund_id = f"rf_{order_id.removeprefix('ord_')}_{attempt}"
    claimed = await orders.set_fields(ctx.db, order_id, {"refund": {
        "refund_id": refund_id, "attempt": attempt, "status": PENDING, "reason": reason,
        "requested_by": actor_id, "requested_at": now, "credits_taken": 0, "shortfall": 0,
    }}, now=now, expect={"status": orders.PAID,
                         "$or": [{"refund": None}, {"refund.status": FAILED}]})
    if claimed is None:
        raise NotRefundable()
    taken, shortfall = await _claw_back(ctx, claimed, refund_id)
    await orders.set_fields(ctx.db, order_id, {"refund.credits_taken": taken,
                                               "refund.shortfall": shortfall}, now=now)
    provider = ctx.payments.get(order["provider"])
    try:
        result = await provider.refund(order_id=order_id, refund_id=refund_id,
                                       amount=Decimal(order["amount"]),
                                       note=reason or "Refund")
    except ProviderError as exc:
        await fail_refund(ctx, order_id, refund_id, detail=str(exc))
        raise RefundRefused() from exc
    return await apply_result(ctx, order_id, result)


async def _claw_back(ctx: Ctx, order: Order, refund_id: str) -> tuple[int, int]:
    user = await users.get(ctx.db, order["user_id"])
    if user is None or not order["credits"]:
        return 0, 0
    clawed = await ledger.clawback(ctx.db, user_id=order["user_id"], amount=order["credits"],
                                   reason=f"Refund: {order['description']}",
                                   idempotency_key=f"refund:{refund_id}", now=ctx.clock.now(),
                                   details={"order_id": order["_id"]})
    if clawed.shortfall:
        await users.flag_billing(ctx.db, order["user_id"], {
            "reason": "refunded credits were already spent", "order_id": order["_id"],
            "shortfall": clawed.shortfall, "at": ctx.clock.now()})
        log.warning("refund shortfall", extra={"order_id": order["_id"],
                                                "shortfall": clawed.shortfall})
    return clawed.taken, clawed.shortfall


async def apply_result(ctx: Ctx, order_id: str, result: RefundResult) -> Order:
    if result.status == REFUND_SUCCESS:
        return await complete_refund(ctx, order_id, result.refund_id,
                                     provider_refund_id=result.provider_refund_id)
    if result.status == REFUND_FAILED:
        await fail_refund(ctx, order_id, result.refund_id, detail=result.raw_status)
        raise RefundRefused()
    order = await orders.set_fields(ctx.db, order_id, {
        "refund.provider_refund_id": result.provider_refund_id}, now=ctx.clock.now(),
        expect={"refund.refund_id": result.refund_id})
    await schedule_check(ctx, order_id, result.refund_id, attempt=1)
    return order or still_there(await orders.get(ctx.db, order_id))


async def complete_refund(ctx: Ctx, order_id: str, refund_id: str, *,
                          provider_refund_id: str | None) -> Order:
    now = ctx.clock.now()
    moved = await orders.transition(ctx.db, order_id, orders.REFUNDED, now=now,
                                    **{"refund.status": SUCCESS, "refund.processed_at": now,
                                       "refund.provider_refund_id": provider_refund_id})
    order = moved or still_there(await orders.get(ctx.db, order_id))
    if moved is not None and moved["item_kind"] == PLAN:
        sub = await subscriptions.live_for_user(ctx.db, moved["user_id"])
        if sub is not None and sub["last_order_id"] == order_id:
            await subscriptions.end(ctx, sub, reason="refunded", expire=False)
    return order


async def fail_refund(ctx: Ctx, order_id: str, refund_id: str, *, detail: str) -> None:
    """The provider refused or gave up: record it and give the credits back."""
    now = ctx.clock.now()
    order = await orders.set_fields(ctx.db, order_id, {
        "refund.status": FAILED, "refund.failed_at": now, "refund.detail": detail[:300]},
        now=now, expect={"status": orders.PAID, "refund.refund_id": refund_id,
                         "refund.status": PENDING})
    if order is None or order["refund"] is None:
        return
    taken = order["refund"].get("credits_taken", 0)
    if taken and await users.get(ctx.db, order["user_id"]) is not None:
        await ledger.apply(ctx.db, user_id=order["user_id"], delta=taken, kind=ledger.GRANT,
                           reason=f"Refund did not go through: {order['description']}",
                           idempotency_key=f"refund_reversed:{refund_id}", now=now,
                           details={"order_id": order_id})


async def schedule_check(ctx: Ctx, order_id: str, refund_id: str, *, attempt: int) -> None:
    if attempt > MAX_CHECKS:
        return
    await ctx.enqueue(CHECK_REFUND, {"order_id": order_id, "refund_id": refund_id,
                                     "attempt": attempt},
                      ctx.clock.now() + timedelta(minutes=CHECK_MINUTES * min(attempt, 8)),
                      dedupe_key=f"{CHECK_REFUND}:{refund_id}:{attempt}")


async def check_refund(ctx: Ctx, order_id: str, refund_id: str, *, attempt: int) -> None:
    order = await orders.get(ctx.db, order_id)
    refund = (order or {}).get("refund") or {}
    if order is None or refund.get("refund_id") != refund_id or refund.get("status") != PENDING:
        return
    provider = ctx.payments.get(order["provider"])
    result = await provider.fetch_refund(order_id=order_id, refund_id=refund_id)
    if result.status == REFUND_SUCCESS:
        await complete_refund(ctx, order_id, refund_id,
                              provider_refund_id=result.provider_refund_id)
    elif result.status == REFUND_FAILED:
        await fail_refund(ctx, order_id, refund_id, detail=result.raw_status)
    else:
        await schedule_check(ctx, order_id, refund_id, attempt=attempt + 1)
