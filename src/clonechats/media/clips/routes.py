"""Clips API (`/api/v1/clips`): the user's voice and video clips, kept or deleted.

`GET /api/v1/clips` (newest first, `?limit=&cursor=`, optional `?kind=voice|video`) ·
`GET /api/v1/clips/{id}` (with timings) · `PATCH /api/v1/clips/{id}` `{"saved": bool}` (saved
clips are kept past the retention period) · `DELETE /api/v1/clips/{id}` (204; the file goes
too). The audio itself is served by `GET /media/{media_id}`, to its owner only.
"""

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from clonechats.accounts.dependencies import ActiveUser
from clonechats.media.clips import service
from clonechats.web.context import context_of
from clonechats.web.query import Cursor, OptionalLimit100

router = APIRouter(tags=["clips"])

BASE = "/api/v1/clips"


class ClipPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    saved: bool


@router.get(BASE)
async def list_clips(request: Request, user: ActiveUser,
                     limit: OptionalLimit100 = None,
                     cursor: Cursor = None,
                     kind: Literal["voice", "video"] | None = None) -> dict[str, Any]:
    items, next_cursor = await service.list_clips(context_of(request), user_id=user["_id"],
                                                  limit=limit, cursor=cursor, kind=kind)
    return {"items": [service.public_fields(c) for c in items], "next_cursor": next_cursor}


@router.get(BASE + "/{clip_id}")
async def get_clip(clip_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    clip = await service.get(context_of(request), user_id=user["_id"], clip_id=clip_id)
    return {"clip": {**service.public_fields(clip), "timings": clip.get("timings", [])}}


@router.patch(BASE + "/{clip_id}")
async def update_clip(clip_id: str, data: ClipPatch, request: Request,
                      user: ActiveUser) -> dict[str, Any]:
    clip = await service.set_saved(context_of(request), user_id=user["_id"], clip_id=clip_id,
                                   saved=data.saved)
    return {"clip": service.public_fields(clip)}


@router.delete(BASE + "/{clip_id}", status_code=204)
async def delete_clip(clip_id: str, request: Request, user: ActiveUser) -> Response:
    await service.delete_clip(context_of(request), user_id=user["_id"], clip_id=clip_id)
    return Response(status_code=204)
