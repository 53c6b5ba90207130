"""Reconciliation: settle orders whose webhook never came, from the provider's own records.

Each opened order has a job (`billing.reconcile_order`) that asks its provider for the order's
status after 15 minutes, then after 30, 60, ... minutes until it is paid, failed or out of
attempts (by then the provider-side order has expired, which fails it). `reconcile_stale`
sweeps every order still `created` after a given age, for operators. Paid orders whose
fulfilment was interrupted are finished here too.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from clonechats.billing import checkout, fulfilment, orders
from clonechats.billing.orders import Order
from clonechats.errors import AppError
from clonechats.providers.errors import ProviderError, ProviderRejected

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

NEVER_OPENED_AFTER = timedelta(hours=1)
SWEEP_LIMIT = 500


async def reconcile_order(ctx: Ctx, order_id: str, *,
                          attempt: int | None = None) -> Order | None:
    """Settle one order from its provider; with `attempt`, check again later if still open."""
    order = await orders.get(ctx.db, order_id)
    if order is None:
        return None
    if order["status"] == orders.PAID and order["fulfilled_at"] is None:
        return await fulfilment.fulfil(ctx, order)
    if order["status"] != orders.CREATED:
        return order
    if not order.get("checkout_url"):
        if ctx.clock.now() - order["created_at"] >= NEVER_OPENED_AFTER:
            return await fulfilment.settle_failed(ctx, order_id, reason="checkout never opened")
        return order
    try:
        remote = await ctx.payments.get(order["provider"]).fetch_order(order_id)
    except ProviderRejected as exc:
        if exc.status == 404:
            return await fulfilment.settle_failed(ctx, order_id,
                                                  reason="unknown at the provider")
        raise
    except (ProviderError, AppError) as exc:
        log.warning("reconciliation could not reach the provider",
                    extra={"order_id": order_id, "error": str(exc)})
        remote = None
    if remote is not None:
        order = await fulfilment.apply_remote(ctx, order, remote, via="reconcile")
    if order["status"] == orders.CREATED and attempt is not None:
        await checkout.schedule_reconcile(ctx, order_id, attempt=attempt + 1)
    return order


async def reconcile_stale(ctx: Ctx, *, older_than_minutes: float) -> dict[str, int]:
    """Check every order still open after `older_than_minutes`; counts by resulting status."""
    moment = ctx.clock.now() - timedelta(minutes=older_than_minutes)
    counts = {"checked": 0, orders.PAID: 0, orders.FAILED: 0, orders.CREATED: 0}
    for order in await orders.pending_older_than(ctx.db, moment, limit=SWEEP_LIMIT):
        counts["checked"] += 1
        try:
            settled = await reconcile_order(ctx, order["_id"])
        except ProviderError:
            settled = order
        status = (settled or order)["status"]
        counts[status] = counts.get(status, 0) + 1
    for order in await orders.unfulfilled_paid(ctx.db, moment, limit=SWEEP_LIMIT):
        await fulfilment.fulfil(ctx, order)
    return counts
