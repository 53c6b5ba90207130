"""Billing pages: pricing, checkout (sandbox and Cashfree), the order return page, /billing.

Buying works without JavaScript: the pricing page's forms post to `/billing/buy` (CSRF token
as a form field), which creates the order and sends the browser to its checkout. The return
page shows the order's true status: our record, refreshed from the provider while it is still
open. A paid order has a print-ready receipt page. Another person's order is a 404 on every
page.
"""

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clonechats.accounts.dependencies import resolve_auth
from clonechats.accounts.users import User
from clonechats.billing import features, history, ledger, orders, receipts, service
from clonechats.billing.checkout import PaymentProviderUnavailable
from clonechats.billing.orders import Order
from clonechats.billing.plans import check_tier_allowed, format_amount
from clonechats.context import Ctx
from clonechats.errors import AppError, NotFound
from clonechats.providers.payments.cashfree import CashfreePaymentProvider
from clonechats.web.context import context_of
from clonechats.web.templates import NO_STORE, renderer

router = APIRouter(include_in_schema=False)

OrderId = Annotated[str, Path(max_length=100)]
CASHFREE_SDK = "https://sdk.cashfree.com/js/v3/cashfree.js"
CASHFREE_CSP = "; ".join([
    "default-src 'self'", "script-src 'self' https://sdk.cashfree.com", "style-src 'self'",
    "img-src 'self' data:", "connect-src 'self' https://*.cashfree.com",
    "frame-src https://*.cashfree.com", "object-src 'none'", "base-uri 'none'",
    "form-action 'self' https://*.cashfree.com", "frame-ancestors 'none'",
])
"""This page alone may load Cashfree's JS SDK, which sends the buyer to hosted checkout."""
STATUS_TEXT = {
    orders.CREATED: "Waiting for the payment",
    orders.PAID: "Paid",
    orders.FAILED: "Not paid",
    orders.REFUNDED: "Refunded",
}
LEDGER_ROWS = 50
RETURN_REFRESH_SECONDS = 3
ORDER_ROWS = 20


render = renderer("billing", headers=NO_STORE, context={"status_text": STATUS_TEXT})


def to_login(path: str) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(path, safe='')}", status_code=303)


def price_rows(ctx: Ctx, items: Any, currency: str, user: User | None) -> list[dict]:
    today = ctx.clock.now().date()
    rows = []
    for item in items:
        allowed = True
        if user is not None:
            try:
                check_tier_allowed(user, item, today=today)
            except AppError:
                allowed = False
        price = item.prices.get(currency)
        rows.append({"item": item, "allowed": allowed,
                     "price": format_amount(price, currency) if price else None})
    return rows


async def pricing_context(request: Request, user: User | None) -> dict[str, Any]:
    ctx = context_of(request)
    catalog = service.catalog(ctx)
    sub = await service.current_subscription(ctx, user["_id"]) if user else None
    return {"user": user, "currency": catalog.currency, "subscription": sub,
            "plans": price_rows(ctx, catalog.plans, catalog.currency, user),
            "packs": price_rows(ctx, catalog.packs, catalog.currency, user),
            "feature_label": features.label, "provider": ctx.payments.default_name,
            "payments_disabled": service.sandbox_refused(ctx)}


@router.get("/pricing", response_class=HTMLResponse)
async def pricing(request: Request) -> Response:
    auth = await resolve_auth(request)
    user = auth.user if auth else None
    return render(request, "pricing.html", **await pricing_context(request, user))


