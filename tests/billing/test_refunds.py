"""Refunds by an administrator: the provider refunds, the credits come back off the balance,
never below zero, and an account that already spent them is flagged."""

import re

import pytest

from clonechats.billing import ledger
from tests.billing.helpers import PACK_CREDITS, balance, buyer, choose, order
from tests.factories import csrf, log_in, make_user


@pytest.fixture
async def admin_client(second_client, ctx):
    await make_user(ctx, email="admin@example.com", role="admin")
    assert (await log_in(second_client, email="admin@example.com")).status_code == 200
    return second_client


async def paid_pack(client, ctx, run_jobs) -> tuple[dict, str]:
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    await run_jobs()
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    return user, order_id


async def refund(admin_client, order_id, reason="asked by the buyer"):
    return await admin_client.post(f"/api/v1/admin/billing/orders/{order_id}/refund",
                                   json={"reason": reason}, headers=csrf(admin_client))


async def test_refund_takes_the_credits_back_and_balances_the_ledger(client, ctx, run_jobs,
                                                                     admin_client):
    user, order_id = await paid_pack(client, ctx, run_jobs)
    response = await refund(admin_client, order_id)
    assert response.status_code == 200, response.text
    assert response.json()["order"]["status"] == "refunded"
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "refunded" and stored["refund"]["status"] == "success"
    assert stored["refund"]["credits_taken"] == PACK_CREDITS and stored["refund"]["shortfall"] == 0
    assert await balance(ctx, user["_id"]) == 0
    sandbox = await ctx.db.sandbox_orders.find_one({"_id": order_id})
    assert [r["amount"] for r in sandbox["refunds"]] == ["99.00"]
    entries = await ctx.db.credit_ledger.find({"user_id": user["_id"]}).sort("at", 1).to_list()
    assert [(e["kind"], e["delta"]) for e in entries] == [("grant", 200), ("refund", -200)]
    assert await ledger.check_balances(ctx.db) == []
    assert "billing_flag" not in await ctx.db.users.find_one({"_id": user["_id"]})
    again = await refund(admin_client, order_id)
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_refundable"
    assert await balance(ctx, user["_id"]) == 0


async def test_spent_credits_are_never_taken_below_zero_and_the_account_is_flagged(
        client, ctx, run_jobs, admin_client):
    user, order_id = await paid_pack(client, ctx, run_jobs)
    await ledger.apply(ctx.db, user_id=user["_id"], delta=-150, kind="debit", reason="chat",
                       idempotency_key="chat:1", now=ctx.clock.now())
    response = await refund(admin_client, order_id)
    assert response.status_code == 200
    assert await balance(ctx, user["_id"]) == 0
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["refund"]["credits_taken"] == 50 and stored["refund"]["shortfall"] == 150
    flag = (await ctx.db.users.find_one({"_id": user["_id"]}))["billing_flag"]
    assert flag["order_id"] == order_id and flag["shortfall"] == 150
    entry = await ctx.db.credit_ledger.find_one({"kind": "refund"})
    assert entry["delta"] == -50 and entry["shortfall"] == 150 and entry["balance_after"] == 0
    assert await ledger.check_balances(ctx.db) == []
    page = await client.get("/billing")
    assert "already been used" in page.text


async def test_only_paid_orders_are_refunded(client, ctx, admin_client):
    await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    response = await refund(admin_client, order_id)
    assert response.status_code == 409
    unknown = await refund(admin_client, "ord_000000000000000000000000")
    assert unknown.status_code == 404
    assert (await ctx.db.orders.find_one({"_id": order_id}))["status"] == "created"


async def test_buyers_cannot_refund_themselves(client, ctx, run_jobs):
    user, order_id = await paid_pack(client, ctx, run_jobs)
    response = await client.post(f"/api/v1/admin/billing/orders/{order_id}/refund", json={},
                                 headers=csrf(client))
    assert response.status_code == 403
    assert await balance(ctx, user["_id"]) == PACK_CREDITS


async def test_admin_pages_show_orders_deliveries_and_the_ledger_check(client, ctx, run_jobs,
                                                                       admin_client):
    _, order_id = await paid_pack(client, ctx, run_jobs)
    listing = await admin_client.get("/admin/billing")
    assert listing.status_code == 200 and order_id in listing.text
    assert "every balance equals the sum of its ledger" in listing.text
    detail = await admin_client.get(f"/admin/billing/orders/{order_id}")
    assert detail.status_code == 200 and 'data-result="queued"' in detail.text
    api = (await admin_client.get(f"/api/v1/admin/billing/orders/{order_id}")).json()
    assert api["order"]["status"] == "paid"
    assert [d["result"] for d in api["deliveries"]] == ["queued"]
    paid = (await admin_client.get("/api/v1/admin/billing/orders?status=paid")).json()
    assert [o["order_id"] for o in paid["items"]] == [order_id]
    check = (await admin_client.get("/api/v1/admin/billing/ledger-check")).json()
    assert check == {"ok": True, "mismatches": []}


async def test_admin_replays_a_sandbox_webhook_and_nothing_changes(client, ctx, run_jobs,
                                                                   admin_client):
    user, order_id = await paid_pack(client, ctx, run_jobs)
    replay = await admin_client.post(f"/api/v1/admin/billing/orders/{order_id}/replay-webhook",
                                     headers=csrf(admin_client))
    assert replay.status_code == 202
    await run_jobs()
    # both arrive at the same frozen instant, and MongoDB keeps no order among ties
    results = [d["result"] for d in await ctx.db.webhook_deliveries.find({}).to_list()]
    assert sorted(results) == ["duplicate", "queued"]
    assert await balance(ctx, user["_id"]) == PACK_CREDITS


async def test_a_provider_refusal_gives_the_credits_back(client, ctx, run_jobs, admin_client):
    user, order_id = await paid_pack(client, ctx, run_jobs)
    await ctx.db.sandbox_orders.update_one({"_id": order_id}, {"$set": {"status": "TERMINATED"}})
    response = await refund(admin_client, order_id)
    assert response.status_code == 502 and response.json()["error"]["code"] == "refund_failed"
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "paid" and stored["refund"]["status"] == "failed"
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    entries = await ctx.db.credit_ledger.find({}).to_list()
    assert sorted((e["kind"], e["delta"]) for e in entries) == [
        ("grant", 200), ("grant", 200), ("refund", -200)]
    assert await ledger.check_balances(ctx.db) == []


async def test_admin_order_pages_show_readable_times(client, ctx, run_jobs, admin_client):
    _, order_id = await paid_pack(client, ctx, run_jobs)
    readable = re.compile(r'<time datetime="2026-03-01T12:00:00(\.\d+)?Z" data-local-time '
                          r'title="1 Mar 2026, 12:00 UTC">1 Mar 2026, 12:00 UTC</time>')
    for path in ("/admin/billing", f"/admin/billing/orders/{order_id}"):
        page = (await admin_client.get(path)).text
        assert readable.search(page), path
        shown = re.sub(r'<[^>]+>', "", page)  # the text a reader sees, without attributes
        assert "2026-03-01T" not in shown and "2026-03-01 12:00" not in shown, path
    detail = (await admin_client.get(f"/admin/billing/orders/{order_id}")).text
    assert re.search(r"<dt>Created</dt><dd><time ", detail)
    assert re.search(r"<dt>Paid</dt><dd><time ", detail)
    assert re.search(r'<td class="when"><time ', detail)  # the webhook deliveries
