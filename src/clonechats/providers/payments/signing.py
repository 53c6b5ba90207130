"""Cashfree's webhook wire format: signing, verification and parsing (PG API 2025-01-01).

Headers: `x-webhook-signature`, `x-webhook-timestamp` (milliseconds since the epoch),
`x-webhook-version`, `x-webhook-attempt`, `x-idempotency-key`. The signature is
`base64(HMAC-SHA256(secret, timestamp + raw_body))`, the secret being the PG client secret.
It is computed over the raw bytes as received: re-serialising the JSON (170.00 -> 170) breaks it.

`verify` checks the signature in constant time against each accepted secret, then the
timestamp window (Cashfree documents none; a retry may come 30+ minutes after the first try, so
the window is a setting). `parse_event` reads the JSON only after that, with amounts as exact
`Decimal`s.
"""

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from clonechats.providers.payments.base import SignedDelivery, header

SIGNATURE = "x-webhook-signature"
TIMESTAMP = "x-webhook-timestamp"
VERSION = "x-webhook-version"
ATTEMPT = "x-webhook-attempt"
IDEMPOTENCY_KEY = "x-idempotency-key"

PAYMENT_SUCCESS = "PAYMENT_SUCCESS_WEBHOOK"
PAYMENT_FAILED = "PAYMENT_FAILED_WEBHOOK"
PAYMENT_USER_DROPPED = "PAYMENT_USER_DROPPED_WEBHOOK"
REFUND_STATUS = "REFUND_STATUS_WEBHOOK"
PAYMENT_EVENTS = frozenset({PAYMENT_SUCCESS, PAYMENT_FAILED, PAYMENT_USER_DROPPED})
MAX_TEXT = 200
_DECIMAL_MARK = re.compile(r'"\\u0000dec:(-?\d+(?:\.\d+)?)"')


class WebhookRejected(Exception):
    """A delivery that must not be processed: `code` says why, `status` what to answer."""

    def __init__(self, code: str, message: str, status: int) -> None:
        self.code = code
        self.message = message
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class Verified:
    signed_at: datetime


@dataclass(frozen=True)
class WebhookEvent:
    type: str
    order_id: str | None
    order_amount: Decimal | None
    order_currency: str | None
    payment_id: str | None
    payment_status: str | None
    refund_id: str | None
    refund_status: str | None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def check_signature(headers: Mapping[str, str], body: bytes, *, secrets: list[str]) -> str:
    """Compare the signature with each accepted secret in constant time; the timestamp."""
    given = header(headers, SIGNATURE)
    timestamp = header(headers, TIMESTAMP)
    if not given or not timestamp:
        raise WebhookRejected("invalid_signature", "The webhook is not signed.", 401)
    matched = False
    for secret in secrets:
        expected = signature(secret, timestamp, body)
        matched = hmac.compare_digest(expected.encode(), given.encode()) or matched
    if not matched:
        raise WebhookRejected("invalid_signature", "The webhook signature does not match.", 401)
    return timestamp


def check_timestamp(timestamp: str, *, now: datetime, max_age: timedelta,
                    max_future: timedelta) -> datetime:
    """The signing time (from milliseconds), if inside the accepted window."""
    if not timestamp.isdigit() or len(timestamp) > 16:
        raise WebhookRejected("malformed_webhook", "The webhook timestamp is not a number.", 400)
    signed_at = datetime.fromtimestamp(int(timestamp) / 1000, UTC)
    if signed_at < now - max_age or signed_at > now + max_future:
        raise WebhookRejected("stale_webhook", "The webhook timestamp is outside the accepted "
                              "window.", 401)
    return signed_at


def verify(headers: Mapping[str, str], body: bytes, *, secrets: list[str], now: datetime,
           max_age: timedelta, max_future: timedelta) -> Verified:
    """Check the signature (any accepted secret), then the timestamp window."""
    timestamp = check_signature(headers, body, secrets=secrets)
    return Verified(signed_at=check_timestamp(timestamp, now=now, max_age=max_age,
                                              max_future=max_future))


def parse_event(body: bytes) -> WebhookEvent:
    """The fields we act on, read defensively (ids may be numbers or strings)."""
    try:
        document = json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("malformed_webhook", "The webhook body is not JSON.", 400) from None
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise WebhookRejected("malformed_webhook", "The webhook has no event type.", 400)
    data: dict[str, Any] = document["data"] if isinstance(document.get("data"), dict) else {}
    order = _object(data, "order")
    payment = _object(data, "payment")
    refund = _object(data, "refund")
    event = WebhookEvent(
        type=document["type"][:MAX_TEXT],
        order_id=_text(order.get("order_id")) or _text(refund.get("order_id")),
        order_amount=_amount(order.get("order_amount")),
        order_currency=_text(order.get("order_currency")),
        payment_id=_text(payment.get("cf_payment_id")),
        payment_status=_text(payment.get("payment_status")),
        refund_id=_text(refund.get("refund_id")),
        refund_status=_text(refund.get("refund_status")),
    )
    if event.type in PAYMENT_EVENTS and not (event.order_id and event.order_amount is not None
                                             and event.order_currency):
        raise WebhookRejected("malformed_webhook", "The payment webhook lacks its order.", 400)
    if event.type == REFUND_STATUS and not (event.order_id and event.refund_id):
        raise WebhookRejected("malformed_webhook", "The refund webhook lacks its refund.", 400)
    return event


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | Decimal | str):
        text = str(value).strip()
        return text[:MAX_TEXT] or None
    return None


def _amount(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        amount = Decimal(str(value)) if isinstance(value, int | Decimal | str) else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def encode_body(payload: dict[str, Any]) -> bytes:
    """JSON as Cashfree writes it: `Decimal` amounts as numbers with their exact digits."""

    def mark(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"\x00dec:{value}"
        raise TypeError(f"cannot encode {type(value).__name__}")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return mark(value) if isinstance(value, Decimal) else value

    text = json.dumps(walk(payload), separators=(",", ":"))
    return _DECIMAL_MARK.sub(r"\1", text).encode()


def sign_delivery(payload: dict[str, Any], *, secret: str, now: datetime, event_id: str,
                  version: str, attempt: int = 1) -> SignedDelivery:
    body = encode_body(payload)
    timestamp = str(int(now.timestamp() * 1000))
    headers = {
        "content-type": "application/json",
        TIMESTAMP: timestamp,
        SIGNATURE: signature(secret, timestamp, body),
        VERSION: version,
        ATTEMPT: str(attempt),
        IDEMPOTENCY_KEY: event_id,
    }
    return SignedDelivery(headers=headers, body=body)
