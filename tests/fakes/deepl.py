"""A fake of DeepL's `POST /v2/translate`, speaking its wire format, behind `httpx.MockTransport`.

By default it behaves like the real API: checks the `DeepL-Auth-Key` header (403 with
`{"message": …}` otherwise), requires a JSON body with a non-empty `text` list and a supported
`target_lang` (400 otherwise), accepts an optional `source_lang`, and answers
`{"translations": [{"detected_source_language", "text"}]}`, one per text. Its "translation" is
a phrasebook lookup, or else the text tagged with the target (`[ES] …`), so tests can tell what
was sent where. `enqueue_response()` scripts the next replies (an error status with DeepL's
error body, a body of its own, or a transport failure) before the default behaviour resumes.
Every request lands in `history`.
"""

import json
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

API_KEY = "0f3c2d1e-aaaa-bbbb-cccc-1234567890ab:fx"
BASE_URL = "https://api-free.deepl.test/v2"
SOURCES = {"AR", "BG", "CS", "DA", "DE", "EL", "EN", "ES", "ET", "FI", "FR", "HU", "ID", "IT",
           "JA", "KO", "LT", "LV", "NB", "NL", "PL", "PT", "RO", "RU", "SK", "SL", "SV", "TR",
           "UK", "ZH"}
TARGETS = (SOURCES - {"EN", "PT", "ZH"}) | {"EN", "EN-GB", "EN-US", "PT", "PT-PT", "PT-BR",
                                             "ZH", "ZH-HANS", "ZH-HANT"}
PHRASEBOOK = {
    ("ES", "EN"): {"Quiero planear un viaje a Madrid el próximo verano.":
                   "I want to plan a trip to Madrid next summer."},
    ("EN", "ES"): {"I would love to help you plan a trip to Madrid.":
                   "Me encantaría ayudarte a planear un viaje a Madrid."},
}
MESSAGES = {400: "Bad request. Reason: {reason}", 403: "Authorization failure, check auth_key",
            413: "Request Entity Too Large", 429: "Too many requests",
            456: "Quota exceeded", 500: "Internal server error",
            503: "Service temporarily unavailable"}


@dataclass
class RecordedRequest:
    method: str
    url: str
    headers: httpx.Headers
    json: Any


@dataclass
class _Scripted:
    status: int = 200
    body: Any = None
    headers: dict[str, str] | None = None
    error: type[httpx.TransportError] | None = None


class FakeDeepL:
    def __init__(self, *, api_key: str = API_KEY, base_url: str = BASE_URL) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.history: list[RecordedRequest] = []
        self._script: deque[_Scripted] = deque()

    def enqueue_response(self, status: int = 200, body: Any = None, *,
                         headers: dict[str, str] | None = None,
                         error: type[httpx.TransportError] | None = None) -> None:
        self._script.append(_Scripted(status, body, headers, error))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

    @property
    def translated(self) -> list[dict[str, Any]]:
        """The bodies of requests that were answered with a translation."""
        return [r.json for r in self.history if isinstance(r.json, dict) and r.json.get("text")]

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        self.history.append(RecordedRequest(request.method, str(request.url), request.headers,
                                            body))
        if self._script:
            scripted = self._script.popleft()
            if scripted.error is not None:
                raise scripted.error("simulated transport failure", request=request)
            if scripted.status != 200 or scripted.body is not None:
                payload = scripted.body if scripted.body is not None else {
                    "message": MESSAGES.get(scripted.status, "error").format(reason="scripted")}
                return httpx.Response(scripted.status, json=payload, headers=scripted.headers)
        return self._serve(request, body)

    def _serve(self, request: httpx.Request, body: Any) -> httpx.Response:
        if request.method != "POST" or str(request.url) != self.base_url + "/translate":
            return httpx.Response(404, json={"message": "Not found"})
        if request.headers.get("authorization") != f"DeepL-Auth-Key {self.api_key}":
            return httpx.Response(403, json={"message": MESSAGES[403]})
        if not isinstance(body, dict):
            return _bad("Invalid request body")
        texts, target = body.get("text"), body.get("target_lang")
        source = body.get("source_lang")
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return _bad("Parameter 'text' not specified.")
        if not isinstance(target, str) or target.upper() not in TARGETS:
            return _bad("Value for 'target_lang' not supported.")
        if source is not None and (not isinstance(source, str) or source.upper() not in SOURCES):
            return _bad("Value for 'source_lang' not supported.")
        detected = (source or "EN").upper()
        short_target = target.upper().split("-")[0]
        book = PHRASEBOOK.get((detected, short_target), {})
        return httpx.Response(200, json={"translations": [
            {"detected_source_language": detected,
             "text": book.get(text, f"[{short_target}] {text}")} for text in texts]})


def _bad(reason: str) -> httpx.Response:
    return httpx.Response(400, json={"message": MESSAGES[400].format(reason=reason)})
