"""A fake of OpenAI's `POST /v1/moderations`, speaking its wire format, behind `MockTransport`.

It checks the bearer key, the model and the input like the real API, and answers
`{"id": "modr-…", "model", "results": [{"flagged", "categories", "category_scores",
"category_applied_input_types"}]}` with all thirteen categories. Its classifier is a keyword
table (`SCORES`): a text containing a keyword gets that category's score, every other category a
small one; `flagged` is true when any category's score reaches 0.5, as the vendor's default.
`enqueue_response()` scripts the next replies (an error status with OpenAI's error body, a raw
body, or a transport failure such as `httpx.ReadTimeout`). Every request lands in `history`.
"""

import json
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

API_KEY = "sk-test-moderation-0123456789"
BASE_URL = "https://api.openai.test/v1"
MODELS = ("omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest",
          "text-moderation-stable")
CATEGORIES = ("harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
              "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions",
              "sexual", "sexual/minors", "violence", "violence/graphic")
IMAGE_CATEGORIES = {"self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
                    "violence", "violence/graphic"}
SCORES: dict[str, dict[str, float]] = {
    "idiot": {"harassment": 0.93},
    "kill you": {"harassment/threatening": 0.91, "violence": 0.88, "harassment": 0.7},
    "vermin": {"hate": 0.81},
    "nudes": {"sexual": 0.86},
    "schoolgirl": {"sexual/minors": 0.31},
    "end my life": {"self-harm": 0.9, "self-harm/intent": 0.87},
    "how to cut myself": {"self-harm/instructions": 0.8, "self-harm": 0.85},
}
BASELINE = 0.0004
ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error",
               429: "requests", 500: "server_error", 503: "server_error"}


@dataclass
class RecordedRequest:
    method: str
    url: str
    headers: httpx.Headers
    json: Any


@dataclass
class _Scripted:
    status: int
    body: Any
    code: str | None
    headers: dict[str, str] | None
    error: type[httpx.TransportError] | None


def classify(text: str) -> dict[str, Any]:
    scores = dict.fromkeys(CATEGORIES, BASELINE)
    lowered = text.lower()
    for keyword, found in SCORES.items():
        if keyword in lowered:
            for name, score in found.items():
                scores[name] = max(scores[name], score)
    flags = {name: score >= 0.5 for name, score in scores.items()}
    return {
        "flagged": any(flags.values()),
        "categories": flags,
        "category_scores": scores,
        "category_applied_input_types": {
            name: ["text"] for name in CATEGORIES},
    }


class FakeOpenAIModeration:
    def __init__(self, *, api_key: str = API_KEY, base_url: str = BASE_URL) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.history: list[RecordedRequest] = []
        self._script: deque[_Scripted] = deque()

    def enqueue_response(self, status: int = 200, body: Any = None, *, code: str | None = None,
                         headers: dict[str, str] | None = None,
                         error: type[httpx.TransportError] | None = None) -> None:
        """Script the next reply: `status` with OpenAI's error body (and `code`), a raw
        `body` (bytes or JSON), or a transport `error`."""
        self._script.append(_Scripted(status, body, code, headers, error))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self.handle))

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
            if scripted.body is not None:
                content = (scripted.body if isinstance(scripted.body, bytes)
                           else json.dumps(scripted.body).encode())
                return httpx.Response(scripted.status, content=content,
                                      headers={"content-type": "application/json",
                                               **(scripted.headers or {})})
            return _error(scripted.status, f"scripted failure {scripted.status}",
                          code=scripted.code, headers=scripted.headers)
        return self._serve(request, body)

    def _serve(self, request: httpx.Request, body: Any) -> httpx.Response:
        if request.method != "POST" or str(request.url) != f"{self.base_url}/moderations":
            return _error(404, "Invalid URL")
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "Incorrect API key provided.", code="invalid_api_key")
        if not isinstance(body, dict) or "input" not in body:
            return _error(400, "Missing required parameter: 'input'.")
        model = body.get("model", "omni-moderation-latest")
        if model not in MODELS:
            return _error(400, f"The model `{model}` does not exist.", code="model_not_found")
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        texts = [item if isinstance(item, str) else item.get("text", "") for item in inputs]
        return httpx.Response(200, json={"id": f"modr-{uuid.uuid4().hex[:24]}",
                                         "model": f"{model}-2024-09-26"
                                         if model.endswith("latest") else model,
                                         "results": [classify(text) for text in texts]})


def _error(status: int, message: str, *, code: str | None = None,
           headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": {
        "message": message, "type": ERROR_TYPES.get(status, "invalid_request_error"),
        "param": None, "code": code}})
