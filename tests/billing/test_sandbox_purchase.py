"""Buying a credit pack through the sandbox: checkout page, signed webhook, credits once."""

import asyncio

from clonechats.billing import ledger
from tests.billing.helpers import (
    PACK,
    PACK_CREDITS,
    balance,
    buyer,
    choose,
    grants,
    order,
    queued_deliveries,
)
from tests.factories import emails_to


async def test_pack_purchase_runs_through_the_webhook_and_grants_once(client, ctx, run_jobs,
                                                                      webhook_client):
    user = await buyer(ctx, client)
    created = await order(client)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"order_id", "status", "provider", "checkout_url"}
    assert body["status"] == "created" and body["provider"] == "sandbox"
    assert body["checkout_url"] == f"/billing/sandbox/checkout/{body['order_id']}"
    order_id = body["order_id"]

    paid = await choose(client, order_id, "pay")
    assert paid.status_code == 303
    assert paid.headers["location"] == f"/billing/orders/{order_id}/return"
    assert await balance(ctx, user["_id"]) == 0  # nothing until the webhook is processed

    [job] = await queued_deliveries(ctx)
    headers = job["payload"]["headers"]
    assert headers["x-webhook-version"] == "2025-01-01"
    assert headers["x-webhook-timestamp"].isdigit() and len(headers["x-webhook-timestamp"]) == 13
    await run_jobs()

    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "paid" and stored["paid_via"] == "webhook"
    assert stored["provider_payment_id"].startswith("sbxpay_")
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    [grant] = await grants(ctx, user["_id"])
    assert grant["_id"] == f"order:{order_id}" and grant["balance_after"] == PACK_CREDITS
    [delivery] = await ctx.db.webhook_deliveries.find({}).to_list()
    assert delivery["result"] == "queued" and delivery["signature_valid"] is True
    assert delivery["event_type"] == "PAYMENT_SUCCESS_WEBHOOK"
    assert delivery["order_id"] == order_id and len(delivery["body_sha256"]) == 64

    [receipt] = await emails_to(ctx, "buyer@example.com")
    assert order_id in receipt["subject"]
    assert "₹99.00" in receipt["text"] and "200" in receipt["text"]

    page = await client.get(f"/billing/orders/{order_id}/return")
    assert page.status_code == 200 and 'data-status="paid"' in page.text
    api = (await client.get(f"/api/v1/billing/orders/{order_id}")).json()
    assert api["status"] == "paid" and api["amount"] == "99.00" and api["currency"] == "INR"

    # The provider delivers the same event again, byte for byte: nothing changes.
    replay = await webhook_client.post("/api/v1/billing/webhooks/sandbox", headers=headers,
                                       content=job["payload"]["body"].encode())
    assert replay.status_code == 200 and replay.json() == {"status": "duplicate"}
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    assert len(await grants(ctx, user["_id"])) == 1
    assert await ctx.db.webhook_deliveries.count_documents({"result": "duplicate"}) == 1
    assert await ledger.check_balances(ctx.db) == []
    await run_jobs()
    assert len(await emails_to(ctx, "buyer@example.com")) == 1


async def test_fifty_concurrent_deliveries_of_one_success_grant_once(client, ctx, app,
                                                                     webhook_client, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    [job] = await queued_deliveries(ctx)
    headers, body = job["payload"]["headers"], job["payload"]["body"].encode()

    answers = await asyncio.gather(*[
        webhook_client.post("/api/v1/billing/webhooks/sandbox", headers=headers, content=body)
        for _ in range(50)
    ])
    assert {a.status_code for a in answers} == {200}
    results = sorted(a.json()["status"] for a in answers)
    assert set(results) <= {"queued", "duplicate"}  # the provider is asked once, in a job
    assert await ctx.db.jobs.count_documents({"kind": "billing.confirm_webhook"}) == 1
    assert await ctx.db.webhook_deliveries.count_documents({}) == 50
    await run_jobs()
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    assert len(await grants(ctx, user["_id"])) == 1
    assert await ledger.check_balances(ctx.db) == []


async def test_fifty_deliveries_with_distinct_event_ids_still_grant_once(client, ctx,
                                                                         webhook_client,
                                                                         run_jobs):
    """Retries that carry new idempotency keys are stopped by the order's own transition."""
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    [job] = await queued_deliveries(ctx)
    body = job["payload"]["body"].encode()
    answers = await asyncio.gather(*[
        webhook_client.post("/api/v1/billing/webhooks/sandbox", content=body, headers={
            **job["payload"]["headers"], "x-idempotency-key": f"retry-{n}"})
        for n in range(50)
    ])
    assert [a.status_code for a in answers] == [200] * 50
    await run_jobs()  # fifty confirmations: the order's own transition grants once
    assert await balance(ctx, user["_id"]) == PACK_CREDITS


async def test_failed_sandbox_payment_fails_the_order_and_grants_nothing(client, ctx,
                                                                         run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "fail")
    await run_jobs()
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "failed" and stored["paid_at"] is None
    assert await balance(ctx, user["_id"]) == 0
    assert await grants(ctx, user["_id"]) == []
    assert await emails_to(ctx, "buyer@example.com") == []
    page = await client.get(f"/billing/orders/{order_id}/return")
    assert 'data-status="failed"' in page.text
    again = await client.get(f"/billing/sandbox/checkout/{order_id}")
    assert again.status_code == 303  # a closed checkout sends the buyer to the status page


async def test_return_page_settles_from_the_provider_before_the_webhook(client, ctx, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    page = await client.get(f"/billing/orders/{order_id}/return")
    assert 'data-status="paid"' in page.text and f"{PACK_CREDITS} credits" in page.text
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    await run_jobs()  # the webhook arrives afterwards: a duplicate
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    [delivery] = await ctx.db.webhook_deliveries.find({}).to_list()
    assert delivery["result"] == "duplicate"


async def test_pending_return_page_asks_the_browser_to_look_again(client, ctx):
    await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    page = await client.get(f"/billing/orders/{order_id}/return")
    assert 'data-status="created"' in page.text and page.headers["refresh"] == "3"


async def test_another_persons_order_is_not_found_anywhere(client, ctx, second_client):
    await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await buyer(ctx, second_client, email="other@example.com")
    for path in (f"/api/v1/billing/orders/{order_id}", f"/billing/orders/{order_id}/return",
                 f"/billing/sandbox/checkout/{order_id}"):
        response = await second_client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 404, path
    page = await second_client.get(f"/billing/sandbox/checkout/{order_id}")
    token = second_client.cookies.get("csrf_token")
    pay = await second_client.post(f"/billing/sandbox/checkout/{order_id}",
                                   data={"csrf_token": token, "outcome": "pay"})
    assert page.status_code == 404 and pay.status_code == 404
    assert (await ctx.db.sandbox_orders.find_one({"_id": order_id}))["status"] == "ACTIVE"


async def test_pricing_page_buys_without_javascript(client, ctx):
    await buyer(ctx, client)
    page = await client.get("/pricing")
    assert page.status_code == 200 and f'value="{PACK}"' in page.text
    token = client.cookies.get("csrf_token")
    bought = await client.post("/billing/buy", data={"csrf_token": token, "item_id": PACK})
    assert bought.status_code == 303
    assert bought.headers["location"].startswith("/billing/sandbox/checkout/ord_")
    missing = await client.post("/billing/buy", data={"csrf_token": token, "item_id": "nope"})
    assert missing.status_code == 404 and "no such plan" in missing.text
    forged = await client.post("/billing/buy", data={"item_id": PACK})
    assert forged.status_code == 403
    assert await ctx.db.orders.count_documents({}) == 1
