"""Voice features for the API: the voice list, a persona's voice, Play, and transcription.

`speak_message(ctx, user_id=, message_id=)` makes (or reuses) the voice clip of one persona
message and returns a `voice.synthesis.SpokenClip` (the clip, its timings, its length): a clip
already made for that message with the same voice and rate is returned again, uncharged,
unless the text changed since (a continued or edited reply is spoken anew). Only
the owner's finished persona replies can be spoken: another user's message is 404, a user
message, a blocked reply or one still being written is 422.
`chosen_voice` checks a persona's `voice` field (unknown voice: 422 `unknown_voice`).
`transcribe(ctx, data=, language=)` checks and decodes a recording (`voice.speech_input`) and
hands it to the configured STT; nothing is stored.
This module never imports the web framework.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from clonechats.chat import repo as chat_repo
from clonechats.chat.repo import Message
from clonechats.errors import AppError, NotFound
from clonechats.media.clips import repo as clips_repo
from clonechats.personas import repo as persona_repo
from clonechats.personas.repo import Persona
from clonechats.providers.errors import ProviderError, ProviderRejected
from clonechats.providers.speech.base import Transcript, VoiceInfo
from clonechats.providers.speech.registry import UnknownVoice
from clonechats.voice import clones, speech_input
from clonechats.voice.synthesis import SpeechUnavailable as SpeechUnavailable
from clonechats.voice.synthesis import SpokenClip, resolve_voice, speak_text

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

SPEAKABLE_STATUSES = (chat_repo.COMPLETE, chat_repo.STOPPED, chat_repo.FAILED)


class MessageNotFound(NotFound):
    code = "message_not_found"
    message = "That message does not exist."


class NotSpeakable(AppError):
    code = "not_speakable"
    status = 422
    message = "Only a persona's finished replies can be played."


class TranscriptionUnavailable(AppError):
    code = "transcription_unavailable"
    status = 503
    message = "Speech cannot be transcribed right now. Please type your message instead."


async def voices_for(ctx: Ctx, *, user_id: str | None) -> list[VoiceInfo]:
    """Every enabled stock voice, and the user's cloned persona voices where cloning is set up."""
    voices = ctx.speech.voices()
    if user_id is not None and ctx.speech.cloner() is not None:
        personas = await persona_repo.with_reference_voice(ctx.db, user_id)
        voices += await clones.offered(ctx, personas)
    return voices


def voice_fields(voice: VoiceInfo) -> dict[str, Any]:
    return {"id": voice.id, "provider": voice.provider, "label": voice.label,
            "language": voice.language, "kind": voice.kind}


def chosen_voice(ctx: Ctx, voice: dict[str, Any] | None,
                 persona: Persona | None = None) -> dict[str, Any] | None:
    """A persona's `voice` field as stored: {voice_id, rate}, or None for the default."""
    if voice is None or not voice.get("voice_id"):
        return None
    voice_id = voice["voice_id"]
    own_clone = persona is not None and clones.is_clone_id(ctx, voice_id) and (
        voice_id.endswith(persona["_id"]) and persona.get("reference_voice_id"))
    if not own_clone and not ctx.speech.is_enabled(voice_id):
        raise UnknownVoice()
    return {"voice_id": voice_id, "rate": round(float(voice.get("rate", 1.0)), 2)}


async def _message_for(ctx: Ctx, *, user_id: str, message_id: str) -> Message:
    message = await chat_repo.get_message(ctx.db, message_id)
    if message is None or message.get("owner_id") != user_id:
        raise MessageNotFound()
    if message["role"] != "assistant":
        raise NotSpeakable("Only the persona's replies can be played, not your own messages.")
    if message["status"] == chat_repo.BLOCKED:
        raise NotSpeakable("This reply was hidden by the content rules, so it cannot be played.")
    if message["status"] not in SPEAKABLE_STATUSES:
        raise NotSpeakable("This reply is still being written; play it once it is finished.")
    return message


def _text_changed_since(message: Message, clip: dict[str, Any]) -> bool:
    """Whether the reply's text changed (continued or edited) after `clip` was made of it."""
    changes = [when for when in (message.get("continued_at"), message.get("edited_at")) if when]
    return bool(changes) and clip["created_at"] < max(changes)


async def speak_message(ctx: Ctx, *, user_id: str, message_id: str) -> SpokenClip:
    message = await _message_for(ctx, user_id=user_id, message_id=message_id)
    conversation = await chat_repo.get_conversation(ctx.db, message["conversation_id"])
    persona = None
    if conversation is not None:
        persona = await persona_repo.get(ctx.db, conversation["persona_id"])
    _, voice, rate = await resolve_voice(ctx, persona)
    existing = await clips_repo.find_for_message(ctx.db, owner_id=user_id, message_id=message_id,
                                                 kind=clips_repo.VOICE, voice_id=voice.id,
                                                 rate=rate)
    if existing is not None and not _text_changed_since(message, existing):
        return SpokenClip(clip=existing, timings=existing.get("timings", []),
                          duration_s=existing["duration_s"], reused=True)
    return await speak_text(ctx, owner_id=user_id, persona=persona, text=message["text"],
                            conversation_id=message["conversation_id"], message_id=message_id)


async def transcribe(ctx: Ctx, *, data: bytes, language: str | None = None) -> Transcript:
    settings = ctx.settings.speech
    prepared = await speech_input.prepare(data, max_seconds=settings.max_input_seconds,
                                          max_bytes=settings.max_input_bytes)
    try:
        transcript = await ctx.speech.stt.transcribe(prepared, language=language)
    except ProviderRejected as exc:
        if exc.code == "language_unsupported":
            raise AppError("Only English speech can be transcribed on this server.",
                           code="language_unsupported", status=422) from None
        log.warning("transcription refused", extra={"error": str(exc)})
        raise TranscriptionUnavailable() from None
    except ProviderError as exc:
        log.warning("transcription failed", extra={"error": str(exc)})
        raise TranscriptionUnavailable() from None
    if not transcript.text:
        raise speech_input.SilentRecording()
    return transcript
