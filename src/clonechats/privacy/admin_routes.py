"""Privacy's admin routes, mounted inside `admin.routes.api` (`/api/v1/admin/privacy`) and
`admin.routes.pages` (`/admin/privacy`), whose `admin_user` dependency guards every one.

The data-request queue (open requests by deadline, overdue first; closed ones on request),
filing a request received by email, updating a request, and the anonymous analytics counts.
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from clonechats.accounts.dependencies import admin_user
from clonechats.privacy import analytics, requests
from clonechats.privacy.schemas import (
    DataRequestAdminOut,
    DataRequestForEmailIn,
    DataRequestUpdate,
)
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit200 as Limit

api = APIRouter(prefix="/privacy", dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/privacy", dependencies=[Depends(admin_user)])

RequestId = Annotated[str, Path(max_length=64)]
ANALYTICS_DAYS = 30


def _out(request: dict[str, Any], now: Any) -> dict[str, Any]:
    return DataRequestAdminOut.of(request, now=now).model_dump(mode="json")


@api.get("/requests")
async def request_queue(request: Request, closed: bool = False, limit: Limit = 100,
                        cursor: Cursor = None) -> dict[str, Any]:
    ctx = context_of(request)
    items, next_cursor = await requests.queue(ctx, closed=closed, limit=limit, cursor=cursor)
    now = ctx.clock.now()
    return {"items": [_out(r, now) for r in items], "next_cursor": next_cursor}


@api.post("/requests", status_code=201)
async def file_for_email(data: DataRequestForEmailIn, request: Request) -> dict[str, Any]:
    ctx = context_of(request)
    filed = await requests.file_for_email(ctx, email=data.email, kind=data.kind,
                                          message=data.message)
    return {"request": _out(filed, ctx.clock.now()),
            "status": "Filed. The deadline is 30 days from today."}


@api.patch("/requests/{request_id}")
async def update_request(request_id: RequestId, data: DataRequestUpdate,
                         request: Request) -> dict[str, Any]:
    ctx = context_of(request)
    updated = await requests.update(ctx, request_id=request_id, status=data.status,
                                    note=data.note)
    return {"request": _out(updated, ctx.clock.now())}


@api.get("/analytics")
async def analytics_counts(request: Request) -> dict[str, Any]:
    ctx = context_of(request)
    since = (ctx.clock.now() - timedelta(days=ANALYTICS_DAYS)).date().isoformat()
    return {"items": await analytics.summary(ctx, since_day=since), "next_cursor": None}


@pages.get("/requests", response_class=HTMLResponse)
async def queue_page(request: Request, closed: bool = False,
                     cursor: Cursor = None) -> HTMLResponse:
    ctx = context_of(request)
    items, next_cursor = await requests.queue(ctx, closed=closed, cursor=cursor)
    now = ctx.clock.now()
    rows = [{**_out(r, now), "days_left": (r["due_at"] - now).days} for r in items]
    return request.app.state.templates.TemplateResponse(
        request, "privacy/admin_requests.html",
        {"requests": rows, "closed": closed, "next_cursor": next_cursor,
         "kinds": requests.KINDS, "statuses": requests.STATUSES,
         "dev_mode": ctx.settings.dev_mode, "is_first_page": not cursor},
        headers={"Cache-Control": "no-store"})
