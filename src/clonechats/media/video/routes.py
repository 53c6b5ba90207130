"""Video replies API.

`POST /api/v1/messages/{message_id}/video` → 202 `{"job"}` · `GET /api/v1/video-jobs/{id}`
→ `{"job"}` · `GET /api/v1/video-jobs?conversation_id=` → `{"items"}` (each message's latest
job, with its `message_id`) · `GET /api/v1/video-jobs/{id}/events` → Server-Sent Events
`progress` `{"job"}` whenever the job changes, until it is done, failed or cancelled · `DELETE
/api/v1/video-jobs/{id}` → `{"job"}` (cancelled) · `POST /api/v1/webhooks/fal` (anonymous,
verified by fal's Ed25519 signature) · `GET /api/v1/personas/{id}/face` (where the face, eyes
and mouth are in the persona's image, for the voice call's live avatar). The clip itself is
listed and kept through `/api/v1/clips`; its file and poster are served by `/media/{media_id}`
to their owner.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse

from clonechats.accounts.dependencies import ActiveUser
from clonechats.context import Ctx
from clonechats.media.video import repo, service, webhooks
from clonechats.media.video.errors import NoFaceImage, VideoInputRefused
from clonechats.providers.video.fal_webhooks import InvalidWebhook
from clonechats.web.context import context_of

router = APIRouter(tags=["video"])

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


async def _body(ctx: Ctx, job: dict[str, Any]) -> dict[str, Any]:
    return {"job": _json(await service.public_job(ctx, job))}


@router.post("/api/v1/messages/{message_id}/video", status_code=202)
async def request_video(message_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    job = await service.request_video(ctx, user=user, message_id=message_id)
    return await _body(ctx, job)


@router.get("/api/v1/personas/{persona_id}/face")
async def persona_face(persona_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    """The persona's face layout, for the live avatar of voice calls; `null` without one."""
    ctx = context_of(request)
    try:
        face = await service.face_layout(ctx, user_id=user["_id"], persona_id=persona_id)
    except (NoFaceImage, VideoInputRefused):
        face = None
    return {"face": face}


@router.get("/api/v1/video-jobs")
async def list_jobs(request: Request, user: ActiveUser,
                    conversation_id: Annotated[str, Query(max_length=64)]) -> dict[str, Any]:
    """The latest video job of each message of one of my conversations (for the chat page)."""
    ctx = context_of(request)
    jobs = await service.latest_for_conversation(ctx, user_id=user["_id"],
                                                 conversation_id=conversation_id)
    items = [{**_json(await service.public_job(ctx, job)), "message_id": job["message_id"]}
             for job in jobs]
    return {"items": items}


@router.get("/api/v1/video-jobs/{job_id}")
async def get_job(job_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    return await _body(ctx, await service.get_job(ctx, user_id=user["_id"], job_id=job_id))


@router.delete("/api/v1/video-jobs/{job_id}")
async def cancel_job(job_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    return await _body(ctx, await service.cancel_job(ctx, user_id=user["_id"], job_id=job_id))


@router.get("/api/v1/video-jobs/{job_id}/events")
async def job_events(job_id: str, request: Request, user: ActiveUser) -> StreamingResponse:
    ctx = context_of(request)
    job = await service.get_job(ctx, user_id=user["_id"], job_id=job_id)

    async def events() -> AsyncIterator[str]:
        current, last = job, None
        while True:
            body = await _body(ctx, current)
            if body != last:
                yield f"event: progress\ndata: {json.dumps(body)}\n\n"
                last = body
            if current["status"] in repo.TERMINAL or await request.is_disconnected():
                return
            await asyncio.sleep(ctx.settings.video.events_poll_seconds)
            current = await repo.get(ctx.db, job_id) or current

    return StreamingResponse(events(), media_type="text/event-stream", headers=SSE_HEADERS)


@router.post("/api/v1/webhooks/fal", include_in_schema=True)
async def fal_webhook(request: Request) -> JSONResponse:
    """Anonymous: the raw body is read before anything parses it, then verified."""
    ctx = context_of(request)
    if ctx.fal_webhooks is None:
        return JSONResponse({"error": {"code": "not_configured", "message": "fal.ai is not "
                                       "this server's video service."}}, status_code=404)
    body = await request.body()
    try:
        event = await ctx.fal_webhooks.verify(body, request.headers)
    except InvalidWebhook:
        return JSONResponse({"error": {"code": "invalid_signature", "message": "The webhook "
                                       "signature did not verify."}}, status_code=401)
    accepted = await webhooks.handle_event(ctx, event)
    return JSONResponse({"ok": True, "accepted": accepted})
