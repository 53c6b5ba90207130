"""The speech registry: every enabled voice by id, the TTS provider behind each, and the STT.

Built once per process from `SpeechSettings` (`build_speech_registry`), cheaply: no model loads
here. The local provider is always present (its voices are those whose engines are installed);
OpenAI and ElevenLabs only when their API keys are set. `speech.voices` narrows the list to the
operator's choice. `resolve(voice_id)` refuses anything not enabled with 422 `unknown_voice`;
`None` resolves to the default voice. A cloned voice ("elevenlabs:clone-<persona>") is resolved
by the voice service, which owns the clones.
"""

from pathlib import Path
from typing import Any

import httpx

from clonechats.errors import AppError
from clonechats.providers.speech.base import STTProvider, TTSProvider, VoiceCloner, VoiceInfo
from clonechats.providers.speech.elevenlabs import ElevenLabsSpeech
from clonechats.providers.speech.local import LocalSTT, LocalTTS
from clonechats.providers.speech.openai import OpenAISpeech
from clonechats.settings import SpeechSettings


class UnknownVoice(AppError):
    code = "unknown_voice"
    status = 422
    message = "That voice is not available on this server. Pick one from the list of voices."


class SpeechRegistry:
    def __init__(self, tts: list[TTSProvider], stt: STTProvider, *, default_voice: str,
                 enabled: list[str] | None = None) -> None:
        self._tts = {provider.name: provider for provider in tts}
        self.stt = stt
        self._voices: dict[str, VoiceInfo] = {}
        for provider in tts:
            for voice in provider.voices():
                if not enabled or voice.id in enabled:
                    self._voices[voice.id] = voice
        self._default = default_voice if default_voice in self._voices else next(
            iter(self._voices), None)

    def voices(self) -> list[VoiceInfo]:
        return list(self._voices.values())

    def provider(self, name: str) -> TTSProvider | None:
        return self._tts.get(name)

    def cloner(self) -> tuple[TTSProvider, VoiceCloner] | None:
        """The first provider that can clone voices, if any is configured."""
        for provider in self._tts.values():
            if isinstance(provider, VoiceCloner):
                return provider, provider
        return None

    def default_voice(self) -> VoiceInfo:
        if self._default is None:
            raise AppError("No voice is installed on this server, so nothing can be spoken.",
                           code="speech_unavailable", status=503)
        return self._voices[self._default]

    def is_enabled(self, voice_id: str) -> bool:
        return voice_id in self._voices

    def resolve(self, voice_id: str | None) -> tuple[TTSProvider, VoiceInfo]:
        voice = self.default_voice() if not voice_id else self._voices.get(voice_id)
        if voice is None:
            raise UnknownVoice()
        return self._tts[voice.provider], voice


def build_speech_registry(settings: SpeechSettings, *, http: httpx.AsyncClient,
                          data_dir: Path) -> SpeechRegistry:
    local_tts = LocalTTS(max_waiting=settings.max_waiting, data_dir=data_dir)
    tts: list[TTSProvider] = [local_tts]
    stt: STTProvider = LocalSTT(model=settings.stt_model, data_dir=data_dir,
                                threads=settings.threads, max_waiting=settings.max_waiting)
    vendor: dict[str, Any] = {"http": http, "timeout_seconds": settings.timeout_seconds,
              "max_retries": settings.max_retries}
    if settings.openai_api_key and settings.openai_api_key.get_secret_value().strip():
        openai = OpenAISpeech(api_key=settings.openai_api_key.get_secret_value(),
                              base_url=settings.openai_base_url,
                              tts_model=settings.openai_tts_model,
                              stt_model=settings.openai_stt_model,
                              voice_names=settings.openai_voices, **vendor)
        tts.append(openai)
        if settings.stt_provider == "openai":
            stt = openai
    if settings.elevenlabs_api_key and settings.elevenlabs_api_key.get_secret_value().strip():
        tts.append(ElevenLabsSpeech(
            api_key=settings.elevenlabs_api_key.get_secret_value(),
            base_url=settings.elevenlabs_base_url, model_id=settings.elevenlabs_model_id,
            stock_voices=[(v.voice_id, v.label) for v in settings.elevenlabs_voices], **vendor))
    return SpeechRegistry(tts, stt, default_voice=settings.default_voice,
                          enabled=settings.voices)
