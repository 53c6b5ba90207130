"""Subscriptions: a plan paid month by month, its credits, renewal and cancellation.

A subscription starts when its first month's order is paid (`activate_from_order`), grants the
plan's monthly credits (ledger key `order:{order_id}`) and sets the user's plan tier. At the end
of each month a renewal job (deduplicated on `sub:{id}:{month}`, so several workers run it once)
either ends a subscription cancelled at period end, or opens the next month's order:
- a provider that can charge a saved mandate (the sandbox) charges it at once, and the signed
  webhook of that charge settles the order like any other, advancing the month;
- Cashfree needs its Subscriptions product for recurring charges (not used here), so the
  subscription becomes `payment_due`, the plan falls back to free, and the billing page shows
  the renewal order for the buyer to pay when they choose. Nothing chases them.
Advancing a month is one conditional update on the month number, so it happens once however
often the order settles. Unused plan credits expire at the month's end (spending draws on plan
credits first; pack credits never expire): an `expiry` ledger entry, never below zero.

At most one live (active or payment_due) subscription per user: a unique sparse index on
`live_user_id`, set only while live.

A plan change takes effect at the end of the current month, never mid-month (no proration):
`next_plan` is kept on the subscription, the next month's order is for that plan at its price,
and paying it switches the plan, its tier and its monthly credits. Until then the buyer keeps the
month they paid for. Cancelling drops a pending change.
"""

from __future__ import annotations

import calendar
import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clonechats.accounts import users
from clonechats.billing import checkout, ledger, orders
from clonechats.billing.orders import Order
from clonechats.billing.plans import PLAN, Item
from clonechats.errors import Conflict, NotFound, still_there
from clonechats.providers.errors import ProviderRejected
from clonechats.providers.payments.base import SavedChargeProvider
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

SUBSCRIPTIONS = "subscriptions"
COLLECTIONS = (SUBSCRIPTIONS,)
EXPIRING = Expiring(SUBSCRIPTIONS)
ACTIVE, PAYMENT_DUE, ENDED = "active", "payment_due", "ended"
LIVE = (ACTIVE, PAYMENT_DUE)
RENEW = "billing.renew_subscription"
FREE_TIER = "free"

INDEXES = [
    Index(SUBSCRIPTIONS, [("live_user_id", 1)], unique=True, sparse=True),
    Index(SUBSCRIPTIONS, [("user_id", 1), ("created_at", -1)]),
]


class RenewalNotDue(RuntimeError):
    """A renewal job ran before the month ended (a worker's clock behind): try again later."""

    retryable = True


