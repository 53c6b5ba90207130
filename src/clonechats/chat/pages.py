"""Chat pages: the conversation list, a conversation, and starting a chat with a persona.

Thin by design: the chat page talks to the chat API from `web/static/js/chat.js` (streaming with
fetch, since EventSource cannot POST) and asks `/chat/{id}/tail` for the server-rendered last
messages once a reply ends, so a message always looks the same however it got on the page.
Model replies are shown from their stored, sanitised HTML (`chat.markdown`); everything else is
escaped by Jinja. Anonymous visitors are sent to log in, or offered a free trial.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clonechats.accounts import users
from clonechats.accounts.age import GuardianConsentRequired
from clonechats.accounts.dependencies import OptionalUser
from clonechats.accounts.users import User
from clonechats.chat import (
    alternatives,
    branches,
    conversation_list,
    conversation_settings,
    repo,
    service,
)
from clonechats.chat.repo import Conversation, Message
from clonechats.chat.translation import form as translation_form
from clonechats.context import Ctx
from clonechats.errors import AppError
from clonechats.personas import service as persona_service
from clonechats.personas.repo import Persona
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.templates import renderer

router = APIRouter(include_in_schema=False)

TAIL_MAX = 4
SIDEBAR_RECENT = 12
REPLY_LENGTH_LABELS = [(key, key.replace("_", " ").capitalize())
                       for key in conversation_settings.REPLY_LENGTHS]


render = renderer("chat")


def to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)


def check_active(user: User) -> None:
    if user["status"] == users.GUARDIAN_PENDING:
        raise GuardianConsentRequired()


def model_label(request: Request, model_id: str) -> str:
    for info in context_of(request).llm.enabled_models():
        if info.id == model_id:
            return info.label
    return model_id


def actions_for(messages: list[Message]) -> dict[str, set[str]]:
    """Which buttons each shown message gets: copy always; regenerate on the last reply once it
    has ended, and continue when it was cut at the length limit; edit on every message the user
    sent (an earlier one forks the chat there); edit-reply on every persona reply that has
    ended."""
    actions: dict[str, set[str]] = {m["_id"]: {"copy", "delete"} for m in messages}
    for message in messages:
        if message["role"] == "assistant" and message["status"] in repo.EDITABLE:
            actions[message["_id"]].add("edit_reply")
        if message["role"] == "user" and message["status"] in repo.TERMINAL:
            actions[message["_id"]].add("edit")
    if messages and messages[-1]["role"] == "assistant" and (
            messages[-1]["status"] in repo.TERMINAL):
        actions[messages[-1]["_id"]].add("regenerate")
        if repo.is_cut(messages[-1]):
            actions[messages[-1]["_id"]].add("continue")
    return actions


async def choices_for(ctx: Ctx, messages: list[Message]) -> dict[str, dict[str, Any]]:
    """The ‹ n / m › controls: on the last reply when there are other replies to its message,
    and on each message the user sent that has other versions (each with its branch)."""
    if not messages:
        return {}
    choices: dict[str, dict[str, Any]] = {}
    groups = await branches.version_groups(ctx.db, messages[0]["conversation_id"])
    for message in messages:
        versions = groups.get(message["_id"])
        found = versions and branches.reachable(versions) and alternatives.position(
            versions, message["_id"])
        if message["role"] == "user" and found:
            choices[message["_id"]] = found
    last = messages[-1]
    answer_to = last.get("answer_to")
    if last["role"] == "assistant" and answer_to:
        replies = await repo.replies_to(ctx.db, last["conversation_id"], answer_to)
        if found := alternatives.position(replies, last["_id"]):
            choices[last["_id"]] = found
    return choices


async def usable_persona(ctx: Ctx, user: User,
                         conversation: Conversation) -> Persona | None:
    """The conversation's persona while the user may still use it, else None."""
    try:
        return await persona_service.get_usable(ctx, user_id=user["_id"],
                                                persona_id=conversation["persona_id"])
    except persona_service.PersonaNotFound:
        return None


async def avatars_of(ctx: Ctx, user: User,
                     *lists: list[Conversation]) -> dict[str, Any]:
    """The avatar of each listed chat's persona, while the user may still use it."""
    usable = await persona_service.get_many_usable(
        ctx, user_id=user["_id"], persona_ids=list({c["persona_id"] for items in lists
                                                    for c in items}))
    return {pid: p.get("avatar_media_id") for pid, p in usable.items()}


