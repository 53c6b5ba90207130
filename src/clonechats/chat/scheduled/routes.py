"""Scheduled messages API: `POST /api/v1/conversations/{id}/scheduled`, `GET /api/v1/scheduled`
(mine; `?status=`, `?conversation_id=`, paginated), `GET|PATCH|DELETE /api/v1/scheduled/{id}`,
and the scheduling preferences (`GET|PATCH /api/v1/account/scheduling`: time zone, email
notice). Thin: each route hands the input to `chat.scheduled.service`. Another user's item or
conversation is 404.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from clonechats.accounts.dependencies import ActiveUser
from clonechats.accounts.users import User
from clonechats.chat.scheduled import service
from clonechats.chat.scheduled.schemas import (
    ScheduledCreate,
    ScheduledOut,
    ScheduledUpdate,
    SchedulingPreferences,
)
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.query import OptionalLimit100 as Limit

router = APIRouter(tags=["scheduled"])

BASE = "/api/v1/scheduled"


def body(item: dict[str, Any]) -> dict[str, Any]:
    return {"scheduled": ScheduledOut.of(item).model_dump(mode="json")}


def preferences(user: User) -> dict[str, Any]:
    return {"preferences": {"time_zone": user.get("time_zone"),
                            "email_notice": bool(user.get("scheduled_email_notice"))}}


@router.post("/api/v1/conversations/{conversation_id}/scheduled", status_code=201)
async def schedule(conversation_id: str, data: ScheduledCreate, request: Request,
                   user: ActiveUser) -> dict[str, Any]:
    item = await service.create(context_of(request), user=user,
                                conversation_id=conversation_id, text=data.text,
                                send_at=data.send_at, kind=data.kind,
                                time_zone=data.time_zone, fold=data.fold)
    return body(item)


@router.get(BASE)
async def list_scheduled(request: Request, user: ActiveUser,
                         status: Annotated[str | None, Query(max_length=100)] = None,
                         conversation_id: Annotated[str | None, Query(max_length=100)] = None,
                         limit: Limit = None, cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_for_owner(
        context_of(request), user_id=user["_id"], status=status,
        conversation_id=conversation_id, limit=limit, cursor=cursor)
    return {"items": [ScheduledOut.of(i).model_dump(mode="json") for i in items],
            "next_cursor": next_cursor}


@router.get("/api/v1/account/scheduling")
async def get_preferences(user: ActiveUser) -> dict[str, Any]:
    return preferences(user)


@router.patch("/api/v1/account/scheduling")
async def set_preferences(data: SchedulingPreferences, request: Request,
                          user: ActiveUser) -> dict[str, Any]:
    updated = await service.set_preferences(context_of(request), user=user,
                                            time_zone=data.time_zone,
                                            email_notice=data.email_notice)
    return preferences(updated)


@router.get(BASE + "/{item_id}")
async def get_scheduled(item_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    return body(await service.get(context_of(request), user_id=user["_id"], item_id=item_id))


@router.patch(BASE + "/{item_id}")
async def edit_scheduled(item_id: str, data: ScheduledUpdate, request: Request,
                         user: ActiveUser) -> dict[str, Any]:
    item = await service.edit(context_of(request), user=user, item_id=item_id,
                              text=data.text, send_at=data.send_at, time_zone=data.time_zone,
                              fold=data.fold)
    return body(item)


@router.delete(BASE + "/{item_id}")
async def cancel_scheduled(item_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    return body(await service.cancel(context_of(request), user_id=user["_id"],
                                     item_id=item_id))


@router.post(BASE + "/{item_id}/dismiss", status_code=204)
async def dismiss_failed(item_id: str, request: Request, user: ActiveUser) -> Response:
    await service.dismiss(context_of(request), user_id=user["_id"], item_id=item_id)
    return Response(status_code=204)
