"""Safety's flag routes, mounted inside `admin.routes.api` (`/api/v1/admin/moderation-flags`),
whose `admin_user` dependency guards every one.

Flags newest first (filter open / reviewed), one flag with the message it points at, and
marking a flag reviewed. The review queue with its actions and pages is `review_routes`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request

from clonechats.accounts.dependencies import AdminUser, admin_user
from clonechats.safety import flags
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit200 as Limit

api = APIRouter(prefix="/moderation-flags", dependencies=[Depends(admin_user)])

FlagId = Annotated[str, Path(max_length=64)]
Status = Annotated[str | None, Query(pattern="^(" + "|".join(flags.STATUSES) + ")$")]
PAGE_SIZE = 50


@api.get("")
async def list_flags(request: Request, status: Status = None, limit: Limit = PAGE_SIZE,
                     cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await flags.list_flags(context_of(request), status=status,
                                                limit=limit, cursor=cursor)
    return {"items": [flags.public(f) for f in items], "next_cursor": next_cursor}


@api.get("/{flag_id}")
async def get_flag(flag_id: FlagId, request: Request) -> dict[str, Any]:
    ctx = context_of(request)
    flag = await flags.get_flag(ctx, flag_id)
    return {"flag": flags.public(flag), "message": await flags.referenced_message(ctx, flag)}


@api.post("/{flag_id}/review")
async def review_flag(flag_id: FlagId, request: Request, admin: AdminUser) -> dict[str, Any]:
    flag = await flags.mark_reviewed(context_of(request), flag_id=flag_id,
                                     reviewer_id=admin["_id"])
    return {"flag": flags.public(flag), "status": "Marked as reviewed."}
