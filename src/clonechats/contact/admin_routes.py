"""The operator's inbox over HTTP, mounted inside `admin.routes.api` (`/api/v1/admin/inbox`)
and `admin.routes.pages` (`/admin/inbox`), whose `admin_user` dependency guards every one."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.dependencies import AdminUser, admin_user
from clonechats.admin import inbox
from clonechats.contact import service as contact
from clonechats.web.context import context_of
from clonechats.web.query import Cursor20 as Cursor
from clonechats.web.query import Limit200 as Limit

api = APIRouter(prefix="/inbox", dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/inbox", dependencies=[Depends(admin_user)])

Kind = Annotated[str, Path(pattern="^(contact|data_request)$")]
ItemId = Annotated[str, Path(max_length=64)]


class ReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=contact.REPLY_MAX)
    close: bool = False


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str = Field(max_length=20)


@api.get("")
async def inbox_items(request: Request, closed: bool = False, limit: Limit = 50,
                      cursor: Cursor = None) -> dict[str, Any]:
    items = await inbox.list_items(context_of(request), closed=closed)
    chunk, next_cursor = inbox.page(items, limit=limit, cursor=cursor)
    return {"items": chunk, "next_cursor": next_cursor}


@api.post("/{kind}/{item_id}/reply")
async def reply(kind: Kind, item_id: ItemId, data: ReplyIn, request: Request,
                admin: AdminUser) -> dict[str, Any]:
    item = await inbox.reply(context_of(request), kind=kind, item_id=item_id,
                             text=data.text, admin=admin, close=data.close)
    return {"item": item, "status": "Your answer is on its way."}


@api.patch("/contact/{item_id}")
async def set_status(item_id: ItemId, data: StatusIn, request: Request) -> dict[str, Any]:
    ctx = context_of(request)
    updated = await contact.set_status(ctx, message_id=item_id, status=data.status)
    return {"item": inbox.contact_item(updated, ctx.clock.now())}


@pages.get("", response_class=HTMLResponse)
async def inbox_page(request: Request, closed: bool = False,
                     cursor: Cursor = None) -> HTMLResponse:
    ctx = context_of(request)
    items = await inbox.list_items(ctx, closed=closed)
    chunk, next_cursor = inbox.page(items, limit=50, cursor=cursor)
    return request.app.state.templates.TemplateResponse(
        request, "admin/inbox.html",
        {"items": chunk, "next_cursor": next_cursor, "closed": closed,
         "is_first_page": not cursor, "dev_mode": ctx.settings.dev_mode,
         "overdue": sum(1 for i in items if i["overdue"] or i["ack_overdue"])},
        headers={"Cache-Control": "no-store"})
