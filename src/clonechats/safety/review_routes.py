"""The moderation review queue and fraud signals over HTTP.

`api` and `pages` are mounted inside `admin.routes.api` / `admin.routes.pages`, whose
`admin_user` dependency guards every route: `GET /api/v1/admin/moderation` (the queue),
`POST /api/v1/admin/moderation/{flag_id}/action`, `GET /api/v1/admin/fraud`,
`POST /api/v1/admin/fraud/action`, and the pages `/admin/moderation`,
`/admin/moderation/{flag_id}`, `/admin/fraud`. The anonymous report of a shared persona is
in `safety.routes`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.dependencies import AdminUser, admin_user
from clonechats.client_info import ClientInfo
from clonechats.safety import flags, fraud, review
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit200 as Limit
from clonechats.web.templates import NO_STORE, renderer

api = APIRouter(dependencies=[Depends(admin_user)])
pages = APIRouter(dependencies=[Depends(admin_user)])

Client = Annotated[ClientInfo, Depends(client_info)]
FlagId = Annotated[str, Path(max_length=64)]
Status = Annotated[str | None, Query(pattern="^(open|reviewed|all)$")]
PAGE_SIZE = 25


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=20)
    note: str | None = Field(None, max_length=review.NOTE_MAX)


class FraudActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=20)
    subject: str = Field(max_length=200)
    note: str = Field("", max_length=review.NOTE_MAX)


def _status(status: str | None) -> str | None:
    return None if status == "all" else status or flags.OPEN


@api.get("/moderation")
async def moderation_queue(request: Request, status: Status = None, limit: Limit = PAGE_SIZE,
                           cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await review.queue(context_of(request), status=_status(status),
                                            limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@api.post("/moderation/{flag_id}/action")
async def moderation_action(flag_id: FlagId, data: ActionIn, request: Request,
                            admin: AdminUser, client: Client) -> dict[str, Any]:
    item = await review.act(context_of(request), flag_id=flag_id, action=data.action,
                            note=data.note, admin=admin, client=client)
    return {"item": item, "status": f"Done: {data.action}."}


@api.get("/fraud")
async def fraud_signals(request: Request) -> dict[str, Any]:
    return {"items": await fraud.signals(context_of(request)), "next_cursor": None}


@api.post("/fraud/action")
async def fraud_action(data: FraudActionIn, request: Request, admin: AdminUser,
                       client: Client) -> dict[str, Any]:
    result = await fraud.act(context_of(request), action=data.action, subject=data.subject,
                             note=data.note.strip(), admin=admin, client=client)
    return {**result, "status": f"Done: {len(result['suspended'])} account(s) suspended."}


_render = renderer("admin", headers=NO_STORE)


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    return _render(request, template, **{"dev_mode": request.app.state.settings.dev_mode,
                                         **context})


@pages.get("/moderation", response_class=HTMLResponse)
async def queue_page(request: Request, status: Status = None,
                     cursor: Cursor = None) -> HTMLResponse:
    ctx = context_of(request)
    items, next_cursor = await review.queue(ctx, status=_status(status), limit=PAGE_SIZE,
                                            cursor=cursor)
    return render(request, "moderation.html", items=items, next_cursor=next_cursor,
                  status=status or flags.OPEN, is_first_page=not cursor,
                  open_count=await flags.count_open(ctx))


@pages.get("/moderation/{flag_id}", response_class=HTMLResponse)
async def flag_page(flag_id: FlagId, request: Request) -> HTMLResponse:
    ctx = context_of(request)
    item = await review.with_context(ctx, await flags.get_flag(ctx, flag_id))
    return render(request, "moderation.html", item=item)


@pages.get("/fraud", response_class=HTMLResponse)
async def fraud_page(request: Request) -> HTMLResponse:
    ctx = context_of(request)
    return render(request, "fraud.html", signals=await fraud.signals(ctx),
                  rules=fraud.RULES, settings=ctx.settings.admin.fraud)
