"""Debate rooms API (`/api/v1/rooms`) and the public view of a shared room.

Thin: each route resolves the caller, hands the input to `rooms.service` and shapes the
answer. `GET …/events` is a Server-Sent Events stream for any number of viewers on any web
process (`rooms.live`): each event carries `id:` (its seq in the room), so a reconnecting
`EventSource` resumes after its `Last-Event-ID` (or `?last_event_id=`).
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from clonechats.accounts.dependencies import ActiveUser
from clonechats.rooms import live, service
from clonechats.rooms.plan import participant
from clonechats.rooms.schemas import (
    FloorIn,
    MuteIn,
    PublicRoomOut,
    RoomCreate,
    RoomOut,
    TextIn,
    WarnIn,
)
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.query import OptionalLimit100 as Limit

router = APIRouter(tags=["rooms"])

BASE = "/api/v1/rooms"
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)]
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RETRY_MS = 2000


def share_url(request: Request, share_id: str) -> str:
    return f"{request.app.state.settings.public_url.rstrip('/')}/r/{share_id}"


def room_body(room: dict[str, Any], turns: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"room": RoomOut.of(room, turns).model_dump(mode="json")}


def sse_frame(event: dict[str, Any] | None) -> str:
    if event is None:
        return ": keepalive\n\n"
    data = json.dumps(event["data"], ensure_ascii=False)
    return f"id: {event['seq']}\nevent: {event['name']}\ndata: {data}\n\n"


def event_stream(request: Request, room_id: str, after: int, transform: Any = None,
                 ) -> StreamingResponse:
    async def body() -> Any:
        yield f"retry: {RETRY_MS}\n\n"
        async for event in live.follow(context_of(request), room_id, after=after,
                                       transform=transform):
            yield sse_frame(event)
        yield "event: end\ndata: {}\n\n"  # no id: nothing to resume; the room is closed

    return StreamingResponse(body(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post(BASE, status_code=201)
async def create_room(data: RoomCreate, request: Request, user: ActiveUser) -> dict[str, Any]:
    room = await service.create(context_of(request), user_id=user["_id"], data=data)
    return room_body(room)


@router.get(BASE)
async def list_rooms(request: Request, user: ActiveUser, limit: Limit = None,
                     cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_for_owner(context_of(request),
                                                      user_id=user["_id"], limit=limit,
                                                      cursor=cursor)
    return {"items": [RoomOut.of(r).model_dump(mode="json") for r in items],
            "next_cursor": next_cursor}


@router.get(BASE + "/{room_id}")
async def get_room(room_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    room, turns = await service.get_with_turns(context_of(request), user_id=user["_id"],
                                               room_id=room_id)
    return room_body(room, turns)


@router.delete(BASE + "/{room_id}", status_code=204)
async def delete_room(room_id: str, request: Request, user: ActiveUser) -> Response:
    await service.delete(context_of(request), user_id=user["_id"], room_id=room_id)
    return Response(status_code=204)


@router.post(BASE + "/{room_id}/start", status_code=202)
async def start_room(room_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    return room_body(await service.start(context_of(request), user_id=user["_id"],
                                         room_id=room_id))


@router.post(BASE + "/{room_id}/interject", status_code=202)
async def interject(room_id: str, data: TextIn, request: Request,
                    user: ActiveUser) -> dict[str, Any]:
    item = await service.interject(context_of(request), user_id=user["_id"], room_id=room_id,
                                   text=data.text)
    return {"queued": {"id": item["id"], "kind": item["kind"]}}


@router.post(BASE + "/{room_id}/stop")
async def stop_room(room_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    return room_body(await service.stop(context_of(request), user_id=user["_id"],
                                        room_id=room_id))


@router.post(BASE + "/{room_id}/floor", status_code=202)
async def give_floor(room_id: str, data: FloorIn, request: Request,
                     user: ActiveUser) -> dict[str, Any]:
    return room_body(await service.give_floor(context_of(request), user_id=user["_id"],
                                              room_id=room_id, persona_id=data.persona_id))


@router.post(BASE + "/{room_id}/mute", status_code=202)
async def mute_speaker(room_id: str, data: MuteIn, request: Request,
                       user: ActiveUser) -> dict[str, Any]:
    return room_body(await service.mute(context_of(request), user_id=user["_id"],
                                        room_id=room_id, persona_id=data.persona_id,
                                        muted=data.muted))


@router.post(BASE + "/{room_id}/warn", status_code=202)
async def warn_speaker(room_id: str, data: WarnIn, request: Request,
                       user: ActiveUser) -> dict[str, Any]:
    item = await service.warn(context_of(request), user_id=user["_id"], room_id=room_id,
                              persona_id=data.persona_id, text=data.text)
    return {"queued": {"id": item["id"], "kind": item["kind"]}}


@router.post(BASE + "/{room_id}/verdict", status_code=202)
async def ask_verdict(room_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    return room_body(await service.request_verdict(context_of(request), user_id=user["_id"],
                                                   room_id=room_id))


@router.post(BASE + "/{room_id}/share")
async def share_room(room_id: str, request: Request, user: ActiveUser) -> dict[str, str]:
    room = await service.share(context_of(request), user_id=user["_id"], room_id=room_id)
    return {"share_id": room["share_id"], "url": share_url(request, room["share_id"])}


@router.delete(BASE + "/{room_id}/share", status_code=204)
async def unshare_room(room_id: str, request: Request, user: ActiveUser) -> Response:
    await service.unshare(context_of(request), user_id=user["_id"], room_id=room_id)
    return Response(status_code=204)


@router.get(BASE + "/{room_id}/events", response_model=None)
async def room_events(room_id: str, request: Request, user: ActiveUser,
                      last_event_id: LastEventId = None,
                      resume: Annotated[str | None, Query(alias="last_event_id",
                                                          max_length=20)] = None,
                      ) -> StreamingResponse:
    await service.get(context_of(request), user_id=user["_id"], room_id=room_id)
    after = live.parse_last_event_id(last_event_id or resume)
    return event_stream(request, room_id, after)


# The public, read-only view of a shared room: no owner, no persona ids, no costs.

def public_event(room: dict[str, Any]) -> Any:
    def transform(event: dict[str, Any]) -> dict[str, Any]:
        data = event["data"]
        speaker = data.get("speaker")
        if speaker is not None:
            found = participant(room, speaker.get("persona_id"))
            name = found["name"] if found else (
                "Moderator" if speaker["type"] == "moderator" else "Host")
            index = room["participants"].index(found) if found else -1
            data = {**data, "speaker": {"type": speaker["type"], "name": name, "index": index}}
        return {**event, "data": data}

    return transform


@router.get("/api/v1/public/rooms/{share_id}")
async def public_room(share_id: str, request: Request) -> dict[str, Any]:
    ctx = context_of(request)
    room = await service.get_public(ctx, share_id=share_id)
    turns = await service.turns_of(ctx, room)
    return {"room": PublicRoomOut.of(room, turns).model_dump(mode="json")}


@router.get("/api/v1/public/rooms/{share_id}/events", response_model=None)
async def public_room_events(share_id: str, request: Request,
                             last_event_id: LastEventId = None,
                             resume: Annotated[str | None, Query(alias="last_event_id",
                                                                 max_length=20)] = None,
                             ) -> StreamingResponse:
    room = await service.get_public(context_of(request), share_id=share_id)
    after = live.parse_last_event_id(last_event_id or resume)
    return event_stream(request, room["_id"], after, transform=public_event(room))
