"""Webhook refusals: each is answered with a 4xx, logged, and grants nothing."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from clonechats.billing import ledger
from clonechats.providers.payments import signing
from clonechats.providers.payments.registry import sandbox_secret
from tests.billing.helpers import balance, buyer, choose, order

URL = "/api/v1/billing/webhooks/sandbox"


def success_payload(order_id: str, amount: str = "99.00", currency: str = "INR",
                    kind: str = signing.PAYMENT_SUCCESS) -> dict:
    return {"data": {"order": {"order_id": order_id, "order_amount": Decimal(amount),
                               "order_currency": currency},
                     "payment": {"cf_payment_id": "sbxpay_forged", "payment_status": "SUCCESS",
                                 "payment_amount": Decimal(amount)}},
            "event_time": "2026-03-01T17:30:00+05:30", "type": kind}


def signed(ctx, payload: dict, *, at=None, secret: str | None = None):
    return signing.sign_delivery(payload, secret=secret or sandbox_secret(
        ctx.settings.billing, ctx.secret), now=at or ctx.clock.now(), event_id="evt-1",
        version="2025-01-01")


@pytest.fixture
async def paid_at_sandbox(client, ctx):
    """A buyer whose sandbox order was paid (the sandbox's own record says PAID), before any
    webhook reaches us."""
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    await ctx.db.jobs.delete_many({})
    return user, order_id


async def assert_refused(ctx, webhook_client, user, order_id, delivery, status, code,
                         *, signature_valid):
    response = await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await balance(ctx, user["_id"]) == 0
    assert (await ctx.db.orders.find_one({"_id": order_id}))["status"] == "created"
    logged = await ctx.db.webhook_deliveries.find({}).sort("received_at", -1).to_list()
    assert logged[0]["result"] == code and logged[0]["status_code"] == status
    assert logged[0]["signature_valid"] is signature_valid
    assert await ctx.db.webhook_events.count_documents({"status": "done"}) == 0


async def test_bad_signature_is_401(ctx, webhook_client, paid_at_sandbox):
    user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload(order_id), secret="not-the-secret")
    await assert_refused(ctx, webhook_client, user, order_id, delivery, 401,
                         "invalid_signature", signature_valid=False)


async def test_a_body_changed_after_signing_is_401(ctx, webhook_client, paid_at_sandbox):
    user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload(order_id))
    reserialised = json.dumps(json.loads(delivery.body)).encode()  # 99.00 becomes 99.0
    assert reserialised != delivery.body
    response = await webhook_client.post(URL, headers=delivery.headers, content=reserialised)
    assert response.status_code == 401
    assert await balance(ctx, user["_id"]) == 0


async def test_missing_signature_headers_are_401(ctx, webhook_client, paid_at_sandbox):
    _user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload(order_id))
    headers = {k: v for k, v in delivery.headers.items() if k != signing.SIGNATURE}
    response = await webhook_client.post(URL, headers=headers, content=delivery.body)
    assert response.status_code == 401
    assert (await ctx.db.webhook_deliveries.find_one({}))["signature_valid"] is False


async def test_stale_and_future_timestamps_are_401(ctx, webhook_client, paid_at_sandbox):
    user, order_id = paid_at_sandbox
    old = signed(ctx, success_payload(order_id), at=ctx.clock.now() - timedelta(days=2))
    await assert_refused(ctx, webhook_client, user, order_id, old, 401, "stale_webhook",
                         signature_valid=True)
    ahead = signed(ctx, success_payload(order_id), at=ctx.clock.now() + timedelta(hours=1))
    await assert_refused(ctx, webhook_client, user, order_id, ahead, 401, "stale_webhook",
                         signature_valid=True)


async def test_unknown_order_is_404(ctx, webhook_client, paid_at_sandbox):
    user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload("ord_000000000000000000000000"))
    await assert_refused(ctx, webhook_client, user, order_id, delivery, 404, "unknown_order",
                         signature_valid=True)


@pytest.mark.parametrize(("amount", "currency"), [("9.90", "INR"), ("99.01", "INR"),
                                                  ("99.00", "USD")])
async def test_amount_or_currency_mismatch_is_422(ctx, webhook_client, paid_at_sandbox,
                                                  amount, currency):
    user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload(order_id, amount, currency))
    await assert_refused(ctx, webhook_client, user, order_id, delivery, 422, "amount_mismatch",
                         signature_valid=True)


async def test_the_same_amount_written_differently_matches(ctx, webhook_client,
                                                           paid_at_sandbox, run_jobs):
    user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload(order_id, "99"))
    response = await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)
    assert response.status_code == 200 and response.json() == {"status": "queued"}
    await run_jobs()
    assert await balance(ctx, user["_id"]) == 200


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"data": {}}',
                                  b'{"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {}}'])
async def test_malformed_but_signed_bodies_are_400(ctx, webhook_client, paid_at_sandbox, body):
    user, _order_id = paid_at_sandbox
    timestamp = str(int(ctx.clock.now().timestamp() * 1000))
    secret = sandbox_secret(ctx.settings.billing, ctx.secret)
    headers = {signing.TIMESTAMP: timestamp,
               signing.SIGNATURE: signing.signature(secret, timestamp, body),
               "content-type": "application/json"}
    response = await webhook_client.post(URL, headers=headers, content=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed_webhook"
    assert await balance(ctx, user["_id"]) == 0
    [logged] = await ctx.db.webhook_deliveries.find({}).to_list()
    assert logged["result"] == "malformed_webhook" and logged["signature_valid"] is True


async def test_a_success_the_provider_does_not_confirm_is_acked_then_checked_later(
        client, ctx, webhook_client, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]  # never paid at the sandbox
    delivery = signed(ctx, success_payload(order_id))
    response = await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)
    assert response.status_code == 200 and response.json() == {"status": "queued"}
    await run_jobs()
    assert await balance(ctx, user["_id"]) == 0  # the provider does not report it paid
    assert (await ctx.db.orders.find_one({"_id": order_id}))["status"] == "created"
    later = await ctx.db.jobs.find({"kind": "billing.reconcile_order",
                                    "status": "queued"}).to_list()
    assert later and all(job["run_at"] > ctx.clock.now() for job in later)  # asked again


async def test_the_ack_never_waits_on_the_provider(client, ctx, webhook_client, run_jobs,
                                                   paid_at_sandbox, monkeypatch):
    user, order_id = paid_at_sandbox
    provider = ctx.payments.get("sandbox")
    real_fetch = provider.fetch_order
    calls = []

    async def stalled_fetch(*args, **kwargs):
        calls.append(args)
        raise AssertionError("the webhook request called the payment provider")

    monkeypatch.setattr(provider, "fetch_order", stalled_fetch)
    delivery = signed(ctx, success_payload(order_id))
    response = await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)
    assert response.status_code == 200 and response.json() == {"status": "queued"}
    assert calls == [] and await balance(ctx, user["_id"]) == 0
    monkeypatch.setattr(provider, "fetch_order", real_fetch)
    await run_jobs()  # the job asks the provider and settles the order
    assert (await ctx.db.orders.find_one({"_id": order_id}))["status"] == "paid"
    assert await balance(ctx, user["_id"]) > 0
    again = await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)
    assert again.json() == {"status": "duplicate"}


async def test_unknown_event_types_are_acknowledged_and_ignored(ctx, webhook_client,
                                                                paid_at_sandbox):
    user, _order_id = paid_at_sandbox
    delivery = signed(ctx, {"type": "SETTLEMENT_SUCCESS", "data": {"settlement": {}}})
    response = await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert await balance(ctx, user["_id"]) == 0


async def test_unknown_provider_is_404_and_logged(ctx, webhook_client):
    response = await webhook_client.post("/api/v1/billing/webhooks/stripe", content=b"{}")
    assert response.status_code == 404
    assert (await ctx.db.webhook_deliveries.find_one({}))["result"] == "unknown_provider"


async def test_a_browser_session_cannot_post_a_webhook_without_csrf(client, ctx,
                                                                     paid_at_sandbox):
    user, order_id = paid_at_sandbox
    delivery = signed(ctx, success_payload(order_id))
    response = await client.post(URL, headers=delivery.headers, content=delivery.body)
    assert response.status_code == 403
    assert await balance(ctx, user["_id"]) == 0
    assert await ledger.check_balances(ctx.db) == []
