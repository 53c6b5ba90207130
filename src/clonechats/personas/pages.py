"""Persona pages: mine, new, view, edit, favourites, Explore and the public page `/p/{id}`.

Thin by design: forms post JSON to the personas API (`web/static/js/forms.js`, and
`persona-editor.js` for the profile form with its live preview); these routes decide who may
see what. Everything an author wrote is rendered through Jinja's autoescaping, never marked safe.
"""

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clonechats.accounts import profile, users
from clonechats.accounts.age import GuardianConsentRequired
from clonechats.accounts.dependencies import OptionalUser
from clonechats.accounts.users import User
from clonechats.accounts.verified import is_verified
from clonechats.personas import service, share_lookups
from clonechats.personas.instructions import SLIDER_LABELS, build_instructions, slider_style
from clonechats.personas.placeholders import filled_profile
from clonechats.personas.repo import Persona
from clonechats.personas.schemas import (
    EXAMPLE_DIALOGUE_MAX,
    GREETING_MAX,
    NAME_MAX,
    SLIDER_NAMES,
    SYSTEM_PROMPT_MAX,
    TAGLINE_MAX,
    TONE_MAX,
    TRAIT_MAX,
    TRAITS_MAX,
    PersonaPublic,
    full_sliders,
)
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.templates import renderer

router = APIRouter(include_in_schema=False)

LIMITS = {"name": NAME_MAX, "tagline": TAGLINE_MAX, "tone": TONE_MAX, "traits": TRAITS_MAX,
          "trait": TRAIT_MAX, "system_prompt": SYSTEM_PROMPT_MAX, "greeting": GREETING_MAX,
          "example_dialogue": EXAMPLE_DIALOGUE_MAX}
NEW_PERSONA: Persona = {"name": "", "tagline": "", "traits": [], "tone": "", "system_prompt": "",
               "system_prompt_public": False, "sliders": full_sliders(), "greeting": "",
               "example_dialogue": "", "visibility": "private", "model": None}


render = renderer("personas")


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def to_login(request: Request) -> Response:
    return RedirectResponse(f"/login?next={quote(here(request), safe='')}", status_code=303)


def check_active(user: User) -> User:
    if user["status"] == users.GUARDIAN_PENDING:
        raise GuardianConsentRequired()
    return user


def slider_rows(persona: Persona) -> list[dict[str, Any]]:
    sliders = full_sliders(persona.get("sliders"))
    return [{"name": name, "label": SLIDER_LABELS[name], "value": sliders[name],
             "effect": slider_style(name, sliders[name])} for name in SLIDER_NAMES]


def chat_start(request: Request, persona_id: str) -> dict[str, str]:
    """"Start a chat" opens the chat page for this persona, which asks visitors to sign up or
    start a trial and lets signed-in users start the conversation (with or without JS)."""
    return {"mode": "link", "href": f"/chat/new?{urlencode({'persona': persona_id})}"}


def share_url(request: Request, share_id: str | None) -> str | None:
    if not share_id:
        return None
    return f"{request.app.state.settings.public_url.rstrip('/')}/p/{share_id}"


@router.get("/personas", response_class=HTMLResponse)
async def my_personas(request: Request, user: OptionalUser, cursor: str | None = None) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    items, next_cursor = await service.list_for_owner(context_of(request),
                                                      owner_id=user["_id"], cursor=cursor)
    return render(request, "list.html", personas=items, next_cursor=next_cursor,
                  first_page=cursor is None)


