"""The offline payment provider: a local checkout page and webhooks signed like Cashfree's.

It plays the provider's side inside our own database (`sandbox_orders`): an order is ACTIVE
until the buyer, on `/billing/sandbox/checkout/{order_id}`, chooses "pay" (PAID) or "fail"
(TERMINATED: a sandbox order takes one attempt). Each outcome produces a webhook in Cashfree's
exact wire format, signed with the sandbox secret, which the billing service delivers to our own
webhook endpoint logic, so the real verification and processing path runs. Nothing is typed in
and no money moves. Subscription renewals are charged without the buyer (a saved mandate), and
refunds succeed at once. Sent webhooks are kept so an operator can replay one.
"""

import base64
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from clonechats.clock import Clock
from clonechats.providers.errors import ProviderRejected
from clonechats.providers.payments import signing
from clonechats.providers.payments.base import (
    FAILED,
    PAID,
    PENDING,
    REFUND_SUCCESS,
    Checkout,
    CheckoutRequest,
    ProviderOrder,
    RefundResult,
    SignedDelivery,
)
from clonechats.storage.expiring import Expiring
from clonechats.storage.indexes import Index

SANDBOX_ORDERS = "sandbox_orders"
COLLECTIONS = (SANDBOX_ORDERS,)
EXPIRING = Expiring(SANDBOX_ORDERS)
INDEXES = [Index(SANDBOX_ORDERS, [("status", 1)])]
CHECKOUT_PATH = "/billing/sandbox/checkout/{order_id}"
WEBHOOK_VERSION = "2025-01-01"
ACTIVE, PAID_STATUS, TERMINATED, EXPIRED = "ACTIVE", "PAID", "TERMINATED", "EXPIRED"
PAY, FAIL = "pay", "fail"


class SandboxOrderClosed(ProviderRejected):
    """The sandbox order was already paid, failed or expired."""


