"""Resend (https://resend.com) over its HTTP API: `POST /emails` with plain httpx.

Sends `Authorization: Bearer <key>` and `Idempotency-Key: <message.idempotency_key>`, so a
retried job reuses the key and Resend delivers at most one email per key (within its 24 h
window). The body is `{from, to: [to], subject, text, html?, tags?}`; the reply `{"id": ...}` is
the provider message id.

Failures become `ProviderError`s (Resend's error body is `{statusCode, name, message}`):
  timeouts, connection errors, 5xx, 429 rate_limit_exceeded,
  409 concurrent_idempotent_requests                          -> ProviderUnavailable (retried)
  429 daily_quota_exceeded / monthly_quota_exceeded           -> ProviderQuotaError
  401, 403                                                    -> ProviderAuthError
  any other 4xx (400, 409, 422, ...)                          -> ProviderRejected
The HTTP client is injected (one shared `httpx.AsyncClient` per process; a `MockTransport` in
tests). This module does not retry: the `email.send` job does, with backoff.
"""

from typing import Any

import httpx

from clonechats.providers.email.base import EmailMessage, SentEmail
from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
    json_error_fields,
)

DEFAULT_BASE_URL = "https://api.resend.com"
QUOTA_ERRORS = frozenset({"daily_quota_exceeded", "monthly_quota_exceeded"})
RETRY_LATER_CONFLICTS = frozenset({"concurrent_idempotent_requests"})


class ResendEmailProvider:
    name = "resend"

    def __init__(self, *, api_key: str, from_address: str, http: httpx.AsyncClient,
                 base_url: str = DEFAULT_BASE_URL, timeout_seconds: float = 10.0) -> None:
        if not api_key:
            raise ValueError("Resend needs an API key")
        self._api_key = api_key
        self._from_address = from_address
        self._http = http
        self._url = base_url.rstrip("/") + "/emails"
        self._timeout = timeout_seconds

    def request_body(self, message: EmailMessage) -> dict[str, Any]:
        body: dict[str, Any] = {
            "from": self._from_address,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
        }
        if message.html is not None:
            body["html"] = message.html
        if message.tags:
            body["tags"] = [{"name": k, "value": v} for k, v in message.tags.items()]
        return body

    async def send(self, message: EmailMessage) -> SentEmail:
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Idempotency-Key": message.idempotency_key,
        }
        try:
            response = await self._http.post(self._url, json=self.request_body(message),
                                             headers=headers, timeout=self._timeout)
        except httpx.TimeoutException:
            raise ProviderUnavailable("the request timed out", provider=self.name) from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"could not reach the API ({type(exc).__name__})",
                                      provider=self.name) from None
        if response.is_success:
            return SentEmail(provider_message_id=self._message_id(response))
        raise self._error(response)

    def _message_id(self, response: httpx.Response) -> str:
        try:
            message_id = response.json().get("id")
        except (ValueError, AttributeError):
            message_id = None
        if not isinstance(message_id, str) or not message_id:
            # Accepted but unreadable: a retry with the same key gets the same reply, not a resend.
            raise ProviderUnavailable("the reply carried no message id", provider=self.name,
                                      status=response.status_code)
        return message_id

    def _error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        name, detail = json_error_fields(response, "name")
        fields: dict[str, Any] = {"provider": self.name, "status": status, "code": name}
        if status == 429:
            if name in QUOTA_ERRORS:
                return ProviderQuotaError(detail or "sending quota exhausted", **fields)
            return ProviderUnavailable(detail or "rate limited", **fields,
                                       retry_after=_retry_after(response))
        if status >= 500:
            return ProviderUnavailable(detail or "server error", **fields)
        if status in (401, 403):
            return ProviderAuthError(detail or "not authorised", **fields)
        if status == 409 and name in RETRY_LATER_CONFLICTS:
            return ProviderUnavailable(detail or "the same key is still in flight", **fields)
        return ProviderRejected(detail or "request rejected", **fields)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
