"""Billing tools for administrators (callers have checked the role): orders and their
webhook deliveries, refunds, sandbox webhook replays, the ledger check, reconciliation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clonechats.accounts.users import User
from clonechats.billing import ledger, orders, reconcile, refunds, service, webhook_log
from clonechats.billing.orders import Order
from clonechats.errors import AppError

if TYPE_CHECKING:
    from clonechats.context import Ctx


SWEEP_AFTER_MINUTES = 5.0


async def list_orders(ctx: Ctx, *, status: str | None, limit: int,
                      cursor: str | None) -> tuple[list[Order], str | None]:
    return await orders.page(ctx.db, limit=limit, status=status, cursor=cursor)


async def order_with_deliveries(ctx: Ctx,
                                order_id: str) -> tuple[Order, list[dict[str, Any]]]:
    order = await orders.get(ctx.db, order_id)
    if order is None:
        raise service.OrderNotFound()
    return order, await webhook_log.deliveries_for_order(ctx.db, order_id)


async def refund(ctx: Ctx, *, order_id: str, admin: User,
                 reason: str) -> Order:
    return await refunds.refund_order(ctx, order_id=order_id, actor_id=admin["_id"],
                                      reason=reason.strip() or "Refund by an administrator")


async def replay_webhook(ctx: Ctx, order_id: str) -> None:
    if not await service.replay_sandbox_webhook(ctx, order_id):
        raise AppError("This order has sent no webhook yet.", code="nothing_to_replay",
                       status=409)


async def ledger_check(ctx: Ctx) -> list[dict[str, Any]]:
    return await ledger.check_balances(ctx.db)


async def reconcile_now(ctx: Ctx) -> dict[str, int]:
    return await reconcile.reconcile_stale(ctx, older_than_minutes=SWEEP_AFTER_MINUTES)
