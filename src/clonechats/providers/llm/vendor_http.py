"""What the vendor adapters (OpenAI, Anthropic, Gemini) share: one streaming POST with retries,
Server-Sent Events parsing, and the translation of HTTP failures into `ProviderError`s.

Retries happen only before the first text delta was yielded, never after: a second request
would repeat text the caller already has. Retried: connection failures, 408/409/429/5xx (and
the vendors' "overloaded" stream errors), and a stream that broke before any text. Not retried:
a read timeout (the model already kept the user waiting for `request_timeout_seconds`), any
other 4xx, and a `Retry-After` longer than `max_retry_wait_seconds`. The delay is the larger of
`Retry-After` and `retry_backoff_seconds * 2**attempt`.

Each adapter supplies `request()` (URL, headers, JSON body), `parse()` (events -> deltas and one
`StreamEnd`) and `error_fields()` (the vendor's error code and message from an error body).
"""

import asyncio
import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

import httpx

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.llm.base import (
    ChatMessage,
    ModelInfo,
    StreamItem,
    TextDelta,
    split_model_id,
)
from clonechats.providers.llm.estimate import estimate_prompt_tokens

Sleep = Callable[[float], Awaitable[None]]
READ_TIMEOUT = "read_timeout"  # the one ProviderUnavailable code that is not retried at once


@dataclass(frozen=True)
class HTTPOptions:
    connect_timeout_seconds: float = 10.0
    request_timeout_seconds: float = 60.0  # longest silence while waiting for the next bytes
    max_retries: int = 2
    retry_backoff_seconds: float = 0.5
    max_retry_wait_seconds: float = 20.0

    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.request_timeout_seconds, connect=self.connect_timeout_seconds)


@dataclass(frozen=True)
class VendorRequest:
    url: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class SSEEvent:
    event: str
    data: str

    def json(self, provider: str) -> dict[str, Any]:
        try:
            value = json.loads(self.data)
        except ValueError:
            raise ProviderUnavailable("the stream carried an unreadable event",
                                      provider=provider) from None
        if not isinstance(value, dict):
            raise ProviderUnavailable("the stream carried an unexpected event", provider=provider)
        return value


async def iter_sse(response: httpx.Response) -> AsyncIterator[SSEEvent]:
    """Server-Sent Events from a streaming response (`event:`/`data:` fields, blank-line framed)."""
    event, data = "", list[str]()
    async for line in response.aiter_lines():
        if not line:
            if data:
                yield SSEEvent(event or "message", "\n".join(data))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    if data:
        yield SSEEvent(event or "message", "\n".join(data))


def error_for_status(provider: str, status: int, code: str | None, message: str, *,
                     retry_after: float | None = None,
                     quota_codes: frozenset[str] = frozenset(),
                     auth_codes: frozenset[str] = frozenset()) -> ProviderError:
    fields: dict[str, Any] = {"provider": provider, "status": status, "code": code}
    if code in quota_codes or status == 402:
        return ProviderQuotaError(message or "the account's quota is used up", **fields)
    if code in auth_codes or status in (401, 403):
        return ProviderAuthError(message or "the API key was refused", **fields)
    if status in (408, 409, 429) or status >= 500:
        return ProviderUnavailable(message or "the service is busy", retry_after=retry_after,
                                   **fields)
    return ProviderRejected(message or "the request was refused", **fields)


