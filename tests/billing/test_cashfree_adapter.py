"""The Cashfree adapter against a local fake of Cashfree's PG API: request shapes, statuses,
refunds, error mapping, and the webhook signature scheme."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.payments import signing
from clonechats.providers.payments.base import (
    FAILED,
    PAID,
    PENDING,
    REFUND_PENDING,
    REFUND_SUCCESS,
    CheckoutRequest,
)
from clonechats.providers.payments.cashfree import CashfreePaymentProvider
from tests.fakes.cashfree import API_VERSION, APP_ID, BASE_URL, SECRET, FakeCashfree

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def checkout_request(order_id: str = "ord_0123456789abcdef01234567", **overrides):
    values = {"order_id": order_id, "amount": Decimal("299.00"), "currency": "INR",
              "description": "Plus plan, one month (1,000 credits)",
              "customer_id": "0123456789abcdef01234567",
              "customer_email": "buyer@example.com",
              "return_url": f"https://chats.example.com/billing/orders/{order_id}/return",
              "notify_url": "https://chats.example.com/api/v1/billing/webhooks/cashfree",
              "expires_at": NOW + timedelta(days=1), "item_id": "plus"}
    values.update(overrides)
    return CheckoutRequest(**values)


@pytest.fixture
def fake() -> FakeCashfree:
    return FakeCashfree()


@pytest.fixture
async def provider(fake):
    async with fake.client() as http:
        yield CashfreePaymentProvider(app_id=APP_ID, secret_key=SECRET, http=http,
                                      api_version=API_VERSION, base_url=BASE_URL,
                                      previous_secrets=["cfsk_old_secret"])


async def test_create_order_sends_the_documented_request(fake, provider):
    checkout = await provider.create_checkout(checkout_request())
    [request] = fake.history
    assert request.method == "POST" and request.path == "/orders"
    assert request.headers["x-client-id"] == APP_ID
    assert request.headers["x-client-secret"] == SECRET
    assert request.headers["x-api-version"] == "2025-01-01"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-idempotency-key"] == "ord_0123456789abcdef01234567"
    assert request.json == {
        "order_id": "ord_0123456789abcdef01234567",
        "order_amount": 299.0,
        "order_currency": "INR",
        "customer_details": {"customer_id": "0123456789abcdef01234567",
                             "customer_phone": "9999999999",
                             "customer_email": "buyer@example.com"},
        "order_meta": {
            "return_url": "https://chats.example.com/billing/orders/"
                          "ord_0123456789abcdef01234567/return",
            "notify_url": "https://chats.example.com/api/v1/billing/webhooks/cashfree"},
        "order_expiry_time": "2026-03-02T12:00:00+00:00",
        "order_tags": {"item_id": "plus"},
        "order_note": "Plus plan, one month (1,000 credits)",
    }
    assert checkout.payment_session_id.startswith("session_")
    assert checkout.provider_order_id == fake.orders["ord_0123456789abcdef01234567"][
        "cf_order_id"]
    assert checkout.checkout_url == "/billing/checkout/ord_0123456789abcdef01234567"


async def test_plain_http_notify_urls_are_left_out(fake, provider):
    await provider.create_checkout(checkout_request(notify_url="http://127.0.0.1/x"))
    assert "notify_url" not in fake.history[0].json["order_meta"]


async def test_a_retried_create_reads_the_existing_order_back(fake, provider):
    first = await provider.create_checkout(checkout_request())
    again = await provider.create_checkout(checkout_request())
    assert again.payment_session_id == first.payment_session_id
    assert [r.method for r in fake.history] == ["POST", "POST", "GET"]


async def test_order_status_and_payments(fake, provider):
    await provider.create_checkout(checkout_request())
    order_id = "ord_0123456789abcdef01234567"
    assert (await provider.fetch_order(order_id)).status == PENDING
    fake.fail(order_id, now=NOW)
    assert (await provider.fetch_order(order_id)).status == PENDING  # another attempt may come
    fake.pay(order_id, now=NOW)
    paid = await provider.fetch_order(order_id)
    assert paid.status == PAID and paid.amount == Decimal("299") and paid.currency == "INR"
    assert paid.payment_id == fake.payments[order_id][-1]["cf_payment_id"]
    assert [r.path for r in fake.history[-2:]] == [f"/orders/{order_id}",
                                                   f"/orders/{order_id}/payments"]
    fake.expire(order_id)
    assert (await provider.fetch_order(order_id)).status == FAILED


async def test_refunds(fake, provider):
    order_id = "ord_0123456789abcdef01234567"
    await provider.create_checkout(checkout_request())
    fake.pay(order_id, now=NOW)
    done = await provider.refund(order_id=order_id, refund_id="rf_1", amount=Decimal("299.00"),
                                 note="asked by the buyer")
    assert done.status == REFUND_SUCCESS and done.provider_refund_id
    assert fake.history[-1].json == {"refund_amount": 299.0, "refund_id": "rf_1",
                                     "refund_note": "asked by the buyer"}
    assert fake.history[-1].headers["x-idempotency-key"] == "rf_1"
    again = await provider.refund(order_id=order_id, refund_id="rf_1",
                                  amount=Decimal("299.00"), note="again")
    assert again.status == REFUND_SUCCESS and again.provider_refund_id == done.provider_refund_id
    fake.refund_status = "PENDING"
    pending = await provider.refund(order_id=order_id, refund_id="rf_2",
                                    amount=Decimal("1.00"), note="x")
    assert pending.status == REFUND_PENDING
    fetched = await provider.fetch_refund(order_id=order_id, refund_id="rf_2")
    assert fetched.status == REFUND_PENDING


@pytest.mark.parametrize(("status", "error"), [
    (401, ProviderAuthError), (403, ProviderAuthError), (400, ProviderRejected),
    (404, ProviderRejected), (429, ProviderUnavailable), (500, ProviderUnavailable),
    (502, ProviderUnavailable),
])
async def test_error_statuses_become_provider_errors(fake, provider, status, error):
    fake.enqueue_response(status, {"message": "nope", "code": "some_code",
                                   "type": "api_error"})
    with pytest.raises(error) as raised:
        await provider.fetch_order("ord_x")
    assert raised.value.status == status and SECRET not in str(raised.value)


async def test_wrong_credentials_and_timeouts(fake):
    async with fake.client() as http:
        wrong = CashfreePaymentProvider(app_id=APP_ID, secret_key="wrong", http=http,
                                        api_version=API_VERSION, base_url=BASE_URL)
        with pytest.raises(ProviderAuthError):
            await wrong.create_checkout(checkout_request())

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(timeout)) as http:
        slow = CashfreePaymentProvider(app_id=APP_ID, secret_key=SECRET, http=http,
                                       api_version=API_VERSION, base_url=BASE_URL)
        with pytest.raises(ProviderUnavailable):
            await slow.create_checkout(checkout_request())


def test_webhook_signature_matches_cashfrees_scheme(fake):
    delivery = fake.webhook({"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {}}, now=NOW)
    timestamp = delivery.headers["x-webhook-timestamp"]
    assert timestamp == str(int(NOW.timestamp() * 1000))  # milliseconds
    expected = base64.b64encode(hmac.new(SECRET.encode(), timestamp.encode() + delivery.body,
                                         hashlib.sha256).digest()).decode()
    assert delivery.headers["x-webhook-signature"] == expected
    verified = signing.verify(delivery.headers, delivery.body, secrets=[SECRET], now=NOW,
                              max_age=timedelta(hours=24), max_future=timedelta(minutes=5))
    assert verified.signed_at == NOW


def test_the_previous_secret_still_verifies_during_a_rotation(fake, provider):
    delivery = fake.webhook({"type": "X"}, now=NOW, secret="cfsk_old_secret")
    signing.verify(delivery.headers, delivery.body, secrets=provider.webhook_secrets(),
                   now=NOW, max_age=timedelta(hours=1), max_future=timedelta(0))
    with pytest.raises(signing.WebhookRejected):
        signing.verify(delivery.headers, delivery.body, secrets=[SECRET], now=NOW,
                       max_age=timedelta(hours=1), max_future=timedelta(0))


async def test_a_refused_refund_keeps_cashfrees_reason(fake, provider):
    await provider.create_checkout(checkout_request())
    with pytest.raises(ProviderRejected) as refused:
        await provider.refund(order_id="ord_0123456789abcdef01234567", refund_id="rf_1",
                              amount=Decimal("299.00"), note="not paid yet")
    assert refused.value.code == "refund_invalid" and refused.value.status == 400
