"""Cashfree Payment Gateway over its HTTP API (plain httpx; facts in PROVIDERS.md section 1).

Every call sends `x-client-id`, `x-client-secret` and `x-api-version` (a setting, default
`2025-01-01`). Create Order (`POST /orders`) sends our order id, the amount as a JSON number,
the currency, `customer_details` (id, phone, email) and `order_meta` (return URL, notify URL
when it is https), with `x-idempotency-key` = the order id; a 409 `order_already_exists` on a
retry is answered by reading the order back. The reply's `payment_session_id` opens hosted
checkout through Cashfree's JS SDK on our `/billing/checkout/{order_id}` page (since API
2022-09-01 there is no redirect link). Get Order and Get Payments settle orders; refunds use
`POST /orders/{id}/refunds` with our `refund_id`.

Failures become `ProviderError`s: timeouts, connection errors, 5xx and 429 -> Unavailable
(retried by jobs), 401/403 -> AuthError, other 4xx -> Rejected. Never retried here.
"""

from decimal import Decimal
from typing import Any

import httpx

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderRejected,
    ProviderUnavailable,
    json_error_fields,
)
from clonechats.providers.payments.base import (
    FAILED,
    PAID,
    PENDING,
    REFUND_FAILED,
    REFUND_PENDING,
    REFUND_SUCCESS,
    Checkout,
    CheckoutRequest,
    ProviderOrder,
    RefundResult,
)

BASE_URLS = {"sandbox": "https://sandbox.cashfree.com/pg",
             "production": "https://api.cashfree.com/pg"}
CHECKOUT_PATH = "/billing/checkout/{order_id}"
ORDER_STATUSES = {"PAID": PAID, "ACTIVE": PENDING}  # EXPIRED, TERMINATED, ... -> FAILED
REFUND_STATUSES = {"SUCCESS": REFUND_SUCCESS, "PENDING": REFUND_PENDING,
                   "ONHOLD": REFUND_PENDING}  # CANCELLED, FAILED -> REFUND_FAILED
NOTE_LIMITS = (3, 200)


