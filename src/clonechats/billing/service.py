"""Billing for buyers: the catalog, orders, the sandbox checkout, the ledger and the plan.

Owns the rules of buying (who may order what, how many unpaid orders, one live plan at a time)
and hands the rest to `checkout` (provider calls), `fulfilment` (settling, credits, receipts),
`subscriptions` and `refunds`. Never touches HTTP. Every read of an order checks its owner: an
order of someone else is a 404.

Who may buy: an active account with an email address (not a trial, not awaiting a guardian).
A minor may order only the tiers their guardian authorised (`plans.check_tier_allowed`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clonechats.accounts import users
from clonechats.accounts.age import GuardianConsentRequired
from clonechats.accounts.users import User
from clonechats.accounts.verified import require_verified_email
from clonechats.billing import checkout, features, fulfilment, ledger, orders, subscriptions
from clonechats.billing.ledger import LedgerEntry
from clonechats.billing.orders import Order
from clonechats.billing.plans import PLAN, Catalog, build_catalog, check_tier_allowed
from clonechats.errors import AppError, Conflict, Forbidden, NotFound, TooManyRequests
from clonechats.providers.errors import ProviderError
from clonechats.providers.payments.sandbox import SandboxOrderClosed, SandboxPaymentProvider

if TYPE_CHECKING:
    from clonechats.context import Ctx


OPEN_ORDER_WINDOW = timedelta(hours=1)


class AccountRequired(Forbidden):
    code = "account_required"
    message = "Sign up with an email address to buy credits or a plan."


class AlreadySubscribed(Conflict):
    code = "already_subscribed"
    message = ("You already have a plan. Change it on the billing page: the new plan starts "
               "when this month ends.")


class OrderNotFound(NotFound):
    code = "unknown_order"
    message = "There is no such order."


def catalog(ctx: Ctx) -> Catalog:
    """What is on sale here: plans list only the features this deployment can deliver."""
    return features.offered_catalog(ctx, build_catalog(ctx.settings.billing))


class PaymentsNotConfigured(AppError):
    code = "payments_not_configured"
    status = 503
    message = ("Payments are not set up on this server yet. Please contact the operator.")


def sandbox_refused(ctx: Ctx) -> bool:
    """The offline sandbox only takes orders in dev mode (or when explicitly allowed): on a
    public instance it would hand out credits for nothing."""
    settings = ctx.settings
    return (ctx.payments.default_name == "sandbox" and not settings.dev_mode
            and not settings.billing.sandbox_without_dev_mode)


def require_real_payments(ctx: Ctx) -> None:
    if sandbox_refused(ctx):
        raise PaymentsNotConfigured()


async def create_order(ctx: Ctx, *, user: User, item_id: str,
                       currency: str | None = None) -> Order:
    if user.get("status") == users.GUARDIAN_PENDING:
        raise GuardianConsentRequired()
    if user.get("status") != users.ACTIVE or not user.get("email"):
        raise AccountRequired()
    require_verified_email(user)
    require_real_payments(ctx)
    item = catalog(ctx).get(item_id)
    if not item.orderable:
        raise AppError("The free plan needs no order.", code="not_orderable", status=422)
    currency = currency or ctx.settings.billing.currency
    amount: Decimal = item.price(currency)
    now = ctx.clock.now()
    check_tier_allowed(user, item, today=now.date())
    if item.kind == PLAN and await subscriptions.live_for_user(ctx.db, user["_id"]):
        raise AlreadySubscribed()
    open_orders = await orders.count_open_since(ctx.db, user["_id"], now - OPEN_ORDER_WINDOW)
    if open_orders >= ctx.settings.billing.max_open_orders:
        raise TooManyRequests("You have several unpaid orders. Finish or wait for them first.",
                              code="too_many_open_orders")
    order = checkout.new_order(
        order_id=orders.new_order_id(), user_id=user["_id"], item=item, amount=amount,
        currency=currency, provider=ctx.payments.default_name, now=now,
        ttl=timedelta(minutes=ctx.settings.billing.order_ttl_minutes))
    await orders.insert(ctx.db, order)
    return await checkout.open_checkout(ctx, order, customer_email=user.get("email"))


async def get_order(ctx: Ctx, *, user: User, order_id: str) -> Order:
    order = await orders.get_for_user(ctx.db, order_id[:100], user["_id"])
    if order is None:
        raise OrderNotFound()
    return order


async def refresh_order(ctx: Ctx, order: Order) -> Order:
    """The order as it truly stands: a still-created one is checked with its provider."""
    if order["status"] != orders.CREATED or not order.get("checkout_url"):
        return order
    try:
        remote = await ctx.payments.get(order["provider"]).fetch_order(order["_id"])
    except (ProviderError, AppError):
        return order
    return await fulfilment.apply_remote(ctx, order, remote, via="return")


async def list_orders(ctx: Ctx, *, user: User, limit: int,
                      cursor: str | None) -> tuple[list[Order], str | None]:
    return await orders.page_for_user(ctx.db, user["_id"], limit=limit, cursor=cursor)


async def ledger_page(ctx: Ctx, *, user: User, limit: int,
                      cursor: str | None) -> tuple[list[LedgerEntry], str | None]:
    return await ledger.page_for_user(ctx.db, user["_id"], limit=limit, cursor=cursor)


def sandbox(ctx: Ctx, order: Order) -> SandboxPaymentProvider:
    provider = ctx.payments.get(order["provider"]) if order["provider"] == "sandbox" else None
    if not isinstance(provider, SandboxPaymentProvider):
        raise OrderNotFound()
    return provider


async def sandbox_outcome(ctx: Ctx, *, user: User, order_id: str,
                          outcome: str) -> Order:
    """The buyer chose 'pay' or 'fail' on the sandbox checkout: the sandbox sends its signed
    webhook (delivered by a job, through the same path as Cashfree's)."""
    require_real_payments(ctx)
    order = await get_order(ctx, user=user, order_id=order_id)
    provider = sandbox(ctx, order)
    if order["status"] != orders.CREATED:
        return order
    try:
        delivery = await provider.complete(order["_id"], outcome)
    except SandboxOrderClosed:
        return order
    await checkout.enqueue_delivery(ctx, "sandbox", delivery)
    return order


async def replay_sandbox_webhook(ctx: Ctx, order_id: str) -> bool:
    """Send the order's last sandbox webhook again, byte for byte (an operator's test)."""
    order = await orders.get(ctx.db, order_id)
    if order is None:
        raise OrderNotFound()
    delivery = await sandbox(ctx, order).last_delivery(order_id)
    if delivery is None:
        return False
    await checkout.enqueue_delivery(ctx, "sandbox", delivery)
    return True


async def current_subscription(ctx: Ctx, user_id: str) -> dict[str, Any] | None:
    return await subscriptions.live_for_user(ctx.db, user_id)


async def cancel_subscription(ctx: Ctx, *, user: User,
                              cancel: bool = True) -> dict[str, Any]:
    return await subscriptions.set_cancel_at_period_end(ctx, user["_id"], cancel=cancel)


async def change_plan(ctx: Ctx, *, user: User, plan_id: str) -> dict[str, Any]:
    """Switch the live plan to another at the end of this month (the rules of buying apply:
    a minor only to an authorised tier)."""
    if user.get("status") != users.ACTIVE or not user.get("email"):
        raise AccountRequired()
    item = catalog(ctx).get(plan_id)
    if item.kind != PLAN or not item.orderable:
        raise AppError("Choose one of the paid plans.", code="not_a_plan", status=422)
    sub = await subscriptions.live_for_user(ctx.db, user["_id"])
    if sub is None:
        raise NotFound("You have no subscription.", code="no_subscription")
    check_tier_allowed(user, item, today=ctx.clock.now().date())
    return await subscriptions.change_plan_at_period_end(ctx, sub, item,
                                                         item.price(sub["currency"]))


async def renewal_due(ctx: Ctx, sub: dict[str, Any] | None) -> Order | None:
    """The open order a lapsed subscription waits on, if it can still be paid."""
    if sub is None or sub["status"] != subscriptions.PAYMENT_DUE or not sub["renewal_order_id"]:
        return None
    order = await orders.get(ctx.db, sub["renewal_order_id"])
    return order if order and order["status"] == orders.CREATED else None

