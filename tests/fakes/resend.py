"""A fake of Resend's `POST /emails`, speaking its wire format, behind `httpx.MockTransport`.

By default it behaves like the real API: checks the bearer key, requires `from`, `to` and
`subject`, answers `{"id": "<uuid>"}`, and honours `Idempotency-Key` (the same key and body
return the first id without a second email; the same key with another body is a 409).
`enqueue_response()` scripts the next replies (an error status, or a transport failure such as
`httpx.ReadTimeout`) before the default behaviour resumes. Every request lands in `history`;
every accepted email in `sent`.
"""

import json
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

API_KEY = "re_test_0123456789abcdef"
BASE_URL = "https://api.resend.test"

ERROR_NAMES = {
    400: "validation_error",
    401: "missing_api_key",
    403: "invalid_api_key",
    409: "invalid_idempotent_request",
    422: "validation_error",
    429: "rate_limit_exceeded",
    500: "application_error",
}


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


class FakeResend:
    def __init__(self, *, api_key: str = API_KEY, base_url: str = BASE_URL) -> None:
        self.api_key = api_key
        self.base_url = base_url
        self.history: list[RecordedRequest] = []
        self.sent: list[dict[str, Any]] = []
        self._script: deque[_Scripted] = deque()
        self._by_key: dict[str, tuple[Any, str]] = {}

    def enqueue_response(self, status: int = 200, body: Any = None, *,
                         headers: dict[str, str] | None = None,
                         error: type[httpx.TransportError] | None = None) -> None:
        """Script the next reply: `status` with Resend's error body (or `body`), or `error`."""
        self._script.append(_Scripted(status, body, headers, error))

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport)

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        self.history.append(RecordedRequest(request.method, str(request.url),
                                            request.headers, body))
        if self._script:
            scripted = self._script.popleft()
            if scripted.error is not None:
                raise scripted.error("simulated transport failure", request=request)
            if scripted.status != 200 or scripted.body is not None:
                payload = scripted.body if scripted.body is not None else _error_body(
                    scripted.status, ERROR_NAMES.get(scripted.status, "application_error"),
                    "scripted failure")
                return httpx.Response(scripted.status, json=payload, headers=scripted.headers)
        return self._serve(request, body)

    def _serve(self, request: httpx.Request, body: Any) -> httpx.Response:
        if request.method != "POST" or request.url.path != "/emails":
            return _error(404, "not_found", "The requested endpoint does not exist.")
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return _error(401, "missing_api_key", "Missing API key in the authorization header.")
        if not isinstance(body, dict):
            return _error(422, "validation_error", "Invalid JSON body.")
        for name in ("from", "to", "subject"):
            if not body.get(name):
                return _error(422, "missing_required_field", f"Missing `{name}` field.")
        key = request.headers.get("idempotency-key")
        if key is not None and not 1 <= len(key) <= 256:
            return _error(400, "invalid_idempotency_key", "Idempotency key must be 1-256 chars.")
        if key is not None and key in self._by_key:
            first_body, message_id = self._by_key[key]
            if first_body != body:
                return _error(409, "invalid_idempotent_request",
                              "Same idempotency key used with a different request payload.")
            return httpx.Response(200, json={"id": message_id})
        message_id = str(uuid.uuid4())
        if key is not None:
            self._by_key[key] = (body, message_id)
        self.sent.append({"id": message_id, **body})
        return httpx.Response(200, json={"id": message_id})


def _error_body(status: int, name: str, message: str) -> dict[str, Any]:
    return {"statusCode": status, "name": name, "message": message}


def _error(status: int, name: str, message: str) -> httpx.Response:
    return httpx.Response(status, json=_error_body(status, name, message))