def add_month(moment: datetime) -> datetime:
    """The same day next month, or that month's last day (31 Jan -> 28/29 Feb)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def get(db: Any, subscription_id: str) -> dict[str, Any] | None:
    return await db[SUBSCRIPTIONS].find_one({"_id": subscription_id})


async def live_for_user(db: Any, user_id: str) -> dict[str, Any] | None:
    return await db[SUBSCRIPTIONS].find_one({"live_user_id": user_id})


async def for_user(db: Any, user_id: str) -> list[dict[str, Any]]:
    return await db[SUBSCRIPTIONS].find({"user_id": user_id}).sort("created_at", 1).to_list()


async def set_user_plan(ctx: Ctx, user_id: str, tier: str) -> None:
    await users.set_plan(ctx.db, user_id, tier, now=ctx.clock.now())


async def _attention(ctx: Ctx, order: Order, note: str) -> None:
    log.warning("order needs attention", extra={"order_id": order["_id"], "note": note})
    await orders.set_fields(ctx.db, order["_id"], {"needs_attention": note}, now=ctx.clock.now())


async def activate_from_order(ctx: Ctx, order: Order) -> None:
    """A paid plan order: start the subscription, or advance it by the month it paid for."""
    if order.get("subscription_id"):
        sub = await _advance(ctx, order)
    else:
        sub = await _start(ctx, order)
    if sub is None:
        return
    month = order.get("period") or 1
    await ledger.apply(ctx.db, user_id=order["user_id"], delta=order["credits"],
                       kind=ledger.GRANT, reason=f"{order['item_name']} plan, month {month}",
                       idempotency_key=f"order:{order['_id']}", now=ctx.clock.now(),
                       details={"order_id": order["_id"], "subscription_id": sub["_id"]})
    if sub["status"] == ACTIVE and sub["period"] == month:
        await set_user_plan(ctx, order["user_id"], sub["tier"])
        await schedule_renewal(ctx, sub)


async def _start(ctx: Ctx, order: Order) -> dict[str, Any] | None:
    now, paid_at = ctx.clock.now(), order["paid_at"]
    if paid_at is None:
        raise ValueError(f"order {order['_id']} is not paid")
    sub: dict[str, Any] = {
        "_id": "sub_" + order["_id"].removeprefix("ord_"), "user_id": order["user_id"],
        "live_user_id": order["user_id"], "plan_id": order["item_id"],
        "plan_name": order["item_name"], "tier": order["tier"],
        "monthly_credits": order["credits"], "amount": order["amount"],
        "currency": order["currency"], "provider": order["provider"], "status": ACTIVE,
        "period": 1, "current_period_start": paid_at, "current_period_end": add_month(paid_at),
        "cancel_at_period_end": False, "first_order_id": order["_id"],
        "last_order_id": order["_id"], "renewal_order_id": None, "created_at": now,
        "updated_at": now, "ended_at": None,
    }
    try:
        await ctx.db[SUBSCRIPTIONS].insert_one(sub)
    except DuplicateKeyError:
        existing = await get(ctx.db, sub["_id"])
        if existing is None:
            await _attention(ctx, order, "paid for a plan while another subscription was "
                             "live: refund this order")
            return None
        return existing
    return sub


async def _advance(ctx: Ctx, order: Order) -> dict[str, Any] | None:
    month, subscription_id, paid_at = order["period"], order["subscription_id"], order["paid_at"]
    if month is None or subscription_id is None or paid_at is None:
        raise ValueError(f"order {order['_id']} is not a paid month of a plan")
    sub = await get(ctx.db, subscription_id)
    if sub is not None and sub["period"] == month:
        return sub  # already advanced by this order
    if sub is None or sub["period"] != month - 1 or sub["status"] not in LIVE:
        await _attention(ctx, order, "a renewal was paid after its subscription ended: "
                         "refund this order")
        return None
    if sub["status"] == ACTIVE:
        await expire_month(ctx, sub)
    start = sub["current_period_end"] if sub["status"] == ACTIVE else paid_at
    changes: dict[str, Any] = {
        "period": month, "status": ACTIVE, "live_user_id": sub["user_id"],
        "current_period_start": start, "current_period_end": add_month(start),
        "last_order_id": order["_id"], "renewal_order_id": None, "updated_at": ctx.clock.now()}
    if order["item_id"] != sub["plan_id"]:  # the month of a changed plan: it starts now
        changes.update(plan_id=order["item_id"], plan_name=order["item_name"],
                       tier=order["tier"], monthly_credits=order["credits"],
                       amount=order["amount"], currency=order["currency"])
    advanced = await ctx.db[SUBSCRIPTIONS].find_one_and_update(
        {"_id": sub["_id"], "period": month - 1, "status": {"$in": list(LIVE)}},
        {"$set": changes, "$unset": {"next_plan": ""}} if "plan_id" in changes
        else {"$set": changes},
        return_document=ReturnDocument.AFTER,
    )
    return advanced or await get(ctx.db, sub["_id"])


async def expire_month(ctx: Ctx, sub: dict[str, Any]) -> None:
    """Expire what is left of the month's plan credits (once per month, never below zero)."""
    key = f"sub:{sub['_id']}:{sub['period']}:expire"
    if await ledger.get_entry(ctx.db, key) is not None:
        return
    now = ctx.clock.now()
    spent = await ledger.spent_between(ctx.db, sub["user_id"],
                                       start=sub["current_period_start"], end=now)
    unused = max(0, sub["monthly_credits"] - spent)
    if unused:
        await ledger.clawback(ctx.db, user_id=sub["user_id"], amount=unused,
                              kind=ledger.EXPIRY, idempotency_key=key, now=now,
                              reason=f"Unused {sub['plan_name']} credits of month "
                                     f"{sub['period']}",
                              details={"subscription_id": sub["_id"]})


