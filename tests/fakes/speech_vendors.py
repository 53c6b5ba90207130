"""Fakes of the OpenAI speech and ElevenLabs HTTP APIs behind `httpx.MockTransport`.

Each fake checks what the real API checks (its key header, the path and method, the body's
required fields) and answers in the vendor's wire format: OpenAI `POST /v1/audio/speech` gives
WAV bytes with an `x-request-id` header, `POST /v1/audio/transcriptions` (multipart) gives
`{"text", "language": "english", "duration"}` for `verbose_json` or `{"text"}`; ElevenLabs
`POST /v1/text-to-speech/{voice_id}?output_format=pcm_24000` gives raw 16-bit PCM with a
`request-id` header, `POST /v1/voices/add` (multipart `name`, `files`) gives
`{"voice_id", "requires_verification"}` and `DELETE /v1/voices/{id}` removes it. Errors use each
vendor's error body. `fail(status, code=, message=, retry_after=, times=)` scripts failures for
the next requests; `disconnect(times=)` makes the next requests fail to connect. Every request
lands in `history` (method, path, headers, json or form fields, files).
"""

import io
import json
import math
import struct
import wave
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

OPENAI_KEY = "sk-test-speech-0123456789"
ELEVENLABS_KEY = "xi-test-0123456789"


def tone(seconds: float, rate: int) -> bytes:
    """Mono 16-bit PCM of a warbling tone (not silence, so loudness can be normalised)."""
    count = int(seconds * rate)
    return b"".join(struct.pack("<h", int(6000 * math.sin(2 * math.pi * (220 + 80 * math.sin(
        i / 900)) * i / rate))) for i in range(count))


def wav(seconds: float, rate: int = 24_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(tone(seconds, rate))
    return out.getvalue()


@dataclass
class Failure:
    status: int
    code: str | None
    message: str
    retry_after: float | None = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any = None
    form: dict[str, list[str]] = field(default_factory=dict)
    files: list[tuple[str, str, bytes]] = field(default_factory=list)  # (field, type, bytes)


def _multipart(request: httpx.Request) -> tuple[dict[str, list[str]], list[tuple[str, str,
                                                                                 bytes]]]:
    """Fields and files of a multipart body, read with the stdlib email parser."""
    from email.parser import BytesParser
    from email.policy import HTTP

    header = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + request.content)
    form: dict[str, list[str]] = {}
    files = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if part.get_filename() is not None:
            files.append((name, part.get_content_type(), payload))
        else:
            form.setdefault(name, []).append(payload.decode())
    return form, files


class FakeSpeechVendor:
    base_url = ""

    def __init__(self) -> None:
        self.history: list[Recorded] = []
        self._failures: deque[Failure] = deque()
        self._disconnects = 0
        self.seconds = 1.5

    def fail(self, status: int, *, code: str | None = None, message: str = "failed",
             retry_after: float | None = None, times: int = 1) -> None:
        for _ in range(times):
            self._failures.append(Failure(status, code, message, retry_after))

    def disconnect(self, *, times: int = 1) -> None:
        self._disconnects += times

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    def handle(self, request: httpx.Request) -> httpx.Response:
        recorded = Recorded(request.method, request.url.path, dict(request.headers))
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            recorded.json = json.loads(request.content)
        elif content_type.startswith("multipart/form-data"):
            recorded.form, recorded.files = _multipart(request)
        self.history.append(recorded)
        if self._disconnects:
            self._disconnects -= 1
            raise httpx.ConnectError("connection refused", request=request)
        if not self.authorised(request):
            return self.error(401, "invalid_api_key", "Invalid API key.")
        if self._failures:
            failure = self._failures.popleft()
            response = self.error(failure.status, failure.code, failure.message)
            if failure.retry_after is not None:
                response.headers["retry-after"] = str(failure.retry_after)
            return response
        return self.route(request, recorded)

    def authorised(self, request: httpx.Request) -> bool:
        raise NotImplementedError

    def error(self, status: int, code: str | None, message: str) -> httpx.Response:
        raise NotImplementedError

    def route(self, request: httpx.Request, recorded: Recorded) -> httpx.Response:
        raise NotImplementedError


