"""Billing API (`/api/v1/billing`): catalog, orders, ledger, subscription, webhooks.

Every route but the webhook needs an active account (the project's rule for product routes);
the webhook is anonymous and authenticated by its signature."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from clonechats.accounts.dependencies import ActiveUser
from clonechats.billing import receipts, schemas, service, webhooks
from clonechats.billing.ledger import balance
from clonechats.billing.plans import public_item
from clonechats.web.context import context_of
from clonechats.web.query import Cursor300 as Cursor
from clonechats.web.query import Limit100 as Limit

router = APIRouter(prefix="/api/v1/billing", tags=["billing"])

PAGE_SIZE = 20


@router.get("/catalog")
async def catalog(request: Request, user: ActiveUser) -> dict[str, Any]:
    """The price list (also public, as the /pricing page)."""
    ctx = context_of(request)
    items = service.catalog(ctx)
    return {"currency": items.currency, "provider": ctx.payments.default_name,
            "plans": [public_item(p) for p in items.plans],
            "packs": [public_item(p) for p in items.packs]}


@router.post("/orders", status_code=201)
async def create_order(data: schemas.OrderIn, request: Request,
                       user: ActiveUser) -> dict[str, Any]:
    order = await service.create_order(context_of(request), user=user, item_id=data.item_id,
                                       currency=data.currency)
    return schemas.order_created(order)


@router.get("/orders")
async def list_orders(request: Request, user: ActiveUser, limit: Limit = PAGE_SIZE,
                      cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_orders(context_of(request), user=user,
                                                   limit=limit, cursor=cursor)
    return {"items": [schemas.order_public(o) for o in items], "next_cursor": next_cursor}


@router.get("/orders/{order_id}")
async def get_order(order_id: Annotated[str, Path(max_length=100)], request: Request,
                    user: ActiveUser) -> dict[str, Any]:
    order = await service.get_order(context_of(request), user=user, order_id=order_id)
    return schemas.order_public(order)


@router.get("/orders/{order_id}/receipt")
async def get_receipt(order_id: Annotated[str, Path(max_length=100)], request: Request,
                      user: ActiveUser) -> dict[str, Any]:
    """A paid order's receipt; 404 `no_receipt` for an order that was never paid."""
    receipt = await receipts.for_buyer(context_of(request), user=user, order_id=order_id)
    return jsonable_encoder(receipt)  # the dataclass's fields, times in ISO 8601


@router.get("/ledger")
async def ledger(request: Request, user: ActiveUser, limit: Limit = PAGE_SIZE,
                 cursor: Cursor = None) -> dict[str, Any]:
    ctx = context_of(request)
    items, next_cursor = await service.ledger_page(ctx, user=user, limit=limit, cursor=cursor)
    return {"items": [schemas.ledger_entry(e) for e in items], "next_cursor": next_cursor,
            "balance": await balance(ctx.db, user["_id"])}


@router.get("/subscription")
async def subscription(request: Request, user: ActiveUser) -> dict[str, Any]:
    sub = await service.current_subscription(context_of(request), user["_id"])
    return {"plan": user.get("plan", "free"), "subscription": schemas.subscription_public(sub)}


@router.post("/subscription/cancel")
async def cancel(request: Request, user: ActiveUser) -> dict[str, Any]:
    sub = await service.cancel_subscription(context_of(request), user=user, cancel=True)
    return {"subscription": schemas.subscription_public(sub),
            "status": "Your plan stays until the end of this month, then ends."}


@router.post("/subscription/resume")
async def resume(request: Request, user: ActiveUser) -> dict[str, Any]:
    sub = await service.cancel_subscription(context_of(request), user=user, cancel=False)
    return {"subscription": schemas.subscription_public(sub),
            "status": "Your plan will renew at the end of this month."}


@router.post("/subscription/plan")
async def change_plan(data: schemas.PlanChangeIn, request: Request,
                      user: ActiveUser) -> dict[str, Any]:
    sub = await service.change_plan(context_of(request), user=user, plan_id=data.plan_id)
    public = schemas.subscription_public(sub)
    assert public is not None
    upcoming = public["next_plan"]
    status = (f"From {public['current_period_end'][:10]} your plan is {upcoming['name']}; "
              "until then you keep this month's plan and credits." if upcoming else
              "Your plan stays as it is.")
    return {"subscription": public, "status": status}


@router.post("/webhooks/{provider}", include_in_schema=True)
async def webhook(provider: Annotated[str, Path(max_length=32)],
                  request: Request) -> JSONResponse:
    """Anonymous: the raw body is read before anything parses it, then verified."""
    body = await request.body()
    outcome = await webhooks.receive(context_of(request), provider, request.headers, body)
    return JSONResponse(outcome.body(), status_code=outcome.status)