async def schedule_renewal(ctx: Ctx, sub: dict[str, Any]) -> None:
    month = sub["period"] + 1
    await ctx.enqueue(RENEW, {"subscription_id": sub["_id"], "period": month},
                      sub["current_period_end"], dedupe_key=f"sub:{sub['_id']}:{month}")


async def renew(ctx: Ctx, subscription_id: str, month: int) -> None:
    """End a cancelled subscription, or open (and, where possible, charge) the next month."""
    sub = await get(ctx.db, subscription_id)
    if sub is None or sub["status"] != ACTIVE or sub["period"] != month - 1:
        return  # already renewed, ended or lapsed
    if ctx.clock.now() < sub["current_period_end"]:
        raise RenewalNotDue(f"{subscription_id} renews at {sub['current_period_end']}")
    if sub["cancel_at_period_end"]:
        await end(ctx, sub, reason="cancelled")
        return
    order = await renewal_order(ctx, sub, month)
    provider = ctx.payments.get(order["provider"]) if order["provider"] in \
        ctx.payments.names() else None
    if isinstance(provider, SavedChargeProvider) and provider.supports_saved_charges and \
            order["status"] == orders.CREATED:
        try:
            delivery = await provider.charge_saved(order["_id"])
        except ProviderRejected:
            return  # charged by an earlier try; its reconciliation job settles the order
        await checkout.enqueue_delivery(ctx, order["provider"], delivery,
                                        dedupe_key=f"renewal-charge:{order['_id']}")
        return
    await expire_month(ctx, sub)
    due = await ctx.db[SUBSCRIPTIONS].find_one_and_update(
        {"_id": sub["_id"], "status": ACTIVE, "period": month - 1},
        {"$set": {"status": PAYMENT_DUE, "renewal_order_id": order["_id"],
                  "updated_at": ctx.clock.now()}},
    )
    if due is not None:
        await set_user_plan(ctx, sub["user_id"], FREE_TIER)


async def renewal_order(ctx: Ctx, sub: dict[str, Any], month: int) -> Order:
    order_id = f"ord_{sub['_id'].removeprefix('sub_')}_m{month}"
    existing = await orders.get(ctx.db, order_id)
    if existing is not None and existing["checkout_url"]:
        return existing
    if existing is None:
        plan = sub.get("next_plan") or sub  # a pending change: next month is the new plan
        item = Item(id=plan["plan_id"], kind=PLAN, name=plan["plan_name"], tier=plan["tier"],
                    credits=plan["monthly_credits"], prices={})
        provider = sub["provider"] if sub["provider"] in ctx.payments.names() else \
            ctx.payments.default_name
        existing = checkout.new_order(
            order_id=order_id, user_id=sub["user_id"], item=item,
            amount=Decimal(plan["amount"]), currency=sub["currency"], provider=provider,
            now=ctx.clock.now(), ttl=timedelta(minutes=ctx.settings.billing.order_ttl_minutes),
            description=f"{plan['plan_name']} plan, month {month}",
            subscription_id=sub["_id"], period=month)
        try:
            await orders.insert(ctx.db, existing)
        except DuplicateKeyError:
            existing = still_there(await orders.get(ctx.db, order_id))
    user = await users.get(ctx.db, sub["user_id"]) or {}
    return await checkout.open_checkout(ctx, existing, customer_email=user.get("email"),
                                        fail_on_error=False)