@router.get("/personas/new", response_class=HTMLResponse)
async def new_persona(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    return render(request, "edit.html", persona=None, fields=NEW_PERSONA,
                  models=context_of(request).llm.enabled_models(),
                  default_model=context_of(request).llm.default_model(),
                  sliders=slider_rows(NEW_PERSONA), limits=LIMITS,
                  instructions=build_instructions(NEW_PERSONA))


@router.get("/personas/favourites", response_class=HTMLResponse)
async def my_favourites(request: Request, user: OptionalUser,
                        cursor: str | None = None) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    items, next_cursor = await service.list_favourites(context_of(request),
                                                       user_id=user["_id"], cursor=cursor)
    return render(request, "favourites.html", personas=items, next_cursor=next_cursor,
                  user_id=user["_id"])


@router.get("/personas/{persona_id}", response_class=HTMLResponse)
async def view_persona(persona_id: str, request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    persona = await service.get_usable(ctx, user_id=user["_id"], persona_id=persona_id)
    if persona["owner_id"] != user["_id"]:
        if not persona.get("share_id"):
            raise service.PersonaNotFound()
        return RedirectResponse(f"/p/{persona['share_id']}", status_code=303)
    shown = {**persona, **filled_profile(persona, viewer_name=user.get("display_name"))}
    return render(request, "view.html", persona=shown, sliders=slider_rows(persona),
                  instructions=build_instructions(persona),
                  share_url=share_url(request, persona.get("share_id")),
                  favourited=await service.is_favourite(ctx, user_id=user["_id"],
                                                        persona_id=persona_id),
                  chat=chat_start(request, persona_id),
                  email_verified=is_verified(user))


@router.get("/personas/{persona_id}/edit", response_class=HTMLResponse)
async def edit_persona(persona_id: str, request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    persona = await service.get_owned(context_of(request), user_id=user["_id"],
                                      persona_id=persona_id)
    fields = {**NEW_PERSONA, **{key: value for key, value in persona.items() if key in NEW_PERSONA}}
    return render(request, "edit.html", persona=persona, fields=fields,
                  models=context_of(request).llm.enabled_models(),
                  default_model=context_of(request).llm.default_model(),
                  sliders=slider_rows(persona), limits=LIMITS,
                  instructions=build_instructions(persona))


def explore_href(**params: str | None) -> str:
    return f"/explore?{urlencode({key: value for key, value in params.items() if value})}"


@router.get("/explore", response_class=HTMLResponse)
async def explore(request: Request, user: OptionalUser, q: str | None = None,
                  tag: str | None = None, sort: str = "newest",
                  cursor: str | None = None) -> Response:
    sort = sort if sort in service.SORTS else "newest"
    query = " ".join((q or "").split())[:100]
    tag = " ".join((tag or "").split())[:TRAIT_MAX]
    ctx = context_of(request)
    items, next_cursor = await service.browse(ctx, q=query, tag=tag, sort=sort, cursor=cursor)
    creators = await profile.public_names(ctx, user_ids=[p["owner_id"] for p in items])
    next_href = explore_href(q=query, tag=tag, sort=sort, cursor=next_cursor) if next_cursor \
        else None
    return render(request, "explore.html", personas=items, q=query, tag=tag, sort=sort,
                  next_href=next_href, first_page=cursor is None,
                  all_tags_href=explore_href(q=query, sort=sort), creators=creators)


@router.get("/p/{share_id}", response_class=HTMLResponse)
async def public_page(share_id: str, request: Request, user: OptionalUser) -> Response:
    ctx = context_of(request)
    persona = await share_lookups.get_public(ctx, share_id=share_id,
                                             client=client_info(request))
    favourited = False
    if user is not None:
        favourited = await service.is_favourite(ctx, user_id=user["_id"],
                                                persona_id=persona["_id"])
    next_path = quote(request.url.path, safe="/")
    shown = {**PersonaPublic.of(persona).model_dump(),
             **filled_profile(persona, viewer_name=user.get("display_name") if user else None)}
    return render(request, "public.html", persona=shown,
                  sliders=slider_rows(persona),
                  signed_in_user=user, favourited=favourited,
                  is_owner=user is not None and user["_id"] == persona["owner_id"],
                  chat=chat_start(request, persona["_id"]), next_path=next_path,
                  guardian_pending=user is not None and user["status"] == users.GUARDIAN_PENDING)
