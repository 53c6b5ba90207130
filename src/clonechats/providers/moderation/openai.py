"""OpenAI's moderation endpoint, with plain httpx, falling back to the offline moderator.

`POST {base_url}/moderations` with `Authorization: Bearer <key>` and
`{"model": "omni-moderation-latest", "input": "<text>"}` answers
`{"id", "model", "results": [{"flagged", "categories": {name: bool},
"category_scores": {name: float}, "category_applied_input_types": {...}}]}`, one result per
input. Category names carry slashes (`harassment/threatening`, `sexual/minors`,
`self-harm/intent`, ...). Errors are `{"error": {"message", "type", "code"}}`.

The verdict: every category the vendor marks true fires with its score, and `sexual/minors`
also fires from `minors_threshold` up whatever the vendor's own flag says (the platform rules
forbid it outright). `self-harm` and `self-harm/intent` alone do not block: platform rule 5
asks the persona to answer such a message with care and point to help, which a blocked message
would never get; `self-harm/instructions` does block.

When the vendor cannot answer (timeout, connection failure, 5xx, 429, a refused key, a used-up
quota, an unreadable body) the text is not let through unmoderated: after `max_retries` quick
retries of retryable failures, the offline moderator decides instead, and the fall-back is
logged (at error level when an operator must act: a refused key or an exhausted quota).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from clonechats.providers.errors import ProviderError, ProviderUnavailable
from clonechats.providers.llm.vendor_http import error_for_status, retry_after_header
from clonechats.providers.moderation.base import ModerationResult, Moderator, verdict

log = logging.getLogger(__name__)

NAME = "openai"
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "omni-moderation-latest"
CARE_NOT_BLOCK = frozenset({"self-harm", "self-harm/intent"})
MINORS = "sexual/minors"

Sleep = Callable[[float], Awaitable[None]]


class OpenAIModerator:
    name = NAME

    def __init__(self, *, api_key: str, http: httpx.AsyncClient, fallback: Moderator,
                 base_url: str = DEFAULT_BASE_URL, model: str = DEFAULT_MODEL,
                 minors_threshold: float = 0.2, timeout_seconds: float = 10.0,
                 max_retries: int = 1, retry_backoff_seconds: float = 0.25,
                 sleep: Sleep = asyncio.sleep) -> None:
        if not api_key:
            raise ValueError("the OpenAI moderator needs an API key")
        self._api_key = api_key
        self._http = http
        self._fallback = fallback
        self._url = base_url.rstrip("/") + "/moderations"
        self._model = model
        self._minors_threshold = minors_threshold
        self._timeout = timeout_seconds
        self._max_retries = max_retries
        self._backoff = retry_backoff_seconds
        self._sleep = sleep

    async def check(self, text: str) -> ModerationResult:
        if not text.strip():
            return verdict({})
        try:
            return self.interpret(await self.classify(text))
        except ProviderError as exc:
            level = logging.WARNING if exc.retryable else logging.ERROR
            log.log(level, "vendor moderation failed; the offline moderator decides",
                    extra={"provider": NAME, "error": str(exc)})
            return await self._fallback.check(text)

    async def classify(self, text: str) -> dict[str, Any]:
        """The vendor's first result for `text`, retrying retryable failures."""
        attempt = 0
        while True:
            try:
                return await self._request(text)
            except ProviderUnavailable as exc:
                if attempt >= self._max_retries:
                    raise
                delay = max(self._backoff * 2 ** attempt, exc.retry_after or 0.0)
                if delay > self._timeout:
                    raise
            attempt += 1
            await self._sleep(delay)

    async def _request(self, text: str) -> dict[str, Any]:
        try:
            response = await self._http.post(
                self._url, json={"model": self._model, "input": text},
                headers={"Authorization": f"Bearer {self._api_key}"}, timeout=self._timeout)
        except httpx.TimeoutException:
            raise ProviderUnavailable("timed out waiting for the moderation service",
                                      provider=NAME, code="timeout") from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the connection failed ({type(exc).__name__})",
                                      provider=NAME, code="connection_error") from None
        if response.status_code >= 400:
            raise self._error(response)
        try:
            body = response.json()
            result = body["results"][0]
        except (ValueError, KeyError, IndexError, TypeError):
            raise ProviderUnavailable("the moderation service sent an unreadable answer",
                                      provider=NAME, code="bad_response") from None
        if not isinstance(result, dict) or not isinstance(result.get("categories"), dict):
            raise ProviderUnavailable("the moderation service sent an unreadable answer",
                                      provider=NAME, code="bad_response")
        return result

    def _error(self, response: httpx.Response) -> ProviderError:
        try:
            body = response.json()
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        code = error.get("code") or error.get("type")
        message = str(error.get("message") or "")[:300]
        return error_for_status(NAME, response.status_code, str(code) if code else None,
                                message, retry_after=retry_after_header(response),
                                quota_codes=frozenset({"insufficient_quota"}))

    def interpret(self, result: dict[str, Any]) -> ModerationResult:
        flags = result.get("categories") or {}
        raw_scores = result.get("category_scores") or {}
        scores = {name: float(value) for name, value in raw_scores.items()
                  if isinstance(value, int | float)}
        fired = {name: scores.get(name, 1.0) for name, on in flags.items()
                 if on is True and name not in CARE_NOT_BLOCK}
        if scores.get(MINORS, 0.0) >= self._minors_threshold:
            fired[MINORS] = scores[MINORS]
        return verdict(fired)
