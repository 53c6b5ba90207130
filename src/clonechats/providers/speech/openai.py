"""OpenAI speech: `POST /audio/speech` (TTS) and `POST /audio/transcriptions` (STT), plain httpx.

TTS sends `{"model", "input" (at most 4096 characters), "voice", "response_format": "wav",
"speed" (0.25..4.0)}` with `Authorization: Bearer <key>` and gets the audio bytes back; the WAV
is decoded to samples here. The `x-request-id` response header is kept as the job id.
STT sends multipart `file`, `model` and optional `language`; with `whisper-1` it asks for
`verbose_json`, which also reports the detected `language` (a name such as "english", mapped to
its ISO code) and `duration`; other models answer `{"text"}`. Errors are
`{"error": {"message", "type", "code"}}`.
"""

import asyncio
from typing import Any

import httpx

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.speech import vendor_http
from clonechats.providers.speech.base import SpeechInput, Synthesis, Transcript, VoiceInfo
from clonechats.providers.speech.encoding import decode_to_pcm

NAME = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_INPUT_CHARS = 4096
LANGUAGE_NAMES = {"english": "en", "spanish": "es", "french": "fr", "hindi": "hi",
                  "german": "de", "portuguese": "pt", "italian": "it", "japanese": "ja"}


def error_fields(body: Any) -> tuple[str | None, str]:
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, ""
    code = error.get("code") or error.get("type")
    return (str(code) if code else None), str(error.get("message") or "")


class OpenAISpeech:
    name = NAME

    def __init__(self, *, api_key: str, http: httpx.AsyncClient,
                 base_url: str = DEFAULT_BASE_URL, tts_model: str = "gpt-4o-mini-tts",
                 stt_model: str = "whisper-1", voice_names: list[str] | None = None,
                 timeout_seconds: float = 30.0, max_retries: int = 2,
                 sleep: vendor_http.Sleep = asyncio.sleep) -> None:
        if not api_key:
            raise ValueError("OpenAI speech needs an API key")
        self._key = api_key
        self._http = http
        self._base = base_url.rstrip("/")
        self._tts_model = tts_model
        self._stt_model = stt_model
        self._voice_names = voice_names or ["alloy", "nova", "onyx", "shimmer", "coral", "sage"]
        self._timeout = timeout_seconds
        self._retries = max_retries
        self._sleep = sleep

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=f"{NAME}:{name}", provider=NAME, language="mul",
                          label=f"{name.title()} · OpenAI, speaks many languages",
                          engine_voice=name) for name in self._voice_names]

    async def _post(self, path: str, **kwargs: Any) -> httpx.Response:
        return await vendor_http.request(
            self._http, "POST", self._base + path, provider=NAME, error_fields=error_fields,
            timeout_s=self._timeout, max_retries=self._retries, sleep=self._sleep,
            quota_codes=frozenset({"insufficient_quota"}),
            headers={"Authorization": f"Bearer {self._key}"}, **kwargs)

    async def synthesize(self, text: str, *, voice: VoiceInfo, rate: float = 1.0) -> Synthesis:
        if len(text) > MAX_INPUT_CHARS:
            raise ProviderRejected("the text is too long for one request", provider=NAME,
                                   code="input_too_long")
        response = await self._post("/audio/speech", json={
            "model": self._tts_model, "input": text, "voice": voice.engine_voice,
            "response_format": "wav", "speed": rate})
        try:
            samples, sample_rate = await asyncio.to_thread(decode_to_pcm, response.content)
        except Exception:
            raise vendor_http.unreadable(NAME) from None
        return Synthesis(samples=samples, sample_rate=sample_rate, language=voice.language,
                         provider=NAME, voice_id=voice.id,
                         provider_job_id=response.headers.get("x-request-id"))

    async def transcribe(self, audio: SpeechInput, *, language: str | None = None) -> Transcript:
        verbose = self._stt_model == "whisper-1"
        data = {"model": self._stt_model, "response_format": "verbose_json" if verbose
                else "json"}
        if language:
            data["language"] = language
        extension = {"audio/wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg",
                     "audio/webm": "webm"}.get(audio.content_type, "wav")
        response = await self._post("/audio/transcriptions", data=data, files={
            "file": (f"speech.{extension}", audio.original, audio.content_type)})
        try:
            body = response.json()
            text = str(body["text"]).strip()
        except (ValueError, KeyError, TypeError):
            raise vendor_http.unreadable(NAME) from None
        detected = body.get("language") if isinstance(body.get("language"), str) else None
        code = LANGUAGE_NAMES.get(detected.lower(), detected) if detected else language
        return Transcript(text=text, language=code, duration_s=audio.duration_s, provider=NAME)