class FakeOpenAISpeech(FakeSpeechVendor):
    base_url = "https://api.openai.test/v1"
    transcript = "Hello from the fake transcription service."

    def authorised(self, request: httpx.Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {OPENAI_KEY}"

    def error(self, status: int, code: str | None, message: str) -> httpx.Response:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        return httpx.Response(status, json={"error": {"message": message, "type": kind,
                                                      "param": None, "code": code}})

    def route(self, request: httpx.Request, recorded: Recorded) -> httpx.Response:
        if request.method == "POST" and recorded.path == "/v1/audio/speech":
            body = recorded.json or {}
            missing = [k for k in ("model", "input", "voice") if not body.get(k)]
            if missing or len(body.get("input", "")) > 4096:
                return self.error(400, None, f"invalid request: {missing or 'input'}")
            if body.get("response_format", "mp3") != "wav":
                return self.error(400, None, "this fake answers WAV only")
            seconds = self.seconds / float(body.get("speed", 1.0))
            return httpx.Response(200, content=wav(seconds),
                                  headers={"content-type": "audio/wav",
                                           "x-request-id": f"req_{len(self.history)}"})
        if request.method == "POST" and recorded.path == "/v1/audio/transcriptions":
            if not recorded.files or not recorded.form.get("model"):
                return self.error(400, None, "file and model are required")
            if recorded.form.get("response_format") == ["verbose_json"]:
                return httpx.Response(200, json={"task": "transcribe", "language": "english",
                                                 "duration": 2.5, "text": self.transcript,
                                                 "segments": []})
            return httpx.Response(200, json={"text": self.transcript})
        return self.error(404, "unknown_url", "Unknown request URL.")


class FakeElevenLabs(FakeSpeechVendor):
    base_url = "https://api.elevenlabs.test"

    def __init__(self) -> None:
        super().__init__()
        self.voices: dict[str, str] = {"stock-rachel": "Rachel"}
        self.require_verification = False

    def authorised(self, request: httpx.Request) -> bool:
        return request.headers.get("xi-api-key") == ELEVENLABS_KEY

    def error(self, status: int, code: str | None, message: str) -> httpx.Response:
        return httpx.Response(status, json={"detail": {"status": code or "error",
                                                       "message": message}})

    def route(self, request: httpx.Request, recorded: Recorded) -> httpx.Response:
        path = recorded.path
        if request.method == "POST" and path.startswith("/v1/text-to-speech/"):
            voice_id = path.removeprefix("/v1/text-to-speech/")
            if voice_id not in self.voices:
                return self.error(400, "voice_not_found", "A voice with that id was not found.")
            if request.url.params.get("output_format") != "pcm_24000":
                return self.error(400, None, "this fake answers pcm_24000 only")
            body = recorded.json or {}
            if not body.get("text"):
                return self.error(422, None, "text is required")
            speed = float((body.get("voice_settings") or {}).get("speed", 1.0))
            if not 0.7 <= speed <= 1.2:
                return self.error(400, "invalid_voice_settings", "speed must be 0.7 to 1.2")
            return httpx.Response(200, content=tone(self.seconds / speed, 24_000),
                                  headers={"content-type": "audio/pcm",
                                           "request-id": f"el_{len(self.history)}"})
        if request.method == "POST" and path == "/v1/voices/add":
            if not recorded.form.get("name") or not recorded.files:
                return httpx.Response(422, json={"detail": [{"msg": "name and files are "
                                                                    "required"}]})
            voice_id = f"cloned{len(self.voices)}"
            self.voices[voice_id] = recorded.form["name"][0]
            return httpx.Response(200, json={"voice_id": voice_id, "requires_verification":
                                             self.require_verification})
        if request.method == "DELETE" and path.startswith("/v1/voices/"):
            voice_id = path.removeprefix("/v1/voices/")
            if self.voices.pop(voice_id, None) is None:
                return self.error(404, "voice_not_found", "A voice with that id was not found.")
            return httpx.Response(200, json={"status": "ok"})
        return self.error(404, "not_found", "Not found.")
