"""Verifying fal.ai webhook deliveries, as fal documents it (ED25519 over a JWKS).

A delivery carries `X-Fal-Webhook-Request-Id`, `X-Fal-Webhook-User-Id`,
`X-Fal-Webhook-Timestamp` (unix seconds) and `X-Fal-Webhook-Signature` (hex). The signed
message is the UTF-8 text

    request_id + "\\n" + user_id + "\\n" + timestamp + "\\n" + hex(sha256(raw body))

and the signature verifies with one of the Ed25519 public keys (`kty: OKP`, `crv: Ed25519`,
`x`: base64url) published at the JWKS URL; every key is tried. The keys are fetched through
the injected HTTP client and cached for 24 hours; when no cached key verifies and the cache is
older than five minutes, it is fetched again once (fal rotated its keys). A timestamp more than
300 s away from now, a user id other than ours (when configured), a request id in the body that
differs from the header's, or a body that is not the documented JSON is refused with
`InvalidWebhook`. Deduplication by request id is the caller's: fal redelivers up to 10 times.
"""

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from clonechats.clock import Clock
from clonechats.providers.errors import ProviderUnavailable

DEFAULT_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json"
TOLERANCE_SECONDS = 300
CACHE_FOR = timedelta(hours=24)
REFETCH_AFTER = timedelta(minutes=5)
_HEX = re.compile(r"^[0-9a-fA-F]{128}$")


class InvalidWebhook(Exception):
    """The delivery is not a genuine, fresh fal.ai webhook; `reason` says why (for logs)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class FalWebhookEvent:
    request_id: str
    status: str  # "OK" | "ERROR"
    payload: dict[str, Any] | None
    error: str | None


def signed_message(*, request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([request_id, user_id, timestamp, digest]).encode()


class FalWebhookVerifier:
    def __init__(self, *, http: httpx.AsyncClient, clock: Clock,
                 jwks_url: str = DEFAULT_JWKS_URL, user_id: str | None = None,
                 timeout_seconds: float = 10.0) -> None:
        self._http = http
        self._clock = clock
        self._jwks_url = jwks_url
        self._user_id = user_id
        self._timeout = timeout_seconds
        self._keys: list[Ed25519PublicKey] = []
        self._fetched_at: datetime | None = None

    async def verify(self, body: bytes, headers: Any) -> FalWebhookEvent:
        """The event of a genuine delivery; `InvalidWebhook` otherwise. `headers` is any
        case-insensitive mapping (Starlette's or httpx's)."""
        request_id = headers.get("x-fal-webhook-request-id") or ""
        user_id = headers.get("x-fal-webhook-user-id") or ""
        timestamp = headers.get("x-fal-webhook-timestamp") or ""
        signature = headers.get("x-fal-webhook-signature") or ""
        if not (request_id and user_id and timestamp and signature):
            raise InvalidWebhook("missing_headers")
        if not timestamp.isdigit() or not _HEX.match(signature):
            raise InvalidWebhook("malformed_headers")
        if abs(self._clock.now().timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
            raise InvalidWebhook("stale_timestamp")
        if self._user_id is not None and user_id != self._user_id:
            raise InvalidWebhook("other_user")
        message = signed_message(request_id=request_id, user_id=user_id, timestamp=timestamp,
                                 body=body)
        if not await self._verified(bytes.fromhex(signature), message):
            raise InvalidWebhook("bad_signature")
        return _event(body, request_id)

    async def _verified(self, signature: bytes, message: bytes) -> bool:
        now = self._clock.now()
        if self._fetched_at is None or now - self._fetched_at > CACHE_FOR:
            await self._fetch_keys()
        if _any_key_verifies(self._keys, signature, message):
            return True
        if self._fetched_at is not None and now - self._fetched_at > REFETCH_AFTER:
            await self._fetch_keys()
            return _any_key_verifies(self._keys, signature, message)
        return False

    async def _fetch_keys(self) -> None:
        try:
            response = await self._http.get(self._jwks_url, timeout=self._timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError):
            raise ProviderUnavailable("fal.ai's webhook keys could not be fetched",
                                      provider="fal", code="jwks_unavailable") from None
        keys = []
        for item in document.get("keys", []) if isinstance(document, dict) else []:
            if not (isinstance(item, dict) and item.get("kty") == "OKP"
                    and item.get("crv") == "Ed25519" and isinstance(item.get("x"), str)):
                continue
            try:
                keys.append(Ed25519PublicKey.from_public_bytes(_b64url(item["x"])))
            except ValueError:
                continue
        self._keys = keys
        self._fetched_at = self._clock.now()


def _any_key_verifies(keys: list[Ed25519PublicKey], signature: bytes, message: bytes) -> bool:
    for key in keys:
        try:
            key.verify(signature, message)
            return True
        except InvalidSignature:
            continue
    return False


def _b64url(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _event(body: bytes, request_id: str) -> FalWebhookEvent:
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidWebhook("malformed_body") from None
    if not isinstance(data, dict) or data.get("status") not in ("OK", "ERROR"):
        raise InvalidWebhook("malformed_body")
    if data.get("request_id") not in (None, request_id):
        raise InvalidWebhook("request_id_mismatch")
    payload = data.get("payload")
    error = data.get("error")
    return FalWebhookEvent(request_id, data["status"],
                           payload if isinstance(payload, dict) else None,
                           str(error)[:300] if error else None)
