"""The app with Cashfree as its provider, against the local fake: orders, hosted checkout,
webhooks (signature failures, replays, retried attempts), reconciliation, refunds, renewals."""

from decimal import Decimal

import pytest

from clonechats.billing import ledger, subscriptions
from tests.billing.conftest import cashfree_settings
from tests.billing.helpers import balance, buyer, grants, order
from tests.factories import csrf, log_in, make_user

URL = "/api/v1/billing/webhooks/cashfree"
PLUS_CREDITS = 1000


@pytest.fixture
def settings(tmp_path):
    return cashfree_settings(tmp_path, cashfree_previous_secret_keys=["cfsk_previous_key"])


async def deliver(webhook_client, delivery):
    return await webhook_client.post(URL, headers=delivery.headers, content=delivery.body)


async def test_order_goes_to_cashfree_with_its_return_and_notify_urls(
        client, ctx, use_cashfree_fake):
    user = await buyer(ctx, client)
    response = await order(client)
    assert response.status_code == 201
    body = response.json()
    order_id = body["order_id"]
    assert body["provider"] == "cashfree"
    assert body["checkout_url"] == f"/billing/checkout/{order_id}"
    sent = use_cashfree_fake.history[0].json
    assert sent["customer_details"]["customer_id"] == user["_id"]
    assert sent["customer_details"]["customer_email"] == "buyer@example.com"
    assert sent["order_meta"]["return_url"] == \
        f"https://chats.example.com/billing/orders/{order_id}/return"
    assert sent["order_meta"]["notify_url"] == "https://chats.example.com" + URL
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["payment_session_id"] == use_cashfree_fake.orders[order_id][
        "payment_session_id"]

    page = await client.get(body["checkout_url"])
    assert page.status_code == 200
    assert f'data-session="{stored["payment_session_id"]}"' in page.text
    assert 'data-mode="sandbox"' in page.text
    assert "https://sdk.cashfree.com/js/v3/cashfree.js" in page.text
    assert "script-src 'self' https://sdk.cashfree.com" in page.headers["content-security-policy"]
    home = await client.get("/")
    assert "sdk.cashfree.com" not in home.headers["content-security-policy"]


async def test_cashfree_unavailable_fails_the_order_with_a_502(client, ctx, use_cashfree_fake):
    await buyer(ctx, client)
    use_cashfree_fake.enqueue_response(503, {"message": "down", "code": "api_error"})
    response = await order(client)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "payment_provider_unavailable"
    [stored] = await ctx.db.orders.find({}).to_list()
    assert stored["status"] == "failed"