@router.get("/chat", response_class=HTMLResponse)
async def conversations(request: Request, user: OptionalUser,
                        cursor: Cursor = None,
                        q: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    query = " ".join((q or "").split()) or None
    pinned: list[Conversation] = []
    if cursor is None:
        pinned, _ = await conversation_list.page(ctx, user_id=user["_id"], query=query,
                                                 pinned=True, limit=conversation_list.PIN_MAX)
    items, next_cursor = await conversation_list.page(ctx, user_id=user["_id"], cursor=cursor,
                                                      query=query, pinned=False)
    return render(request, "list.html", pinned=pinned, conversations=items,
                  next_cursor=next_cursor, first_page=cursor is None, query=query or "",
                  avatar_ids=await avatars_of(ctx, user, pinned, items))


@router.get("/chat/new", response_class=HTMLResponse)
async def new_chat(request: Request, user: OptionalUser,
                   persona: Annotated[str, Query(max_length=100)] = "") -> Response:
    ctx = context_of(request)
    if user is None:  # anyone may see whom they would chat with, if the persona is public
        try:
            found = await persona_service.get_usable(ctx, user_id="", persona_id=persona)
        except persona_service.PersonaNotFound:
            found = None
        here = f"{request.url.path}?persona={quote(persona, safe='')}"
        return render(request, "start.html", persona=found, signed_in_user=None,
                      next_path=quote(here, safe=""))
    check_active(user)
    found = await persona_service.get_usable(ctx, user_id=user["_id"], persona_id=persona)
    return render(request, "start.html", persona=found, signed_in_user=user, next_path="",
                  **translation_form.start_options(request))


@router.post("/chat/new")
async def start_chat(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    form = await request.form()
    persona_id = form.get("persona_id")
    if not isinstance(persona_id, str) or not persona_id or len(persona_id) > 100:
        raise AppError("Choose a persona to chat with.", code="invalid_persona", status=422)
    conversation = await service.create(context_of(request), user_id=user["_id"],
                                        persona_id=persona_id,
                                        translation=translation_form.mode_from_form(
                                            request, form))
    return RedirectResponse(f"/chat/{conversation['_id']}", status_code=303)


@router.get("/chat/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(conversation_id: str, request: Request,
                            user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    conversation = await service.get(ctx, user_id=user["_id"], conversation_id=conversation_id)
    messages, older = await service.list_messages(ctx, user_id=user["_id"],
                                                  conversation_id=conversation_id)
    await repo.clear_unread(ctx.db, conversation_id, user["_id"])
    persona = await usable_persona(ctx, user, conversation)
    pinned, _ = await conversation_list.page(ctx, user_id=user["_id"], pinned=True,
                                             limit=conversation_list.PIN_MAX)
    recent, more = await conversation_list.page(ctx, user_id=user["_id"], pinned=False,
                                                limit=SIDEBAR_RECENT)
    return render(request, "view.html", conversation=conversation, messages=messages,
                  sidebar={"pinned": pinned, "recent": recent, "more": more is not None,
                           "avatar_ids": await avatars_of(ctx, user, pinned, recent)},
                  actions=actions_for(messages), choices=await choices_for(ctx, messages),
                  older=older, persona=persona,
                  persona_avatar_id=persona.get("avatar_media_id") if persona else None,
                  persona_name=persona["name"] if persona else conversation["persona_name"],
                  model_label=model_label(request, conversation["model"]),
                  chat_models=ctx.llm.enabled_models(), reply_lengths=REPLY_LENGTH_LABELS,
                  default_temperature=ctx.settings.chat.temperature,
                  credits=user.get("credits", 0),
                  max_chars=ctx.settings.chat.max_message_chars,
                  user_time_zone=user.get("time_zone"),
                  email_notice=bool(user.get("scheduled_email_notice")))


@router.get("/chat/{conversation_id}/tail", response_class=HTMLResponse)
async def conversation_tail(conversation_id: str, request: Request, user: OptionalUser,
                            count: Annotated[int, Query(ge=1, le=TAIL_MAX)] = 2) -> Response:
    """The last `count` shown messages, rendered as on the page (for the chat script)."""
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    conversation = await service.get(ctx, user_id=user["_id"], conversation_id=conversation_id)
    messages, _ = await service.list_messages(ctx, user_id=user["_id"],
                                              conversation_id=conversation_id, limit=TAIL_MAX)
    persona = await usable_persona(ctx, user, conversation)
    return render(request, "_tail.html", conversation=conversation, messages=messages[-count:],
                  actions=actions_for(messages), choices=await choices_for(ctx, messages),
                  persona_name=conversation["persona_name"],
                  persona_avatar_id=persona.get("avatar_media_id") if persona else None)
