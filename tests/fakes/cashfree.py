"""A fake of Cashfree's PG API (2025-01-01) behind `httpx.MockTransport`, with its webhooks.

Like the real API it checks `x-client-id`, `x-client-secret` and `x-api-version` on every call
(401 / 400 `version_missing` otherwise), validates Create Order's body (amount a number >= 1,
currency, `customer_details.customer_id` and `customer_phone`, `order_meta.return_url`),
answers a duplicate `order_id` with 409 `order_already_exists`, and serves Get Order, Get
Payments and Refunds. `pay(order_id)` / `fail(order_id)` play the buyer on hosted checkout and
return the webhook Cashfree would send, signed with the client secret like the real one
(`x-webhook-timestamp` in milliseconds). `enqueue_response()` scripts failures. Every request
lands in `history`.
"""

import base64
import json
import re
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from clonechats.providers.payments import signing
from clonechats.providers.payments.base import SignedDelivery

APP_ID = "TEST1234567890abcdef"
SECRET = "cfsk_ma_test_0123456789abcdef0123456789abcdef"
BASE_URL = "https://sandbox.cashfree.com/pg"
API_VERSION = "2025-01-01"
_ORDER_ID = re.compile(r"^[A-Za-z0-9_-]{3,45}$")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: httpx.Headers
    json: Any


