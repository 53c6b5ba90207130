"""Character card routes: export (`GET /api/v1/personas/{id}/card`, `.../card.png`) and import
(`POST /api/v1/personas/import` with a JSON body, a raw PNG body, or a multipart `file`).
What a card holds and how it maps is in `personas.cards`; the content decides JSON or PNG.
"""

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from clonechats.accounts.dependencies import ActiveUser
from clonechats.errors import AppError
from clonechats.personas import cards
from clonechats.personas.card_png import MAX_JSON_BYTES, MAX_PNG_BYTES, CardTooLarge
from clonechats.personas.schemas import PersonaOut
from clonechats.web.context import context_of

router = APIRouter(tags=["personas"])


class MissingCard(AppError):
    code = "missing_card"
    status = 422
    message = "Send a character card: a JSON body, or a PNG or JSON file in the `file` field."


def download_name(name: str, extension: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:40] or "persona"
    return f"{slug}.card.{extension}"


@router.get("/api/v1/personas/{persona_id}/card")
async def export_card_json(persona_id: str, request: Request, user: ActiveUser,
                           download: bool = False) -> JSONResponse:
    persona, card = await cards.card_for_viewer(context_of(request), persona_id=persona_id,
                                                viewer_id=user["_id"])
    headers = {"Cache-Control": "private, no-store"}
    if download:
        headers["Content-Disposition"] = (
            f'attachment; filename="{download_name(persona["name"], "json")}"')
    return JSONResponse(card, headers=headers)


@router.get("/api/v1/personas/{persona_id}/card.png")
async def export_card_png(persona_id: str, request: Request, user: ActiveUser) -> Response:
    persona, png = await cards.card_png_for_viewer(context_of(request),
                                                   persona_id=persona_id, viewer_id=user["_id"])
    return Response(png, media_type="image/png", headers={
        "Cache-Control": "private, no-store",
        "Content-Disposition": f'attachment; filename="{download_name(persona["name"], "png")}"',
    })


@router.post("/api/v1/personas/import", status_code=201)
async def import_card(request: Request, user: ActiveUser) -> dict[str, Any]:
    data = await read_card_upload(request)
    persona, ignored = await cards.import_card(context_of(request), user=user, data=data)
    return {"persona": PersonaOut.of(persona).model_dump(mode="json"), "ignored": ignored}


async def read_card_upload(request: Request) -> bytes:
    """The card's bytes from a multipart `file`, or from the body itself, within the limits."""
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=2) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise MissingCard()
            data = await upload.read(MAX_PNG_BYTES + 1)
    else:
        limit = MAX_JSON_BYTES if content_type.startswith("application/json") else MAX_PNG_BYTES
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > limit:
                raise _too_large(limit)
        data = bytes(received)
    if not data.strip():
        raise MissingCard()
    if len(data) > MAX_PNG_BYTES:
        raise _too_large(MAX_PNG_BYTES)
    return data


def _too_large(limit: int) -> CardTooLarge:
    if limit == MAX_JSON_BYTES:
        return CardTooLarge(f"A character card may be at most {MAX_JSON_BYTES // 1024} KB.")
    return CardTooLarge(f"A card PNG may be at most {MAX_PNG_BYTES // (1024 * 1024)} MB.")