@router.post("/billing/buy")
async def buy(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return to_login("/pricing")
    form = await request.form()
    item_id = str(form.get("item_id") or "")[:32]
    try:
        order = await service.create_order(context_of(request), user=auth.user,
                                           item_id=item_id)
        if not order["checkout_url"]:  # an open checkout always has one
            raise PaymentProviderUnavailable()
    except AppError as exc:
        return render(request, "pricing.html", status_code=exc.status, error=exc.message,
                      **await pricing_context(request, auth.user))
    return RedirectResponse(order["checkout_url"], status_code=303)


async def own_order(request: Request, order_id: str) -> tuple[Order | None, Any]:
    auth = await resolve_auth(request)
    if auth is None:
        return None, to_login(request.url.path)
    order = await service.get_order(context_of(request), user=auth.user, order_id=order_id)
    return order, auth


@router.get("/billing/sandbox/checkout/{order_id}", response_class=HTMLResponse)
async def sandbox_checkout(order_id: OrderId, request: Request) -> Response:
    order, auth = await own_order(request, order_id)
    if order is None:
        return auth
    service.sandbox(context_of(request), order)
    if order["status"] != orders.CREATED:
        return RedirectResponse(f"/billing/orders/{order['_id']}/return", status_code=303)
    return render(request, "sandbox_checkout.html", order=order,
                  amount=format_amount(Decimal(order["amount"]), order["currency"]))


@router.post("/billing/sandbox/checkout/{order_id}")
async def sandbox_choose(order_id: OrderId, request: Request) -> Response:
    order, auth = await own_order(request, order_id)
    if order is None:
        return auth
    outcome = str((await request.form()).get("outcome") or "")
    if outcome not in ("pay", "fail"):
        raise AppError("Choose pay or fail.", code="invalid_outcome", status=422)
    await service.sandbox_outcome(context_of(request), user=auth.user, order_id=order_id,
                                  outcome=outcome)
    return RedirectResponse(f"/billing/orders/{order['_id']}/return", status_code=303)


@router.get("/billing/checkout/{order_id}", response_class=HTMLResponse)
async def hosted_checkout(order_id: OrderId, request: Request) -> Response:
    order, auth = await own_order(request, order_id)
    if order is None:
        return auth
    provider = context_of(request).payments.get(order["provider"])
    if not isinstance(provider, CashfreePaymentProvider):
        raise NotFound()
    if order["status"] != orders.CREATED or not order["payment_session_id"]:
        return RedirectResponse(f"/billing/orders/{order['_id']}/return", status_code=303)
    response = render(request, "cashfree_checkout.html", order=order, sdk_url=CASHFREE_SDK,
                      mode="production" if provider.environment == "production" else "sandbox",
                      amount=format_amount(Decimal(order["amount"]), order["currency"]))
    response.headers["content-security-policy"] = CASHFREE_CSP
    return response


@router.get("/billing/orders/{order_id}/return", response_class=HTMLResponse)
async def order_return(order_id: OrderId, request: Request) -> Response:
    order, auth = await own_order(request, order_id)
    if order is None:
        return auth
    order = await service.refresh_order(context_of(request), order)
    response = render(request, "order_return.html", order=order,
                      amount=format_amount(Decimal(order["amount"]), order["currency"]),
                      balance=await ledger.balance(context_of(request).db, auth.user["_id"]))
    if order["status"] == orders.CREATED:
        response.headers["refresh"] = str(RETURN_REFRESH_SECONDS)
    return response


@router.get("/billing/orders/{order_id}/receipt", response_class=HTMLResponse)
async def receipt_page(order_id: OrderId, request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return to_login(request.url.path)
    receipt = await receipts.for_buyer(context_of(request), user=auth.user, order_id=order_id)
    return render(request, "receipt.html", receipt=receipt)


@router.get("/billing", response_class=HTMLResponse)
async def billing_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return to_login("/billing")
    ctx, user = context_of(request), auth.user
    sub = await service.current_subscription(ctx, user["_id"])
    order_rows, _ = await service.list_orders(ctx, user=user, limit=ORDER_ROWS, cursor=None)
    entries, _ = await service.ledger_page(ctx, user=user, limit=LEDGER_ROWS, cursor=None)
    catalog = service.catalog(ctx)
    plan = catalog.plan_for_tier(user.get("plan") or "free")
    return render(request, "billing.html", user=user, subscription=sub,
                  other_plans=[row for row in price_rows(ctx, catalog.plans, sub["currency"],
                                                         user)
                               if row["item"].id != sub["plan_id"] and row["allowed"]
                               and row["price"]] if sub else [],
                  plan_name=plan.name if plan else (user.get("plan") or "free").title(),
                  balance=await ledger.balance(ctx.db, user["_id"]),
                  renewal=await service.renewal_due(ctx, sub),
                  orders=[{**o, "amount_text": format_amount(Decimal(o["amount"]),
                                                             o["currency"])}
                          for o in order_rows], entries=history.history_rows(entries))
