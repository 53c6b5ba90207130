"""ElevenLabs: text-to-speech and instant voice cloning, plain httpx with `xi-api-key`.

TTS: `POST /v1/text-to-speech/{voice_id}?output_format=pcm_24000` with
`{"text", "model_id", "voice_settings": {"speed"}}` answers raw 16-bit mono PCM at 24 kHz; the
`request-id` header is kept as the job id. ElevenLabs accepts speeds 0.7..1.2 only, so a
persona's rate is clamped into that range.
Cloning: `POST /v1/voices/add` (multipart `name`, `files` one per sample,
`remove_background_noise`) answers `{"voice_id", "requires_verification"}`; a voice that needs
verification cannot be used yet and is refused. `DELETE /v1/voices/{voice_id}` removes it.
Errors are `{"detail": {"status", "message"}}` (or FastAPI-style `{"detail": [...]}` on 422).
"""

import asyncio
from typing import Any

import httpx
import numpy as np

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.speech import vendor_http
from clonechats.providers.speech.base import Synthesis, VoiceInfo

NAME = "elevenlabs"
DEFAULT_BASE_URL = "https://api.elevenlabs.io"
PCM_RATE = 24_000
MIN_SPEED, MAX_SPEED = 0.7, 1.2


def error_fields(body: Any) -> tuple[str | None, str]:
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        status = detail.get("status") or detail.get("code")
        return (str(status) if status else None), str(detail.get("message") or "")
    if isinstance(detail, list) and detail:
        return "validation_error", str(detail[0].get("msg", "")) if isinstance(
            detail[0], dict) else ""
    return None, ""


class ElevenLabsSpeech:
    name = NAME

    def __init__(self, *, api_key: str, http: httpx.AsyncClient,
                 base_url: str = DEFAULT_BASE_URL, model_id: str = "eleven_multilingual_v2",
                 stock_voices: list[tuple[str, str]] | None = None,
                 timeout_seconds: float = 30.0, max_retries: int = 2,
                 sleep: vendor_http.Sleep = asyncio.sleep) -> None:
        if not api_key:
            raise ValueError("ElevenLabs needs an API key")
        self._key = api_key
        self._http = http
        self._base = base_url.rstrip("/")
        self._model_id = model_id
        self._stock = stock_voices or []
        self._timeout = timeout_seconds
        self._retries = max_retries
        self._sleep = sleep

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo(id=f"{NAME}:{voice_id}", provider=NAME, language="mul",
                          label=f"{label} · ElevenLabs, speaks many languages",
                          engine_voice=voice_id) for voice_id, label in self._stock]

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await vendor_http.request(
            self._http, method, self._base + path, provider=NAME, error_fields=error_fields,
            timeout_s=self._timeout, max_retries=self._retries, sleep=self._sleep,
            quota_codes=frozenset({"quota_exceeded"}),
            auth_codes=frozenset({"invalid_api_key"}),
            headers={"xi-api-key": self._key}, **kwargs)

    async def synthesize(self, text: str, *, voice: VoiceInfo, rate: float = 1.0) -> Synthesis:
        speed = min(MAX_SPEED, max(MIN_SPEED, rate))
        response = await self._send(
            "POST", f"/v1/text-to-speech/{voice.engine_voice}",
            params={"output_format": f"pcm_{PCM_RATE}"},
            json={"text": text, "model_id": self._model_id,
                  "voice_settings": {"speed": speed}})
        body = response.content
        if not body or len(body) % 2:
            raise vendor_http.unreadable(NAME)
        samples = np.frombuffer(body, dtype="<i2").astype(np.int16)
        return Synthesis(samples=samples, sample_rate=PCM_RATE, language=voice.language,
                         provider=NAME, voice_id=voice.id,
                         provider_job_id=response.headers.get("request-id"))

    async def clone_voice(self, *, name: str, samples: list[tuple[bytes, str]]) -> str:
        files = [("files", (f"sample-{i}", data, content_type))
                 for i, (data, content_type) in enumerate(samples)]
        response = await self._send("POST", "/v1/voices/add", files=files,
                                    data={"name": name[:100],
                                          "remove_background_noise": "true"})
        try:
            body = response.json()
            voice_id = str(body["voice_id"])
        except (ValueError, KeyError, TypeError):
            raise vendor_http.unreadable(NAME) from None
        if body.get("requires_verification"):
            await self.delete_voice(voice_id)  # unusable: not left behind at the vendor
            raise ProviderRejected("the cloned voice needs verification before it can be used",
                                   provider=NAME, code="requires_verification")
        return voice_id

    async def delete_voice(self, voice_name: str) -> None:
        try:
            await self._send("DELETE", f"/v1/voices/{voice_name}")
        except ProviderRejected as exc:
            if exc.status != 404:  # already gone is fine
                raise