async def end(ctx: Ctx, sub: dict[str, Any], *, reason: str, expire: bool = True) -> None:
    """End a live subscription now; the plan falls back to free."""
    if expire and sub["status"] == ACTIVE:
        await expire_month(ctx, sub)
    ended = await ctx.db[SUBSCRIPTIONS].find_one_and_update(
        {"_id": sub["_id"], "status": {"$in": list(LIVE)}},
        {"$set": {"status": ENDED, "ended_at": ctx.clock.now(), "end_reason": reason,
                  "updated_at": ctx.clock.now()}, "$unset": {"live_user_id": ""}},
    )
    if ended is not None:
        await set_user_plan(ctx, sub["user_id"], FREE_TIER)


async def on_renewal_failed(ctx: Ctx, order: Order) -> None:
    """The month's order failed or expired unpaid: a lapsed subscription ends."""
    subscription_id = order.get("subscription_id")
    sub = await get(ctx.db, subscription_id) if subscription_id else None
    if sub is not None and sub["status"] == PAYMENT_DUE and \
            sub.get("renewal_order_id") == order["_id"]:
        await end(ctx, sub, reason="renewal not paid", expire=False)


async def set_cancel_at_period_end(ctx: Ctx, user_id: str, *, cancel: bool) -> dict[str, Any]:
    sub = await live_for_user(ctx.db, user_id)
    if sub is None:
        raise NotFound("You have no subscription.", code="no_subscription")
    if sub["status"] == PAYMENT_DUE:
        if cancel:
            await end(ctx, sub, reason="cancelled", expire=False)
            return still_there(await get(ctx.db, sub["_id"]))
        raise Conflict("Pay the renewal to continue this plan.", code="payment_due")
    update: dict[str, Any] = {"$set": {"cancel_at_period_end": cancel,
                                       "updated_at": ctx.clock.now()}}
    if cancel:
        update["$unset"] = {"next_plan": ""}  # a plan that ends changes to nothing
    updated = await ctx.db[SUBSCRIPTIONS].find_one_and_update(
        {"_id": sub["_id"], "status": ACTIVE}, update, return_document=ReturnDocument.AFTER)
    if updated is None:
        raise Conflict("The subscription changed meanwhile; reload and try again.")
    return updated


async def change_plan_at_period_end(ctx: Ctx, sub: dict[str, Any], item: Item,
                                    amount: Decimal) -> dict[str, Any]:
    """Switch live subscription `sub` to plan `item` (at `amount` a month) when this month
    ends; choosing the current plan drops a pending change."""
    if sub["status"] == PAYMENT_DUE:
        raise Conflict("Pay the renewal first, then change the plan.", code="payment_due")
    if sub["cancel_at_period_end"]:
        raise Conflict("Your plan ends at the end of this month. Resume it first to change it.",
                       code="plan_ending")
    if item.id == sub["plan_id"]:
        update: dict[str, Any] = {"$unset": {"next_plan": ""},
                                  "$set": {"updated_at": ctx.clock.now()}}
    else:
        update = {"$set": {"next_plan": {
            "plan_id": item.id, "plan_name": item.name, "tier": item.tier,
            "monthly_credits": item.credits, "amount": str(amount)},
            "updated_at": ctx.clock.now()}}
    updated = await ctx.db[SUBSCRIPTIONS].find_one_and_update(
        {"_id": sub["_id"], "status": ACTIVE, "period": sub["period"],
         "cancel_at_period_end": False}, update, return_document=ReturnDocument.AFTER)
    if updated is None:
        raise Conflict("The subscription changed meanwhile; reload and try again.")
    return updated


async def pseudonymise_user(db: Any, user_id: str, pseudonym: str, *,
                            retain_until: datetime) -> int:
    result = await db[SUBSCRIPTIONS].update_many(
        {"user_id": user_id},
        {"$set": {"user_id": pseudonym, "status": ENDED, "pseudonymised": True,
                  "retain_until": retain_until}, "$unset": {"live_user_id": ""}},
    )
    return result.modified_count
