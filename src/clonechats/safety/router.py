"""Safety's admin routes, mounted inside `admin.router.api` (`/api/v1/admin/moderation-flags`)
and `admin.router.pages` (`/admin/moderation`), whose `admin_user` dependency guards every one.

Flags newest first (filter open / reviewed), one flag with the message it points at, and
marking a flag reviewed.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from clonechats.accounts.dependencies import AdminUser, admin_user
from clonechats.safety import flags

api = APIRouter(prefix="/moderation-flags", dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/moderation", dependencies=[Depends(admin_user)])

FlagId = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=100)]
Status = Annotated[str | None, Query(pattern="^(" + "|".join(flags.STATUSES) + ")$")]
PAGE_SIZE = 50


@api.get("")
async def list_flags(request: Request, status: Status = None, limit: Limit = PAGE_SIZE,
                     cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await flags.list_flags(request.app.state.ctx, status=status,
                                                limit=limit, cursor=cursor)
    return {"items": [flags.public(f) for f in items], "next_cursor": next_cursor}


@api.get("/{flag_id}")
async def get_flag(flag_id: FlagId, request: Request) -> dict[str, Any]:
    ctx = request.app.state.ctx
    flag = await flags.get_flag(ctx, flag_id)
    return {"flag": flags.public(flag), "message": await flags.referenced_message(ctx, flag)}


@api.post("/{flag_id}/review")
async def review_flag(flag_id: FlagId, request: Request, admin: AdminUser) -> dict[str, Any]:
    flag = await flags.mark_reviewed(request.app.state.ctx, flag_id=flag_id,
                                     reviewer_id=admin["_id"])
    return {"flag": flags.public(flag), "status": "Marked as reviewed."}


def render(request: Request, **context: Any) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, "admin/moderation.html", context, headers={"Cache-Control": "no-store"})


@pages.get("", response_class=HTMLResponse)
async def flags_page(request: Request, status: Status = None,
                     cursor: Cursor = None) -> HTMLResponse:
    ctx = request.app.state.ctx
    items, next_cursor = await flags.list_flags(ctx, status=status, limit=PAGE_SIZE,
                                                cursor=cursor)
    return render(request, flags=[flags.public(f) for f in items], next_cursor=next_cursor,
                  status=status, statuses=flags.STATUSES, is_first_page=not cursor,
                  open_count=await flags.count_open(ctx), dev_mode=ctx.settings.dev_mode)


@pages.get("/{flag_id}", response_class=HTMLResponse)
async def flag_page(flag_id: FlagId, request: Request) -> HTMLResponse:
    ctx = request.app.state.ctx
    flag = await flags.get_flag(ctx, flag_id)
    return render(request, flag=flags.public(flag),
                  message=await flags.referenced_message(ctx, flag),
                  dev_mode=ctx.settings.dev_mode)