async def test_signed_success_grants_once_and_replays_change_nothing(
        client, ctx, clock, use_cashfree_fake, webhook_client, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    delivery = use_cashfree_fake.pay(order_id, now=clock.now())
    first = await deliver(webhook_client, delivery)
    assert first.status_code == 200 and first.json() == {"status": "queued"}
    await run_jobs()  # the provider is asked in a job, not while the webhook waits
    assert await balance(ctx, user["_id"]) == 200
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["provider_payment_id"] == use_cashfree_fake.payments[order_id][-1][
        "cf_payment_id"]
    clock.advance(minutes=2)  # Cashfree's first retry
    replay = await deliver(webhook_client, delivery)
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert len(await grants(ctx, user["_id"])) == 1
    logged = await ctx.db.webhook_deliveries.find({}).sort("received_at", 1).to_list()
    assert [d["result"] for d in logged] == ["queued", "duplicate"]
    assert all("upi" not in str(d) for d in logged)  # the payment method is not kept


async def test_signature_failures(client, ctx, clock, use_cashfree_fake, webhook_client):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    genuine = use_cashfree_fake.pay(order_id, now=clock.now())
    forged = use_cashfree_fake.webhook(
        {"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {}}, now=clock.now(), secret="guess")
    tampered = genuine.body.replace(b'"order_amount":99.00', b'"order_amount":1.00')
    assert tampered != genuine.body
    for headers, body in [(forged.headers, genuine.body), (genuine.headers, tampered),
                          ({**genuine.headers, "x-webhook-timestamp": str(int(
                              clock.now().timestamp() * 1000) + 1)}, genuine.body)]:
        response = await webhook_client.post(URL, headers=headers, content=body)
        assert response.status_code == 401
    assert await balance(ctx, user["_id"]) == 0
    assert await ctx.db.webhook_deliveries.count_documents({"signature_valid": False}) == 3


async def test_the_previous_secret_is_accepted_during_a_rotation(
        client, ctx, clock, use_cashfree_fake, webhook_client, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    use_cashfree_fake.pay(order_id, now=clock.now())
    genuine_payload = _success_payload(use_cashfree_fake, order_id)
    old = use_cashfree_fake.webhook(genuine_payload, now=clock.now(), secret="cfsk_previous_key")
    assert (await deliver(webhook_client, old)).json() == {"status": "queued"}
    await run_jobs()
    assert await balance(ctx, user["_id"]) == 200
    unknown = use_cashfree_fake.webhook(genuine_payload, now=clock.now(), secret="cfsk_never")
    assert (await deliver(webhook_client, unknown)).status_code == 401


def _success_payload(fake, order_id: str) -> dict:
    order = fake.orders[order_id]
    return {"type": "PAYMENT_SUCCESS_WEBHOOK", "data": {
        "order": {"order_id": order_id, "order_amount": Decimal(str(order["order_amount"])),
                  "order_currency": order["order_currency"]},
        "payment": {"cf_payment_id": fake.payments[order_id][-1]["cf_payment_id"],
                    "payment_status": "SUCCESS"}}}


async def test_failed_attempts_leave_the_order_open_until_a_success(
        client, ctx, clock, use_cashfree_fake, webhook_client, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    failed = await deliver(webhook_client, use_cashfree_fake.fail(order_id, now=clock.now()))
    assert failed.status_code == 200
    await run_jobs()
    assert (await ctx.db.orders.find_one({"_id": order_id}))["status"] == "created"
    clock.advance(minutes=3)
    paid = await deliver(webhook_client, use_cashfree_fake.pay(order_id, now=clock.now()))
    assert paid.json() == {"status": "queued"}
    await run_jobs()
    assert await balance(ctx, user["_id"]) == 200


async def test_reconciliation_settles_paid_and_expired_orders_without_webhooks(
        client, ctx, clock, run_jobs, use_cashfree_fake):
    user = await buyer(ctx, client)
    paid_id = (await order(client)).json()["order_id"]
    open_id = (await order(client)).json()["order_id"]
    use_cashfree_fake.pay(paid_id, now=clock.now())  # its webhook is lost
    clock.advance(minutes=14)
    await run_jobs()
    assert (await ctx.db.orders.find_one({"_id": paid_id}))["status"] == "created"
    clock.advance(minutes=2)
    await run_jobs()
    stored = await ctx.db.orders.find_one({"_id": paid_id})
    assert stored["status"] == "paid" and stored["paid_via"] == "reconcile"
    assert await balance(ctx, user["_id"]) == 200
    assert (await ctx.db.orders.find_one({"_id": open_id}))["status"] == "created"
    use_cashfree_fake.expire(open_id)
    clock.advance(minutes=31)
    await run_jobs()
    expired = await ctx.db.orders.find_one({"_id": open_id})
    assert expired["status"] == "failed" and expired["failure_reason"] == "provider: expired"
    assert await balance(ctx, user["_id"]) == 200
    assert await ledger.check_balances(ctx.db) == []


async def test_return_page_asks_cashfree_for_the_true_status(client, ctx, clock,
                                                             use_cashfree_fake):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    pending = await client.get(f"/billing/orders/{order_id}/return")
    assert 'data-status="created"' in pending.text
    use_cashfree_fake.pay(order_id, now=clock.now())
    paid = await client.get(f"/billing/orders/{order_id}/return")
    assert 'data-status="paid"' in paid.text
    assert await balance(ctx, user["_id"]) == 200


async def test_pending_refund_completes_on_the_refund_webhook(
        client, ctx, clock, use_cashfree_fake, webhook_client, second_client, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await deliver(webhook_client, use_cashfree_fake.pay(order_id, now=clock.now()))
    await run_jobs()
    await make_user(ctx, email="admin@example.com", role="admin")
    await log_in(second_client, email="admin@example.com")
    use_cashfree_fake.refund_status = "PENDING"
    response = await second_client.post(f"/api/v1/admin/billing/orders/{order_id}/refund",
                                        json={"reason": "duplicate purchase"},
                                        headers=csrf(second_client))
    assert response.status_code == 200
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "paid" and stored["refund"]["status"] == "pending"
    assert await balance(ctx, user["_id"]) == 0  # credits are taken back at once
    refund_id = stored["refund"]["refund_id"]
    refund = dict(use_cashfree_fake.refunds[order_id][refund_id], refund_status="SUCCESS")
    delivery = use_cashfree_fake.webhook({"data": {"refund": refund}, "type":
                                          "REFUND_STATUS_WEBHOOK"}, now=clock.now())
    answer = await deliver(webhook_client, delivery)
    assert answer.json() == {"status": "accepted"}
    done = await ctx.db.orders.find_one({"_id": order_id})
    assert done["status"] == "refunded" and done["refund"]["status"] == "success"
    assert await ledger.check_balances(ctx.db) == []


async def test_with_cashfree_a_renewal_waits_for_the_buyer(client, ctx, run_jobs, clock,
                                                           use_cashfree_fake, webhook_client):
    fake = use_cashfree_fake
    user = await buyer(ctx, client)
    first = (await order(client, "plus")).json()["order_id"]
    await deliver(webhook_client, fake.pay(first, now=clock.now()))
    await run_jobs()
    sub = await subscriptions.live_for_user(ctx.db, user["_id"])
    clock.advance(days=32)
    await run_jobs()
    due = await subscriptions.get(ctx.db, sub["_id"])
    assert due["status"] == "payment_due" and due["renewal_order_id"]
    assert (await ctx.db.users.find_one({"_id": user["_id"]}))["plan"] == "free"
    assert await balance(ctx, user["_id"]) == 0
    assert due["renewal_order_id"] in fake.orders
    await log_in(client, email="buyer@example.com")
    page = await client.get("/billing")
    assert "Pay to renew" in page.text
    assert f'href="/billing/checkout/{due["renewal_order_id"]}"' in page.text

    clock.advance(days=2)
    answer = await deliver(webhook_client, fake.pay(due["renewal_order_id"], now=clock.now()))
    assert answer.json() == {"status": "queued"}
    await run_jobs()
    back = await subscriptions.get(ctx.db, sub["_id"])
    assert back["status"] == "active" and back["period"] == 2
    assert back["current_period_start"] == clock.now()
    assert (await ctx.db.users.find_one({"_id": user["_id"]}))["plan"] == "plus"
    assert await balance(ctx, user["_id"]) == PLUS_CREDITS
    assert await ledger.check_balances(ctx.db) == []


async def test_an_unpaid_renewal_ends_the_plan_when_its_order_expires(
        client, ctx, run_jobs, clock, use_cashfree_fake, webhook_client):
    user = await buyer(ctx, client)
    first = (await order(client, "plus")).json()["order_id"]
    await deliver(webhook_client, use_cashfree_fake.pay(first, now=clock.now()))
    await run_jobs()
    sub = await subscriptions.live_for_user(ctx.db, user["_id"])
    clock.advance(days=32)
    await run_jobs()
    renewal = (await subscriptions.get(ctx.db, sub["_id"]))["renewal_order_id"]
    use_cashfree_fake.expire(renewal)
    clock.advance(days=3)
    await run_jobs()
    assert (await ctx.db.orders.find_one({"_id": renewal}))["status"] == "failed"
    ended = await subscriptions.get(ctx.db, sub["_id"])
    assert ended["status"] == "ended" and ended["end_reason"] == "renewal not paid"
