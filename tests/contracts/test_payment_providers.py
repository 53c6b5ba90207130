"""One contract for every payment provider: checkout, status, refunds and signed webhooks.

Runs against the sandbox (on the test database) and Cashfree (on the local fake of its API).
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.payments import signing
from clonechats.providers.payments.base import (
    PAID,
    PENDING,
    REFUND_SUCCESS,
    CheckoutRequest,
    PaymentProvider,
    SignedDelivery,
)
from clonechats.providers.payments.cashfree import CashfreePaymentProvider
from clonechats.providers.payments.sandbox import SandboxPaymentProvider
from tests.fakes.cashfree import API_VERSION, APP_ID, BASE_URL, SECRET, FakeCashfree

ORDER_ID = "ord_00112233445566778899aabb"


@dataclass
class Subject:
    provider: PaymentProvider
    pay: Callable[[str], Awaitable[SignedDelivery]]


@pytest.fixture(params=["sandbox", "cashfree"])
async def subject(request, ctx) -> AsyncIterator[Subject]:
    if request.param == "sandbox":
        sandbox = SandboxPaymentProvider(db=ctx.db, clock=ctx.clock, secret="s" * 40)
        yield Subject(sandbox, lambda order_id: sandbox.complete(order_id, "pay"))
        return
    fake = FakeCashfree()

    async def pay(order_id: str) -> SignedDelivery:
        return fake.pay(order_id, now=ctx.clock.now())

    async with fake.client() as http:
        yield Subject(CashfreePaymentProvider(app_id=APP_ID, secret_key=SECRET, http=http,
                                              api_version=API_VERSION, base_url=BASE_URL), pay)


def request_for(ctx: Any) -> CheckoutRequest:
    return CheckoutRequest(
        order_id=ORDER_ID, amount=Decimal("99.00"), currency="INR", description="Credit pack",
        customer_id="00112233445566778899aabb", customer_email="buyer@example.com",
        return_url=f"https://chats.example.com/billing/orders/{ORDER_ID}/return",
        notify_url="https://chats.example.com/api/v1/billing/webhooks/x",
        expires_at=ctx.clock.now() + timedelta(days=1), item_id="pack_small")


async def test_checkout_pay_and_refund(subject, ctx):
    provider = subject.provider
    checkout = await provider.create_checkout(request_for(ctx))
    assert checkout.payment_session_id and checkout.checkout_url.startswith("/billing/")
    again = await provider.create_checkout(request_for(ctx))
    assert again.payment_session_id == checkout.payment_session_id
    assert (await provider.fetch_order(ORDER_ID)).status == PENDING

    delivery = await subject.pay(ORDER_ID)
    paid = await provider.fetch_order(ORDER_ID)
    assert paid.status == PAID and paid.amount == Decimal("99") and paid.currency == "INR"
    assert paid.payment_id

    signing.verify(delivery.headers, delivery.body, secrets=provider.webhook_secrets(),
                   now=ctx.clock.now(), max_age=timedelta(minutes=5),
                   max_future=timedelta(minutes=5))
    event = signing.parse_event(delivery.body)
    assert event.type == signing.PAYMENT_SUCCESS and event.order_id == ORDER_ID
    assert event.order_amount == Decimal("99.00") and event.payment_status == "SUCCESS"
    assert event.payment_id == paid.payment_id

    refund = await provider.refund(order_id=ORDER_ID, refund_id="rf_contract_1",
                                   amount=Decimal("99.00"), note="contract test")
    assert refund.status == REFUND_SUCCESS
    again_refund = await provider.refund(order_id=ORDER_ID, refund_id="rf_contract_1",
                                         amount=Decimal("99.00"), note="contract test")
    assert again_refund.provider_refund_id == refund.provider_refund_id
    fetched = await provider.fetch_refund(order_id=ORDER_ID, refund_id="rf_contract_1")
    assert fetched.status == REFUND_SUCCESS


async def test_unknown_orders_are_rejected(subject):
    with pytest.raises(ProviderRejected) as raised:
        await subject.provider.fetch_order("ord_unknown_000")
    assert raised.value.status == 404
