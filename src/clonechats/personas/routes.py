"""Personas API (`/api/v1/personas`, and the anonymous `/api/v1/public/personas`).

Thin: each route resolves the caller, hands typed input to `personas.service` and shapes the
answer. The owner sees `PersonaOut`; everyone else only ever sees `PersonaPublic`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from clonechats.accounts.dependencies import ActiveUser, VerifiedUser
from clonechats.accounts.verified import require_verified_email
from clonechats.personas import service, share_lookups
from clonechats.personas.instructions import build_instructions
from clonechats.personas.repo import Persona
from clonechats.personas.schemas import (
    TRAIT_MAX,
    InstructionsPreviewIn,
    PersonaCreate,
    PersonaOut,
    PersonaPublic,
    PersonaUpdate,
)
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.query import OptionalLimit100 as Limit

router = APIRouter(tags=["personas"])



def owner_body(persona: Persona) -> dict[str, Any]:
    return {"persona": PersonaOut.of(persona).model_dump(mode="json")}


def public_body(persona: Persona) -> dict[str, Any]:
    return {"persona": PersonaPublic.of(persona).model_dump(mode="json")}


def page(items: list[Persona], next_cursor: str | None, *,
         owner: bool = False) -> dict[str, Any]:
    view = PersonaOut if owner else PersonaPublic
    return {"items": [view.of(item).model_dump(mode="json") for item in items],
            "next_cursor": next_cursor}


def share_url(request: Request, share_id: str) -> str:
    return f"{request.app.state.settings.public_url.rstrip('/')}/p/{share_id}"


@router.post("/api/v1/personas", status_code=201)
async def create_persona(data: PersonaCreate, request: Request,
                         user: ActiveUser) -> dict[str, Any]:
    if data.visibility == "public":
        require_verified_email(user)
    persona = await service.create(context_of(request), owner_id=user["_id"], data=data)
    return owner_body(persona)


@router.get("/api/v1/personas")
async def list_personas(request: Request, user: ActiveUser, limit: Limit = None,
                        cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_for_owner(
        context_of(request), owner_id=user["_id"], limit=limit, cursor=cursor)
    return page(items, next_cursor, owner=True)


@router.get("/api/v1/personas/favourites")
async def list_favourites(request: Request, user: ActiveUser, limit: Limit = None,
                          cursor: Cursor = None) -> dict[str, Any]:
    items, next_cursor = await service.list_favourites(
        context_of(request), user_id=user["_id"], limit=limit, cursor=cursor)
    return page(items, next_cursor)


@router.post("/api/v1/personas/preview-instructions")
async def preview_instructions(data: InstructionsPreviewIn, user: ActiveUser) -> dict[str, str]:
    """The instructions these (unsaved) fields would produce; nothing is stored."""
    return {"instructions": build_instructions(data.model_dump())}


@router.get("/api/v1/personas/{persona_id}")
async def get_persona(persona_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    persona = await service.get_usable(context_of(request), user_id=user["_id"],
                                       persona_id=persona_id)
    return owner_body(persona) if persona["owner_id"] == user["_id"] else public_body(persona)


@router.patch("/api/v1/personas/{persona_id}")
async def update_persona(persona_id: str, data: PersonaUpdate, request: Request,
                         user: ActiveUser) -> dict[str, Any]:
    if data.changes().get("visibility") == "public":
        require_verified_email(user)
    persona = await service.update(context_of(request), user_id=user["_id"],
                                   persona_id=persona_id, data=data)
    return owner_body(persona)


@router.delete("/api/v1/personas/{persona_id}", status_code=204)
async def delete_persona(persona_id: str, request: Request, user: ActiveUser) -> Response:
    await service.delete(context_of(request), user_id=user["_id"], persona_id=persona_id)
    return Response(status_code=204)


@router.post("/api/v1/personas/{persona_id}/duplicate", status_code=201)
async def duplicate_persona(persona_id: str, request: Request,
                            user: ActiveUser) -> dict[str, Any]:
    persona = await service.duplicate(context_of(request), user_id=user["_id"],
                                      persona_id=persona_id)
    return owner_body(persona)


@router.post("/api/v1/personas/{persona_id}/share")
async def share_persona(persona_id: str, request: Request,
                        user: VerifiedUser) -> dict[str, str]:
    persona = await service.share(context_of(request), user_id=user["_id"],
                                  persona_id=persona_id)
    share_id = persona.get("share_id")
    if share_id is None:  # `share` always issues one
        raise RuntimeError("the persona was shared without a share id")
    return {"share_id": share_id, "url": share_url(request, share_id)}


@router.delete("/api/v1/personas/{persona_id}/share", status_code=204)
async def unshare_persona(persona_id: str, request: Request, user: ActiveUser) -> Response:
    await service.unshare(context_of(request), user_id=user["_id"], persona_id=persona_id)
    return Response(status_code=204)


@router.put("/api/v1/personas/{persona_id}/favourite")
async def favourite_persona(persona_id: str, request: Request,
                            user: ActiveUser) -> dict[str, Any]:
    persona = await service.add_favourite(context_of(request), user_id=user["_id"],
                                          persona_id=persona_id)
    return {"favourited": True, "favourite_count": persona.get("favourite_count", 0)}


@router.delete("/api/v1/personas/{persona_id}/favourite", status_code=204)
async def unfavourite_persona(persona_id: str, request: Request, user: ActiveUser) -> Response:
    await service.remove_favourite(context_of(request), user_id=user["_id"],
                                   persona_id=persona_id)
    return Response(status_code=204)


@router.get("/api/v1/public/personas")
async def browse_personas(request: Request, q: Annotated[str | None, Query(max_length=100)] = None,
                          tag: Annotated[str | None, Query(max_length=TRAIT_MAX)] = None,
                          sort: str = "newest", limit: Limit = None,
                          cursor: Cursor = None) -> dict[str, Any]:
    """Public personas with a live share link; `q` matches the name, tagline, a trait or a
    public description literally; `tag` keeps those with that trait."""
    items, next_cursor = await service.browse(context_of(request), q=q, tag=tag, sort=sort,
                                              limit=limit, cursor=cursor)
    return page(items, next_cursor)


@router.get("/api/v1/public/personas/{share_id}")
async def public_persona(share_id: str, request: Request) -> dict[str, Any]:
    return public_body(await share_lookups.get_public(context_of(request), share_id=share_id,
                                                      client=client_info(request)))