class SandboxPaymentProvider:
    name = "sandbox"
    supports_saved_charges = True

    def __init__(self, *, db: Any, clock: Clock, secret: str) -> None:
        if not secret:
            raise ValueError("the sandbox needs a webhook secret")
        self._db = db
        self._clock = clock
        self._secret = secret

    def webhook_secrets(self) -> list[str]:
        return [self._secret]

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        record: dict[str, Any] = {
            "_id": request.order_id, "amount": str(request.amount), "currency": request.currency,
            "status": ACTIVE, "customer_id": request.customer_id, "description":
            request.description, "session": "session_sbx_" + secrets.token_urlsafe(24),
            "created_at": self._clock.now(), "expires_at": request.expires_at,
            "payment": None, "refunds": [], "deliveries": [],
        }
        try:
            await self._db[SANDBOX_ORDERS].insert_one(record)
        except DuplicateKeyError:
            existing = await self._db[SANDBOX_ORDERS].find_one({"_id": request.order_id})
            if existing is None:  # removed between the insert and this read
                raise
            record = existing
        return Checkout(provider_order_id=f"sbx_{request.order_id}",
                        payment_session_id=record["session"],
                        checkout_url=CHECKOUT_PATH.format(order_id=request.order_id))

    async def _record(self, order_id: str) -> dict[str, Any]:
        record = await self._db[SANDBOX_ORDERS].find_one({"_id": order_id})
        if record is None:
            raise ProviderRejected("order not found", provider=self.name, status=404,
                                   code="order_not_found")
        return record

    def _status_of(self, record: dict[str, Any]) -> str:
        if record["status"] == ACTIVE and self._clock.now() >= record["expires_at"]:
            return EXPIRED
        return record["status"]

    async def fetch_order(self, order_id: str) -> ProviderOrder:
        record = await self._record(order_id)
        raw = self._status_of(record)
        status = {ACTIVE: PENDING, PAID_STATUS: PAID}.get(raw, FAILED)
        payment = record.get("payment") or {}
        return ProviderOrder(order_id=order_id, status=status, raw_status=raw,
                             amount=Decimal(record["amount"]), currency=record["currency"],
                             payment_id=payment.get("cf_payment_id") if status == PAID else None)

    async def complete(self, order_id: str, outcome: str) -> SignedDelivery:
        """The buyer's choice on the checkout page (or a saved-mandate charge): the webhook."""
        if outcome not in (PAY, FAIL):
            raise ValueError("outcome must be 'pay' or 'fail'")
        now = self._clock.now()
        record = await self._record(order_id)
        if self._status_of(record) != ACTIVE:
            raise SandboxOrderClosed("this checkout is closed", provider=self.name, status=409,
                                     code="order_closed")
        payment = {"cf_payment_id": "sbxpay_" + secrets.token_hex(10),
                   "payment_status": "SUCCESS" if outcome == PAY else "FAILED",
                   "payment_time": now.isoformat()}
        updated = await self._db[SANDBOX_ORDERS].find_one_and_update(
            {"_id": order_id, "status": ACTIVE},
            {"$set": {"status": PAID_STATUS if outcome == PAY else TERMINATED,
                      "payment": payment, "completed_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise SandboxOrderClosed("this checkout is closed", provider=self.name, status=409,
                                     code="order_closed")
        delivery = self._payment_webhook(updated, payment, now)
        await self._db[SANDBOX_ORDERS].update_one(
            {"_id": order_id},
            {"$push": {"deliveries": {"headers": delivery.headers,
                                      "body": delivery.body.decode(), "sent_at": now}}},
        )
        return delivery

    async def charge_saved(self, order_id: str) -> SignedDelivery:
        return await self.complete(order_id, PAY)

    async def last_delivery(self, order_id: str) -> SignedDelivery | None:
        record = await self._record(order_id)
        if not record.get("deliveries"):
            return None
        last = record["deliveries"][-1]
        return SignedDelivery(headers=dict(last["headers"]), body=last["body"].encode())

    def _payment_webhook(self, record: dict[str, Any], payment: dict[str, Any],
                         now: datetime) -> SignedDelivery:
        success = payment["payment_status"] == "SUCCESS"
        amount = Decimal(record["amount"])
        data: dict[str, Any] = {
            "order": {"order_id": record["_id"], "order_amount": amount,
                      "order_currency": record["currency"], "order_tags": None},
            "payment": {**payment, "payment_amount": amount,
                        "payment_currency": record["currency"],
                        "payment_message": "Sandbox payment" if success
                        else "The buyer chose to fail the payment",
                        "bank_reference": None, "auth_id": None,
                        "payment_method": {"sandbox": {"channel": "checkout"}},
                        "payment_group": "sandbox"},
            "customer_details": {"customer_id": record["customer_id"], "customer_name": None,
                                 "customer_email": None, "customer_phone": None},
            "payment_gateway_details": {"gateway_name": "SANDBOX",
                                        "gateway_order_id": f"sbx_{record['_id']}",
                                        "gateway_payment_id": payment["cf_payment_id"],
                                        "gateway_status_code": None},
        }
        if not success:
            data["error_details"] = {"error_code": "TRANSACTION_DECLINED",
                                     "error_description": "declined in the sandbox",
                                     "error_reason": "buyer_chose_fail",
                                     "error_source": "customer"}
        payload = {"data": data, "event_time": now.isoformat(),
                   "type": signing.PAYMENT_SUCCESS if success else signing.PAYMENT_FAILED}
        event_id = base64.b64encode(secrets.token_bytes(32)).decode()
        return signing.sign_delivery(payload, secret=self._secret, now=now, event_id=event_id,
                                     version=WEBHOOK_VERSION)

    async def refund(self, *, order_id: str, refund_id: str, amount: Decimal,
                     note: str) -> RefundResult:
        record = await self._record(order_id)
        for existing in record.get("refunds", []):
            if existing["refund_id"] == refund_id:
                return self._refund_result(existing)
        if record["status"] != PAID_STATUS:
            raise ProviderRejected("only a paid order can be refunded", provider=self.name,
                                   status=400, code="refund_invalid")
        refunded = sum((Decimal(r["amount"]) for r in record["refunds"]), Decimal(0))
        if amount <= 0 or refunded + amount > Decimal(record["amount"]):
            raise ProviderRejected("refund amount exceeds the paid amount", provider=self.name,
                                   status=400, code="refund_amount_invalid")
        refund = {"refund_id": refund_id, "cf_refund_id": "sbxrf_" + secrets.token_hex(8),
                  "amount": str(amount), "status": "SUCCESS", "note": note[:100],
                  "processed_at": self._clock.now()}
        await self._db[SANDBOX_ORDERS].update_one(
            {"_id": order_id, "refunds.refund_id": {"$ne": refund_id}},
            {"$push": {"refunds": refund}},
        )
        return self._refund_result(refund)

    async def fetch_refund(self, *, order_id: str, refund_id: str) -> RefundResult:
        record = await self._record(order_id)
        for refund in record.get("refunds", []):
            if refund["refund_id"] == refund_id:
                return self._refund_result(refund)
        raise ProviderRejected("refund not found", provider=self.name, status=404,
                               code="refund_not_found")

    @staticmethod
    def _refund_result(refund: dict[str, Any]) -> RefundResult:
        return RefundResult(refund_id=refund["refund_id"], status=REFUND_SUCCESS,
                            raw_status=refund["status"],
                            provider_refund_id=refund["cf_refund_id"])


async def pseudonymise_customer(db: Any, customer_id: str, pseudonym: str) -> int:
    """The sandbox's own records of a deleted account keep only a pseudonym."""
    result = await db[SANDBOX_ORDERS].update_many(
        {"customer_id": customer_id}, {"$set": {"customer_id": pseudonym, "deliveries": []}})
    return result.modified_count
