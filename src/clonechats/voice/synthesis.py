"""Speaking text in a persona's voice and keeping the result as a clip.

`speak_text` is the one path from text to a stored voice clip: the text is made speakable
(`voice.sentences.speakable`), spoken by the persona's voice (`resolve_voice`: its chosen voice
and rate, the server's default when it chose none or its voice is no longer offered),
loudness-normalised and encoded to Ogg/Opus off the event loop, charged by its length
(`voice.metering`) and stored (`media.clips.service.store_clip`). A provider failure is 503
`speech_unavailable` and nothing is charged or stored. The result, a `SpokenClip`, carries the
clip, its timings (phonemes with their words, where the engine reports them) and, when the audio
was just made, the raw samples (`synthesis`) for callers that build on them (video).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clonechats.errors import AppError
from clonechats.media.clips import repo as clips_repo
from clonechats.media.clips import service as clips
from clonechats.personas.repo import Persona
from clonechats.providers.errors import ProviderError
from clonechats.providers.speech.base import Synthesis, TTSProvider, VoiceInfo
from clonechats.providers.speech.encoding import OPUS_CONTENT_TYPE, encode_opus, normalise
from clonechats.providers.speech.registry import UnknownVoice
from clonechats.voice import clones, metering
from clonechats.voice.sentences import speakable

if TYPE_CHECKING:
    from clonechats.context import Ctx


log = logging.getLogger(__name__)

DEFAULT_RATE = 1.0
MIN_RATE, MAX_RATE = 0.5, 2.0


class NothingToSay(AppError):
    code = "nothing_to_say"
    status = 422
    message = "There is no text here that could be spoken."


class SpeechUnavailable(AppError):
    code = "speech_unavailable"
    status = 503
    message = "Audio is unavailable right now; the text is still here. Please try again later."


@dataclass
class SpokenClip:
    clip: dict[str, Any]
    timings: list[dict[str, Any]]
    duration_s: float
    reused: bool = False
    synthesis: Synthesis | None = None


def voice_setting(persona: Persona | None) -> tuple[str | None, float]:
    chosen = (persona or {}).get("voice") or {}  # {voice_id, rate}
    rate = float(chosen.get("rate") or DEFAULT_RATE)
    return chosen.get("voice_id") or None, min(MAX_RATE, max(MIN_RATE, rate))


async def resolve_voice(ctx: Ctx, persona: Persona | None
                        ) -> tuple[TTSProvider, VoiceInfo, float]:
    voice_id, rate = voice_setting(persona)
    cloned = await clones.resolve(ctx, persona, voice_id)
    if cloned is not None:
        return (*cloned, rate)
    try:
        provider, voice = ctx.speech.resolve(voice_id)
    except UnknownVoice:  # the operator no longer offers it: the default speaks instead
        provider, voice = ctx.speech.resolve(None)
    return provider, voice, rate


def _encode(synthesis: Synthesis) -> bytes:
    return encode_opus(normalise(synthesis.samples, synthesis.sample_rate),
                       synthesis.sample_rate)


async def synthesize(ctx: Ctx, *, persona: Persona | None, text: str
                     ) -> tuple[Synthesis, str, float]:
    """The text spoken in the persona's voice (not stored): (audio, speakable text, rate)."""
    spoken = speakable(text)
    if not spoken:
        raise NothingToSay()
    limit = ctx.settings.speech.max_speech_chars
    if len(spoken) > limit:
        raise AppError(f"This text is too long to speak at once (at most {limit:,} "
                       "characters).", code="text_too_long", status=422)
    provider, voice, rate = await resolve_voice(ctx, persona)
    try:
        synthesis = await provider.synthesize(spoken, voice=voice, rate=rate)
    except ProviderError as exc:
        log.warning("speech synthesis failed", extra={"provider": provider.name,
                                                      "error": str(exc)})
        raise SpeechUnavailable() from None
    if synthesis.duration_s <= 0:
        raise SpeechUnavailable()
    return synthesis, spoken, rate


async def speak_text(ctx: Ctx, *, owner_id: str, persona: Persona | None, text: str,
                     conversation_id: str | None, message_id: str | None,
                     seq: int | None = None) -> SpokenClip:
    """Speak `text` for the persona and store it as the owner's clip (charged by length)."""
    synthesis, spoken, rate = await synthesize(ctx, persona=persona, text=text)
    data = await asyncio.to_thread(_encode, synthesis)
    clip_id = clips.new_clip_id()
    credits = metering.cost_for(ctx.settings.speech, synthesis.duration_s)
    await metering.charge(ctx, user_id=owner_id, clip_id=clip_id, credits=credits,
                          what=(persona or {}).get("name", "persona"))
    timings = [t.to_dict() for t in synthesis.timings]
    try:
        clip = await clips.store_clip(
            ctx, owner_id=owner_id, kind=clips_repo.VOICE, data=data,
            content_type=OPUS_CONTENT_TYPE, clip_id=clip_id,
            persona_id=(persona or {}).get("_id"), conversation_id=conversation_id,
            message_id=message_id, seq=seq, text=spoken, voice_id=synthesis.voice_id,
            rate=rate, language=synthesis.language, provider=synthesis.provider,
            provider_job_id=synthesis.provider_job_id, duration_s=synthesis.duration_s,
            timings=timings, credits_charged=credits)
    except BaseException:
        await metering.refund(ctx, user_id=owner_id, clip_id=clip_id, credits=credits)
        raise
    return SpokenClip(clip=clip, timings=timings, duration_s=clip["duration_s"],
                      synthesis=synthesis)