class CashfreePaymentProvider:
    name = "cashfree"
    supports_saved_charges = False  # recurring charges need Cashfree Subscriptions

    def __init__(self, *, app_id: str, secret_key: str, http: httpx.AsyncClient,
                 api_version: str, environment: str = "sandbox", base_url: str | None = None,
                 customer_phone: str = "9999999999", send_notify_url: bool = True,
                 previous_secrets: list[str] | None = None,
                 timeout_seconds: float = 15.0) -> None:
        if not app_id or not secret_key:
            raise ValueError("Cashfree needs an app id and a secret key")
        self._app_id = app_id
        self._secret = secret_key
        self._previous = [s for s in (previous_secrets or []) if s]
        self._http = http
        self._api_version = api_version
        self.environment = environment
        self._base = (base_url or BASE_URLS[environment]).rstrip("/")
        self._phone = customer_phone
        self._send_notify_url = send_notify_url
        self._timeout = timeout_seconds

    def webhook_secrets(self) -> list[str]:
        return [self._secret, *self._previous]

    def _headers(self, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"x-client-id": self._app_id, "x-client-secret": self._secret,
                   "x-api-version": self._api_version, "accept": "application/json"}
        if idempotency_key:
            headers["x-idempotency-key"] = idempotency_key
        return headers

    async def _call(self, method: str, path: str, *, json: Any = None,
                    idempotency_key: str | None = None) -> httpx.Response:
        try:
            response = await self._http.request(method, self._base + path, json=json,
                                                headers=self._headers(idempotency_key),
                                                timeout=self._timeout)
        except httpx.TimeoutException:
            raise ProviderUnavailable("the request timed out", provider=self.name) from None
        except httpx.TransportError as exc:
            raise ProviderUnavailable(f"could not reach the API ({type(exc).__name__})",
                                      provider=self.name) from None
        if response.is_success:
            return response
        raise self._error(response)

    def order_body(self, request: CheckoutRequest) -> dict[str, Any]:
        customer: dict[str, Any] = {"customer_id": request.customer_id,
                                    "customer_phone": self._phone}
        if request.customer_email and 3 <= len(request.customer_email) <= 100:
            customer["customer_email"] = request.customer_email
        meta = {"return_url": request.return_url}
        if self._send_notify_url and request.notify_url.startswith("https://"):
            meta["notify_url"] = request.notify_url
        note = request.description[:NOTE_LIMITS[1]]
        body: dict[str, Any] = {
            "order_id": request.order_id,
            "order_amount": float(request.amount),
            "order_currency": request.currency,
            "customer_details": customer,
            "order_meta": meta,
            "order_expiry_time": request.expires_at.isoformat(timespec="seconds"),
            "order_tags": {"item_id": request.item_id},
        }
        if len(note) >= NOTE_LIMITS[0]:
            body["order_note"] = note
        return body

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        try:
            response = await self._call("POST", "/orders", json=self.order_body(request),
                                        idempotency_key=request.order_id)
            entity = _json(response, self.name)
        except ProviderRejected as exc:
            if exc.status != 409:
                raise
            entity = _json(await self._call("GET", f"/orders/{request.order_id}"), self.name)
        session = entity.get("payment_session_id")
        if not isinstance(session, str) or not session:
            raise ProviderUnavailable("the order came back without a payment session",
                                      provider=self.name)
        return Checkout(provider_order_id=str(entity.get("cf_order_id") or request.order_id),
                        payment_session_id=session,
                        checkout_url=CHECKOUT_PATH.format(order_id=request.order_id))

    async def fetch_order(self, order_id: str) -> ProviderOrder:
        entity = _json(await self._call("GET", f"/orders/{order_id}"), self.name)
        raw = str(entity.get("order_status") or "")
        status = ORDER_STATUSES.get(raw, FAILED)
        payment_id = None
        if status == PAID:
            payments = _json(await self._call("GET", f"/orders/{order_id}/payments"), self.name)
            good = [p for p in payments if isinstance(p, dict)
                    and p.get("payment_status") == "SUCCESS"] if isinstance(payments, list) else []
            payment_id = str(good[0].get("cf_payment_id")) if good else None
        amount = entity.get("order_amount")
        return ProviderOrder(order_id=order_id, status=status, raw_status=raw,
                             amount=Decimal(str(amount)) if amount is not None else None,
                             currency=entity.get("order_currency"), payment_id=payment_id)

    async def refund(self, *, order_id: str, refund_id: str, amount: Decimal,
                     note: str) -> RefundResult:
        body: dict[str, Any] = {"refund_amount": float(amount), "refund_id": refund_id}
        if len(note[:100]) >= 3:
            body["refund_note"] = note[:100]
        try:
            response = await self._call("POST", f"/orders/{order_id}/refunds", json=body,
                                        idempotency_key=refund_id)
        except ProviderRejected as refused:
            # A retry of a refund that went through is refused (the exact code for a reused
            # refund_id is not documented): the refund itself, if it exists, is the answer.
            try:
                return await self.fetch_refund(order_id=order_id, refund_id=refund_id)
            except ProviderRejected:
                raise refused from None
        return _refund(_json(response, self.name), refund_id)

    async def fetch_refund(self, *, order_id: str, refund_id: str) -> RefundResult:
        response = await self._call("GET", f"/orders/{order_id}/refunds/{refund_id}")
        return _refund(_json(response, self.name), refund_id)

    def _error(self, response: httpx.Response) -> ProviderError:
        status = response.status_code
        code, message = json_error_fields(response, "code")
        fields: dict[str, Any] = {"provider": self.name, "status": status, "code": code}
        if status == 429:
            return ProviderUnavailable(message or "rate limited", **fields,
                                       retry_after=_retry_after(response))
        if status >= 500:
            return ProviderUnavailable(message or "server error", **fields)
        if status in (401, 403):
            return ProviderAuthError(message or "not authorised", **fields)
        return ProviderRejected(message or "request rejected", **fields)


def _json(response: httpx.Response, provider: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ProviderUnavailable("the reply was not JSON", provider=provider,
                                  status=response.status_code) from None


def _refund(entity: Any, refund_id: str) -> RefundResult:
    raw = str(entity.get("refund_status") or "") if isinstance(entity, dict) else ""
    cf_id = entity.get("cf_refund_id") if isinstance(entity, dict) else None
    return RefundResult(refund_id=refund_id, status=REFUND_STATUSES.get(raw, REFUND_FAILED),
                        raw_status=raw, provider_refund_id=str(cf_id) if cf_id else None)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("x-ratelimit-retry") or response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
