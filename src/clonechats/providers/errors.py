"""The one error tree every provider kind raises, whatever the vendor or SDK underneath.

Adapters translate vendor failures at the seam, so services and job handlers never see
`httpx.*`, `openai.*` or an SDK's own exceptions. Each error says whether trying again later can
help (`retryable`); the job runner dead-letters at once any error whose `retryable` is False.

  ProviderUnavailable   timeouts, connection failures, 5xx, rate limits (429)   retryable
  ProviderRejected      the vendor refused this request (4xx): retrying repeats it
  ProviderAuthError     missing, wrong or insufficient credentials (401/403)
  ProviderQuotaError    a plan, daily or monthly quota is used up

Messages name the provider and the vendor's own reason; they never carry credentials.
`json_error_fields` reads that reason from a vendor's JSON error body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx


class ProviderError(Exception):
    retryable: bool = False

    def __init__(self, message: str, *, provider: str, status: int | None = None,
                 code: str | None = None, retry_after: float | None = None,
                 retryable: bool | None = None) -> None:
        self.message = message
        self.provider = provider
        self.status = status
        self.code = code
        self.retry_after = retry_after
        if retryable is not None:
            self.retryable = retryable
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [self.provider]
        if self.status is not None:
            parts.append(str(self.status))
        if self.code:
            parts.append(self.code)
        return f"{' '.join(parts)}: {self.message}"


class ProviderUnavailable(ProviderError):
    """The vendor could not serve the request now; the same request may succeed later."""

    retryable = True


class ProviderRejected(ProviderError):
    """The vendor refused the request as given (invalid field, unknown resource, conflict)."""

    retryable = False


class ProviderAuthError(ProviderError):
    """The credentials are missing, wrong or not allowed to do this."""

    retryable = False


class ProviderQuotaError(ProviderError):
    """A usage quota is exhausted; it resets on the vendor's schedule, not within a retry."""

    retryable = False


def json_error_fields(response: httpx.Response, code_key: str) -> tuple[str | None, str]:
    """The vendor's error code (`code_key` of a JSON object body) and its message (`message`,
    cut to 300 characters); None and "" for whichever is missing, both when the body is no
    JSON object."""
    try:
        body = response.json()
    except ValueError:
        return None, ""
    if not isinstance(body, dict):
        return None, ""
    code, message = body.get(code_key), body.get("message")
    return (code if isinstance(code, str) else None,
            message[:300] if isinstance(message, str) else "")
