"""Voice API: the voice list and previews, Play on a message, and transcription.

`GET /api/v1/voices` · `POST /api/v1/voices/preview` (a few words in a voice, as Ogg/Opus,
neither stored nor charged) · `POST /api/v1/messages/{message_id}/speech` (201 with the clip) ·
`POST /api/v1/speech/transcribe` (multipart `file`, optional `language`). Thin: the work is in
`voice.service`. Spoken replies while a reply streams (`speak: true` on a send) are in
`voice.spoken_reply`.
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.dependencies import ActiveUser
from clonechats.media.clips.service import public_fields
from clonechats.media.errors import MediaTooLarge
from clonechats.personas import service as persona_service
from clonechats.personas.repo import Persona
from clonechats.providers.speech.encoding import OPUS_CONTENT_TYPE
from clonechats.voice import service
from clonechats.voice.synthesis import MAX_RATE, MIN_RATE, _encode, synthesize
from clonechats.web.context import context_of

router = APIRouter(tags=["voice"])

PREVIEW_TEXT = "Hello! This is how I sound. Nice to meet you."
Language = Annotated[str | None, Form(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")]


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    voice_id: str = Field(min_length=1, max_length=120)
    rate: float = Field(1.0, ge=MIN_RATE, le=MAX_RATE)
    text: str = Field(PREVIEW_TEXT, min_length=1, max_length=200)
    persona_id: str | None = Field(None, max_length=100)


@router.get("/api/v1/voices")
async def list_voices(request: Request, user: ActiveUser) -> dict[str, Any]:
    voices = await service.voices_for(context_of(request), user_id=user["_id"])
    return {"items": [service.voice_fields(v) for v in voices]}


@router.post("/api/v1/voices/preview", response_model=None)
async def preview_voice(data: PreviewIn, request: Request, user: ActiveUser) -> Response:
    ctx = context_of(request)
    persona = None
    if data.persona_id:
        persona = await persona_service.get_owned(ctx, user_id=user["_id"],
                                                  persona_id=data.persona_id)
    voice = service.chosen_voice(ctx, {"voice_id": data.voice_id, "rate": data.rate}, persona)
    speaker: Persona = {**(persona or {"name": "Preview"}), "voice": voice}
    synthesis, _, _ = await synthesize(ctx, persona=speaker, text=data.text)
    audio = await asyncio.to_thread(_encode, synthesis)
    return Response(audio, media_type=OPUS_CONTENT_TYPE,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/api/v1/messages/{message_id}/speech", status_code=201)
async def speak_message(message_id: str, request: Request, user: ActiveUser) -> dict[str, Any]:
    spoken = await service.speak_message(context_of(request), user_id=user["_id"],
                                         message_id=message_id)
    return {"clip": public_fields(spoken.clip), "reused": spoken.reused}


@router.post("/api/v1/speech/transcribe")
async def transcribe(request: Request, user: ActiveUser,
                     file: Annotated[UploadFile, File(description="The recording.")],
                     language: Language = None) -> dict[str, Any]:
    ctx = context_of(request)
    limit = ctx.settings.speech.max_input_bytes
    data = await file.read(limit + 1)
    await file.close()
    if len(data) > limit:
        raise MediaTooLarge(limit)
    transcript = await service.transcribe(ctx, data=data, language=language)
    return {"text": transcript.text, "language": transcript.language,
            "duration_s": round(transcript.duration_s, 3)}
