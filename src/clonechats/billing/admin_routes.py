"""Billing's admin routes, mounted inside `admin.routes.api` (`/api/v1/admin/billing`) and
`admin.routes.pages` (`/admin/billing`), whose `admin_user` dependency guards every one.

Orders (filter by status), one order with its webhook deliveries, refunds, replaying a sandbox
webhook, the ledger check and an immediate reconciliation sweep.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from clonechats.accounts import audit
from clonechats.accounts.dependencies import AdminUser, admin_user
from clonechats.billing import admin_service, schemas
from clonechats.billing.orders import STATUSES
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.query import Cursor300 as Cursor
from clonechats.web.query import Limit200 as Limit
from clonechats.web.templates import NO_STORE, renderer

api = APIRouter(prefix="/billing", dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/billing", dependencies=[Depends(admin_user)])

OrderId = Annotated[str, Path(max_length=100)]
Status = Annotated[str | None, Query(pattern="^(" + "|".join(STATUSES) + ")$")]
PAGE_SIZE = 50


@api.get("/orders")
async def list_orders(request: Request, status: Status = None, limit: Limit = PAGE_SIZE,
                      cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await admin_service.list_orders(context_of(request), status=status,
                                                         limit=limit, cursor=cursor)
    return {"items": [schemas.order_admin(o) for o in items], "next_cursor": next_cursor}


@api.get("/orders/{order_id}")
async def get_order(order_id: OrderId, request: Request) -> dict[str, Any]:
    order, deliveries = await admin_service.order_with_deliveries(context_of(request),
                                                                  order_id)
    return {"order": schemas.order_admin(order),
            "deliveries": [schemas.delivery_admin(d) for d in deliveries]}


@api.post("/orders/{order_id}/refund")
async def refund(order_id: OrderId, request: Request, admin: AdminUser,
                 data: schemas.RefundIn | None = None) -> dict[str, Any]:
    ctx = context_of(request)
    order = await admin_service.refund(ctx, order_id=order_id, admin=admin,
                                       reason=data.reason if data else "")
    await audit.record(ctx.db, "admin_refund", now=ctx.clock.now(), user_id=order.get("user_id"),
                       client=client_info(request), actor_id=admin["_id"], order_id=order_id,
                       status=order["status"])
    return {"order": schemas.order_admin(order),
            "status": "Refunded." if order["status"] == "refunded"
            else "The refund is with the payment provider."}


@api.post("/orders/{order_id}/replay-webhook", status_code=202)
async def replay_webhook(order_id: OrderId, request: Request) -> dict[str, Any]:
    await admin_service.replay_webhook(context_of(request), order_id)
    return {"status": "The order's last sandbox webhook was sent again."}


@api.get("/ledger-check")
async def ledger_check(request: Request) -> dict[str, Any]:
    mismatches = await admin_service.ledger_check(context_of(request))
    return {"ok": not mismatches, "mismatches": mismatches}


@api.post("/reconcile")
async def reconcile(request: Request) -> dict[str, Any]:
    return {"counts": await admin_service.reconcile_now(context_of(request))}


render = renderer("admin", headers=NO_STORE)


@pages.get("", response_class=HTMLResponse)
async def orders_page(request: Request, status: Status = None,
                      cursor: Cursor = None) -> HTMLResponse:
    ctx = context_of(request)
    items, next_cursor = await admin_service.list_orders(ctx, status=status, limit=PAGE_SIZE,
                                                         cursor=cursor)
    return render(request, "billing_orders.html", orders=[schemas.order_admin(o) for o in items],
                  next_cursor=next_cursor, status=status, statuses=STATUSES,
                  is_first_page=not cursor, mismatches=await admin_service.ledger_check(ctx),
                  dev_mode=ctx.settings.dev_mode)


@pages.get("/orders/{order_id}", response_class=HTMLResponse)
async def order_page(order_id: OrderId, request: Request) -> HTMLResponse:
    ctx = context_of(request)
    order, deliveries = await admin_service.order_with_deliveries(ctx, order_id)
    return render(request, "billing_order.html", order=schemas.order_admin(order),
                  deliveries=deliveries, sandbox=order["provider"] == "sandbox",
                  dev_mode=ctx.settings.dev_mode)
