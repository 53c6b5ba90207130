"""Voice pages: the hands-free voice call of a conversation (`/chat/{id}/call`) and the list of
the user's clips (`/clips`, played, kept or deleted through `/api/v1/clips`).

The page itself is a shell; `web/static/js/voice-call.js` listens on the microphone, ends the
turn on silence, transcribes (`POST /api/v1/speech/transcribe`), sends with `speak: true` and
plays the `audio` events in order, stopping when the user talks over it.
"""


from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from clonechats.accounts.dependencies import OptionalUser
from clonechats.chat import service as chat
from clonechats.chat.pages import check_active, to_login
from clonechats.media.clips import service as clips
from clonechats.personas import service as persona_service
from clonechats.voice import service
from clonechats.voice.synthesis import resolve_voice
from clonechats.web.context import context_of
from clonechats.web.query import Cursor
from clonechats.web.templates import renderer

router = APIRouter(include_in_schema=False)


render = renderer("voice")


@router.get("/chat/{conversation_id}/call", response_class=HTMLResponse)
async def call_page(conversation_id: str, request: Request, user: OptionalUser) -> Response:
    if user is None:
        return to_login(request)
    check_active(user)
    ctx = context_of(request)
    conversation = await chat.get(ctx, user_id=user["_id"], conversation_id=conversation_id)
    try:
        persona = await persona_service.get_usable(ctx, user_id=user["_id"],
                                                   persona_id=conversation["persona_id"])
    except persona_service.PersonaNotFound:
        persona = None
    voice_label = None
    if persona is not None:
        _, voice, _ = await resolve_voice(ctx, persona)
        voice_label = voice.label
    return render(request, "call.html", conversation=conversation, persona=persona,
                  persona_name=persona["name"] if persona else conversation["persona_name"],
                  voice_label=voice_label, credits=user.get("credits", 0),
                  max_seconds=int(ctx.settings.speech.max_input_seconds),
                  voices=[service.voice_fields(v) for v in ctx.speech.voices()])


@router.get("/clips", response_class=HTMLResponse)
async def clips_page(request: Request, user: OptionalUser,
                     cursor: Cursor = None) -> Response:
    """The user's voice (and video) clips: play, keep past 90 days, delete."""
    if user is None:
        return to_login(request)
    check_active(user)
    items, next_cursor = await clips.list_clips(context_of(request), user_id=user["_id"],
                                                cursor=cursor)
    return render(request, "clips.html", clips=[clips.public_fields(c) for c in items],
                  next_cursor=next_cursor, first_page=cursor is None,
                  clip_days=context_of(request).settings.speech.clip_days)
