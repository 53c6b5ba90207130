"""Debate pages: the list of my debates, a new debate, a debate's room, and the public page of
a shared debate (`/r/{share_id}`).

Thin by design: the forms post JSON to the rooms API (`web/static/js/forms.js`), and the room
page follows the room's events live from `web/static/js/rooms.js` (EventSource, which resumes
by `Last-Event-ID` on its own). Every text is rendered through Jinja's autoescaping and set with
`textContent` by the script, never as HTML: topics, names and turns are user or model text.
"""

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clonechats.accounts import users
from clonechats.accounts.age import GuardianConsentRequired
from clonechats.accounts.dependencies import OptionalUser
from clonechats.accounts.users import User
from clonechats.personas import service as persona_service
from clonechats.rooms import service
from clonechats.rooms.plan import participant
from clonechats.rooms.schemas import (
    ROUNDS_MAX,
    TEXT_MAX,
    TOPIC_MAX,
    WARNING_MAX,
    WORDS_MAX,
    WORDS_MIN,
    PublicRoomOut,
)
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.templates import renderer

router = APIRouter(include_in_schema=False)

STATUS_LABELS = {"ready": "Ready to start", "running": "Live", "finished": "Finished",
                 "stopped": "Stopped", "failed": "Failed"}
REASONS = {"insufficient_credits": "The credits ran out, so the debate stopped.",
           "stopped_by_owner": "Stopped by its host.",
           "provider_unavailable": "The model was not available, so the debate stopped."}


render = renderer("rooms", context={"status_labels": STATUS_LABELS, "reasons": REASONS})


def to_login(request: Request) -> Response:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(here, safe='')}", status_code=303)


def check_active(user: User) -> None:
    if user["status"] == users.GUARDIAN_PENDING:
        raise GuardianConsentRequired()


def initials(name: str) -> str:
    letters = [word[0] for word in name.split() if word[:1].isalnum()]
    return ("".join(letters[:2]) or name[:1] or "?").upper()


def speaker_label(room: dict[str, Any], turn: dict[str, Any]) -> dict[str, Any]:
    kind = turn["speaker"]["type"]
    if kind == "persona":
        found = participant(room, turn["speaker"].get("persona_id"))
        index = room["participants"].index(found) if found else 0
        name = found["name"] if found else "A speaker"
        return {"type": kind, "name": name, "initials": initials(name), "index": index}
    name = "Moderator" if kind == "moderator" else (
        "You (moderator)" if room["moderator"] == "user" else "You")
    return {"type": kind, "name": name, "initials": "M" if kind == "moderator" else "Y",
            "index": -1}


@router.get("/rooms", response_class=HTMLResponse)
async def my_rooms(request: Request, user: OptionalUser,
                   cursor: Cursor = None) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    items, next_cursor = await service.list_for_owner(context_of(request),
                                                      user_id=user["_id"], cursor=cursor)
    return render(request, "list.html", rooms=items, next_cursor=next_cursor,
                  first_page=cursor is None)


@router.get("/rooms/new", response_class=HTMLResponse)
async def new_room(request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    mine, _ = await persona_service.list_for_owner(ctx, owner_id=user["_id"], limit=100)
    public, _ = await persona_service.browse(ctx, sort="popular", limit=50)
    others = [p for p in public if p["owner_id"] != user["_id"]]
    return render(request, "new.html", mine=mine, public=others, topic_max=TOPIC_MAX,
                  rounds_max=ROUNDS_MAX, words_min=WORDS_MIN, words_max=WORDS_MAX)


@router.get("/rooms/{room_id}", response_class=HTMLResponse)
async def room_page(room_id: str, request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    room = await service.get(ctx, user_id=user["_id"], room_id=room_id)
    after, turns = await service.snapshot(ctx, room)
    share = None
    if room.get("share_id"):
        share = f"{ctx.settings.public_url.rstrip('/')}/r/{room['share_id']}"
    return render(request, "view.html", room=room, turns=turns, after=after,
                  speakers={t["_id"]: speaker_label(room, t) for t in turns},
                  initials={p["persona_id"]: initials(p["name"]) for p in room["participants"]},
                  share_url=share, credits=user.get("credits", 0), text_max=TEXT_MAX,
                  warning_max=WARNING_MAX)


@router.get("/r/{share_id}", response_class=HTMLResponse)
async def public_room_page(share_id: str, request: Request) -> Response:
    ctx = context_of(request)
    room = await service.get_public(ctx, share_id=share_id)
    after, turns = await service.snapshot(ctx, room)
    view = PublicRoomOut.of(room, turns)
    public_speakers = []
    for turn in view.turns:
        label = {**turn.speaker, "initials": initials(turn.speaker["name"])}
        if turn.speaker["type"] == "user":
            label["initials"] = "H"
        elif turn.speaker["type"] == "moderator":
            label["initials"] = "M"
        public_speakers.append(label)
    return render(request, "public.html", room=view, share_id=share_id, after=after,
                  closed=bool(room.get("closed")), public_speakers=public_speakers,
                  initials=[initials(p["name"]) for p in view.participants])
