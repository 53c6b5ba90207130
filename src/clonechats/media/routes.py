"""Persona uploads (`/api/v1/personas/{id}/avatar|images|voice`), media deletion and the file
route `/media/{media_id}` that serves stored bytes to those allowed to read them.

Uploads are multipart with one `file` part; its filename and Content-Type are ignored (the
content decides). Files are served inline with their recorded type, `nosniff`, a sandboxing CSP
and private caching; another user's private file is a 404 like a missing one.
"""

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from clonechats.accounts.dependencies import ActiveUser, OptionalUser
from clonechats.media import service
from clonechats.media.errors import MediaTooLarge
from clonechats.media.repo import AVATAR, REFERENCE_IMAGE, REFERENCE_VOICE
from clonechats.web.context import context_of

router = APIRouter(tags=["media"])

Upload = Annotated[UploadFile, File(description="The file; its name and type are ignored.")]
CACHE_CONTROL = "private, max-age=300"
FILE_CSP = "default-src 'none'; sandbox"


async def read_upload(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    await upload.close()
    if len(data) > limit:
        raise MediaTooLarge(limit)
    return data


def media_body(media: dict[str, Any]) -> dict[str, Any]:
    return {"media": service.public_fields(media)}


@router.post("/api/v1/personas/{persona_id}/avatar", status_code=201)
async def upload_avatar(persona_id: str, file: Upload, request: Request,
                        user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    data = await read_upload(file, service.upload_limit(ctx, AVATAR))
    media = await service.upload_persona_image(ctx, user=user, persona_id=persona_id,
                                               kind=AVATAR, data=data)
    return media_body(media)


@router.post("/api/v1/personas/{persona_id}/images", status_code=201)
async def upload_reference_image(persona_id: str, file: Upload, request: Request,
                                 user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    data = await read_upload(file, service.upload_limit(ctx, REFERENCE_IMAGE))
    media = await service.upload_persona_image(ctx, user=user, persona_id=persona_id,
                                               kind=REFERENCE_IMAGE, data=data)
    return media_body(media)


@router.post("/api/v1/personas/{persona_id}/voice", status_code=201)
async def upload_reference_voice(persona_id: str, file: Upload, request: Request,
                                 user: ActiveUser) -> dict[str, Any]:
    ctx = context_of(request)
    data = await read_upload(file, service.upload_limit(ctx, REFERENCE_VOICE))
    media = await service.upload_reference_voice(ctx, user=user, persona_id=persona_id,
                                                 data=data)
    return media_body(media)


@router.get("/api/v1/personas/{persona_id}/media")
async def list_persona_media(persona_id: str, request: Request,
                             user: ActiveUser) -> dict[str, Any]:
    items = await service.list_for_persona(context_of(request), user_id=user["_id"],
                                           persona_id=persona_id)
    return {"items": [service.public_fields(m) for m in items], "next_cursor": None}


@router.delete("/api/v1/media/{media_id}", status_code=204)
async def delete_media(media_id: str, request: Request, user: ActiveUser) -> Response:
    await service.delete_media(context_of(request), user_id=user["_id"], media_id=media_id)
    return Response(status_code=204)


@router.get("/media/{media_id}", include_in_schema=False)
async def serve_media(media_id: str, request: Request, user: OptionalUser) -> Response:
    ctx = context_of(request)
    media = await service.open_for_viewer(ctx, media_id=media_id,
                                          viewer_id=user["_id"] if user else None)
    size = await ctx.media.size(media["key"])  # a missing file is a 404 before any header
    etag = f'"{media["sha256"]}"'
    headers = {
        "Cache-Control": CACHE_CONTROL,
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": FILE_CSP,
        "Content-Disposition": "inline",
    }
    if etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    headers["Content-Length"] = str(size)
    return StreamingResponse(ctx.media.stream(media["key"]), media_type=media["content_type"],
                             headers=headers)
