"""One vendor speech request with a few retries, failures translated to `ProviderError`s.

Retried (at most `max_retries` times, `backoff * 2**attempt` apart, or the vendor's
`Retry-After` when that is longer and still within `timeout`): connection failures, timeouts,
408/409/429 and 5xx. Anything else is raised at once. The vendor's error code and message come
from `error_fields(body)`; messages never carry credentials.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.llm.vendor_http import error_for_status, retry_after_header

Sleep = Callable[[float], Awaitable[None]]
ErrorFields = Callable[[Any], tuple[str | None, str]]


async def request(http: httpx.AsyncClient, method: str, url: str, *, provider: str,
                  error_fields: ErrorFields, timeout_s: float, max_retries: int = 2,
                  backoff: float = 0.5, sleep: Sleep = asyncio.sleep,
                  quota_codes: frozenset[str] = frozenset(),
                  auth_codes: frozenset[str] = frozenset(), **kwargs: Any) -> httpx.Response:
    attempt = 0
    while True:
        try:
            response = await _once(http, method, url, provider=provider, timeout_s=timeout_s,
                                   **kwargs)
            if response.status_code < 400:
                return response
            try:
                body = response.json()
            except ValueError:
                body = None
            code, message = error_fields(body)
            error = error_for_status(provider, response.status_code, code, message[:300],
                                     retry_after=retry_after_header(response),
                                     quota_codes=quota_codes, auth_codes=auth_codes)
        except ProviderUnavailable as exc:
            error = exc
        if not error.retryable or attempt >= max_retries:
            raise error
        delay = max(backoff * 2 ** attempt, error.retry_after or 0.0)
        if delay > timeout_s:
            raise error
        attempt += 1
        await sleep(delay)


async def _once(http: httpx.AsyncClient, method: str, url: str, *, provider: str,
                timeout_s: float, **kwargs: Any) -> httpx.Response:
    try:
        return await http.request(method, url, timeout=timeout_s, **kwargs)
    except httpx.TimeoutException:
        raise ProviderUnavailable("timed out waiting for the speech service", provider=provider,
                                  code="timeout") from None
    except httpx.TransportError as exc:
        raise ProviderUnavailable(f"the connection failed ({type(exc).__name__})",
                                  provider=provider, code="connection_error") from None


def unreadable(provider: str) -> ProviderUnavailable:
    return ProviderUnavailable("the speech service sent an unreadable answer",
                               provider=provider, code="bad_response")