def retry_after_header(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def incomplete(provider: str) -> ProviderUnavailable:
    return ProviderUnavailable("the stream ended before the reply was complete",
                               provider=provider, code="incomplete_stream")


class VendorAdapter(ABC):
    """Base of the HTTP adapters: models, token estimates, the retried streaming request."""

    name = "vendor"
    quota_codes: frozenset[str] = frozenset()  # vendor error codes that mean a used-up quota
    auth_codes: frozenset[str] = frozenset()  # ... and that mean refused credentials

    def __init__(self, *, api_key: str, base_url: str, models: list[ModelInfo],
                 http: httpx.AsyncClient, options: HTTPOptions | None = None,
                 sleep: Sleep = asyncio.sleep) -> None:
        if not api_key:
            raise ValueError(f"{self.name} needs an API key")
        self._api_key = api_key
        self._base_url = base_url.rstrip("/")
        self._models = {info.id: info for info in models}
        self._http = http
        self._options = options or HTTPOptions()
        self._sleep = sleep

    def models(self) -> list[ModelInfo]:
        return list(self._models.values())

    async def count_tokens(self, *, model: str, messages: list[ChatMessage]) -> int:
        return estimate_prompt_tokens(messages)

    def stream(self, *, model: str, messages: list[ChatMessage], max_tokens: int,
               temperature: float = 0.7) -> AsyncIterator[StreamItem]:
        return self._with_retries(model, messages, max_tokens, temperature)

    async def _with_retries(self, model: str, messages: list[ChatMessage], max_tokens: int,
                            temperature: float) -> AsyncIterator[StreamItem]:
        vendor_model = split_model_id(model, self.name)
        if f"{self.name}:{vendor_model}" not in self._models:
            raise ProviderRejected(f"model {vendor_model!r} is not enabled", provider=self.name,
                                   code="model_not_enabled")
        if max_tokens < 1:
            raise ProviderRejected("max_tokens must be at least 1", provider=self.name,
                                   code="invalid_max_tokens")
        request = self.request(vendor_model, messages, max_tokens, temperature)
        attempt = 0
        while True:
            delivered = False
            try:
                async with aclosing(self._attempt(request, messages)) as items:
                    async for item in items:
                        delivered = delivered or isinstance(item, TextDelta)
                        yield item
                return
            except ProviderUnavailable as exc:
                delay = None if delivered else self._retry_delay(exc, attempt)
                if delay is None:
                    raise
            attempt += 1
            await self._sleep(delay)

    def _retry_delay(self, exc: ProviderUnavailable, attempt: int) -> float | None:
        options = self._options
        if attempt >= options.max_retries or exc.code == READ_TIMEOUT:
            return None
        if exc.retry_after is not None and exc.retry_after > options.max_retry_wait_seconds:
            return None
        backoff = min(options.retry_backoff_seconds * 2 ** attempt,
                      options.max_retry_wait_seconds)
        return max(backoff, exc.retry_after or 0.0)

    async def _attempt(self, request: VendorRequest,
                       messages: list[ChatMessage]) -> AsyncGenerator[StreamItem, None]:
        try:
            async with self._http.stream("POST", request.url, json=request.body,
                                         headers=request.headers,
                                         timeout=self._options.timeout()) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise self._error(response)
                async with aclosing(self.parse(response, messages)) as items:
                    async for item in items:
                        yield item
        except httpx.TimeoutException as exc:
            code = "connect_timeout" if isinstance(exc, httpx.ConnectTimeout) else READ_TIMEOUT
            raise ProviderUnavailable("timed out waiting for the model", provider=self.name,
                                      code=code) from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"the connection failed ({type(exc).__name__})",
                                      provider=self.name, code="connection_error") from None

    def _error(self, response: httpx.Response) -> ProviderError:
        try:
            body = response.json()
        except ValueError:
            body = None
        code, message, retry_after = self.error_fields(body if isinstance(body, dict) else {})
        return error_for_status(self.name, response.status_code, code, message[:300],
                                retry_after=retry_after or retry_after_header(response),
                                quota_codes=self.quota_codes, auth_codes=self.auth_codes)

    # --- implemented by each vendor -------------------------------------------------------

    @abstractmethod
    def request(self, model: str, messages: list[ChatMessage], max_tokens: int,
                temperature: float) -> VendorRequest:
        """The vendor's HTTP request for one streamed reply."""

    @abstractmethod
    def parse(self, response: httpx.Response,
              messages: list[ChatMessage]) -> AsyncGenerator[StreamItem, None]:
        """Text deltas, then the end with usage, from the vendor's event stream."""

    @abstractmethod
    def error_fields(self, body: dict[str, Any]) -> tuple[str | None, str, float | None]:
        """(vendor error code, message, retry delay the body asks for) from an error body."""