class FakeCashfree:
    def __init__(self, *, app_id: str = APP_ID, secret: str = SECRET,
                 base_url: str = BASE_URL) -> None:
        self.app_id = app_id
        self.secret = secret
        self.base_url = base_url
        self.history: list[RecordedRequest] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, list[dict[str, Any]]] = {}
        self.refunds: dict[str, dict[str, dict[str, Any]]] = {}
        self.refund_status = "SUCCESS"
        self._script: deque[tuple[int, Any]] = deque()

    # -- wiring --------------------------------------------------------------------------
    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport)

    def enqueue_response(self, status: int, body: Any = None) -> None:
        self._script.append((status, body))

    # -- the API -------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path.removeprefix(httpx.URL(self.base_url).path)
        self.history.append(RecordedRequest(request.method, path, request.headers, body))
        if request.headers.get("x-client-id") != self.app_id or \
                request.headers.get("x-client-secret") != self.secret:
            return _error(401, "authentication_failed", "authentication_error")
        if not request.headers.get("x-api-version"):
            return _error(400, "version_missing", "invalid_request_error")
        if self._script:
            status, scripted = self._script.popleft()
            return httpx.Response(status, json=scripted or {"message": "scripted",
                                                            "code": "scripted"})
        return self._route(request.method, path, body)

    def _route(self, method: str, path: str, body: Any) -> httpx.Response:
        parts = [p for p in path.split("/") if p]
        if method == "POST" and parts == ["orders"]:
            return self._create(body)
        if len(parts) >= 2 and parts[0] == "orders":
            order = self.orders.get(parts[1])
            if order is None:
                return _error(404, "order_not_found", "invalid_request_error")
            if method == "GET" and len(parts) == 2:
                return httpx.Response(200, json=order)
            if method == "GET" and parts[2:] == ["payments"]:
                return httpx.Response(200, json=self.payments.get(parts[1], []))
            if method == "POST" and parts[2:] == ["refunds"]:
                return self._refund(order, body)
            if method == "GET" and len(parts) == 4 and parts[2] == "refunds":
                refund = self.refunds.get(parts[1], {}).get(parts[3])
                return httpx.Response(200, json=refund) if refund else \
                    _error(404, "refund_not_found", "invalid_request_error")
        return _error(404, "request_failed", "invalid_request_error", "bad URL")

    def _create(self, body: Any) -> httpx.Response:
        problem = _order_problem(body)
        if problem:
            return _error(400, problem, "invalid_request_error")
        if body["order_id"] in self.orders:
            return _error(409, "order_already_exists", "invalid_request_error")
        order = {
            "cf_order_id": str(2149460000 + len(self.orders)), "order_id": body["order_id"],
            "entity": "order", "order_amount": body["order_amount"],
            "order_currency": body["order_currency"], "order_status": "ACTIVE",
            "payment_session_id": "session_" + secrets.token_urlsafe(40),
            "order_expiry_time": body.get("order_expiry_time"),
            "order_note": body.get("order_note"), "order_tags": body.get("order_tags"),
            "order_meta": {**body.get("order_meta", {}), "payment_methods": None},
            "customer_details": body["customer_details"], "created_at": "2026-03-01T17:30:00+05:30",
        }
        self.orders[body["order_id"]] = order
        return httpx.Response(200, json=order)

    def _refund(self, order: dict[str, Any], body: Any) -> httpx.Response:
        if order["order_status"] != "PAID":
            return _error(400, "refund_invalid", "invalid_request_error")
        refund_id = body.get("refund_id") if isinstance(body, dict) else None
        amount = body.get("refund_amount") if isinstance(body, dict) else None
        if not isinstance(refund_id, str) or not 3 <= len(refund_id) <= 40 or \
                not isinstance(amount, int | float) or amount > order["order_amount"]:
            return _error(400, "refund_amount_invalid", "invalid_request_error")
        existing = self.refunds.setdefault(order["order_id"], {})
        if refund_id in existing:
            return _error(409, "refund_already_exists", "invalid_request_error")
        refund = {"cf_payment_id": self.payments[order["order_id"]][-1]["cf_payment_id"],
                  "cf_refund_id": str(77000 + len(existing)), "refund_id": refund_id,
                  "order_id": order["order_id"], "entity": "refund", "refund_amount": amount,
                  "refund_currency": order["order_currency"],
                  "refund_note": body.get("refund_note"), "refund_status": self.refund_status,
                  "refund_type": "MERCHANT_INITIATED"}
        existing[refund_id] = refund
        return httpx.Response(200, json=refund)

    # -- the buyer and the webhooks ---------------------------------------------------------
    def pay(self, order_id: str, *, now: datetime) -> SignedDelivery:
        return self._attempt(order_id, "SUCCESS", now=now)

    def fail(self, order_id: str, *, now: datetime) -> SignedDelivery:
        return self._attempt(order_id, "FAILED", now=now)

    def _attempt(self, order_id: str, status: str, *, now: datetime) -> SignedDelivery:
        order = self.orders[order_id]
        payment = {"cf_payment_id": str(5114910000 + sum(map(len, self.payments.values()))),
                   "order_id": order_id, "entity": "payment", "payment_status": status,
                   "payment_amount": order["order_amount"],
                   "payment_currency": order["order_currency"], "is_captured": True,
                   "payment_group": "upi", "payment_time": now.isoformat()}
        self.payments.setdefault(order_id, []).append(payment)
        if status == "SUCCESS":
            order["order_status"] = "PAID"
        amount = Decimal(str(order["order_amount"])).quantize(Decimal("0.01"))
        payload = {
            "data": {
                "order": {"order_id": order_id, "order_amount": amount,
                          "order_currency": order["order_currency"], "order_tags": None},
                "payment": {"cf_payment_id": payment["cf_payment_id"],
                            "payment_status": status, "payment_amount": amount,
                            "payment_currency": order["order_currency"],
                            "payment_message": "00::Transaction success" if status ==
                            "SUCCESS" else "Declined", "payment_time": now.isoformat(),
                            "bank_reference": "234928698581", "auth_id": None,
                            "payment_method": {"upi": {"channel": "collect",
                                                       "upi_id": "buyer@okbank"}},
                            "payment_group": "upi"},
                "customer_details": order["customer_details"],
                "payment_gateway_details": {"gateway_name": "CASHFREE"},
            },
            "event_time": now.isoformat(),
            "type": signing.PAYMENT_SUCCESS if status == "SUCCESS" else signing.PAYMENT_FAILED,
        }
        return self.webhook(payload, now=now)

    def webhook(self, payload: dict[str, Any], *, now: datetime,
                secret: str | None = None) -> SignedDelivery:
        event_id = base64.b64encode(secrets.token_bytes(32)).decode()
        return signing.sign_delivery(payload, secret=secret or self.secret, now=now,
                                     event_id=event_id, version=API_VERSION)

    def expire(self, order_id: str) -> None:
        self.orders[order_id]["order_status"] = "EXPIRED"


def _order_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "request_failed"
    if not isinstance(body.get("order_id"), str) or not _ORDER_ID.match(body["order_id"]):
        return "order_id_invalid"
    amount = body.get("order_amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount < 1:
        return "order_amount_invalid"
    if not isinstance(body.get("order_currency"), str):
        return "order_currency_invalid"
    customer = body.get("customer_details")
    if not isinstance(customer, dict) or not customer.get("customer_id") or \
            not re.fullmatch(r"\+?\d{10,13}", str(customer.get("customer_phone", ""))):
        return "customer_details_invalid"
    meta = body.get("order_meta") or {}
    if not str(meta.get("return_url", "")).startswith(("https://", "http://")):
        return "order_meta_invalid"
    return None


def _error(status: int, code: str, kind: str, message: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"message": message or code.replace("_", " "),
                                        "code": code, "type": kind})
