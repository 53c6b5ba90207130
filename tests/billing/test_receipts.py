"""Receipts: a paid order's page and JSON, for its buyer only; unpaid orders have none, and a
refund shows on the receipt once it is made."""

from html import unescape

import pytest

from clonechats.billing import receipts, subscriptions
from tests.billing.helpers import buyer, choose, order
from tests.billing.test_refunds import refund
from tests.factories import log_in, make_user


@pytest.fixture
async def admin_client(second_client, ctx):
    await make_user(ctx, email="admin@example.com", role="admin")
    assert (await log_in(second_client, email="admin@example.com")).status_code == 200
    return second_client


async def paid_order(client, ctx, run_jobs, item="pack_small") -> tuple[dict, dict]:
    user = await buyer(ctx, client)
    order_id = (await order(client, item)).json()["order_id"]
    await choose(client, order_id, "pay")
    await run_jobs()
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "paid"
    return user, stored


def page_path(order_id: str) -> str:
    return f"/billing/orders/{order_id}/receipt"


def api_path(order_id: str) -> str:
    return f"/api/v1/billing/orders/{order_id}/receipt"


async def test_the_buyer_sees_a_receipt_of_a_paid_pack(client, ctx, run_jobs):
    user, stored = await paid_order(client, ctx, run_jobs)
    response = await client.get(page_path(stored["_id"]))
    assert response.status_code == 200
    text = unescape(response.text)
    number = receipts.receipt_number(stored["_id"])
    assert number == "R-" + stored["_id"].removeprefix("ord_").upper()
    for shown in (ctx.settings.operator_name, number, "buyer@example.com", "200 credits",
                  "₹99.00", "Total paid (INR)", "Sandbox (test payments", stored["_id"],
                  stored["provider_payment_id"], "Print or save as PDF",
                  "/static/js/print-receipt.js"):
        assert shown in text, shown
    assert stored["provider_payment_id"]
    assert "data-local-time" in text and " UTC</time>" in text  # local once the script runs
    assert "receipt-refund" not in text
    assert "<script>" not in text  # the page's CSP allows script files only

    api = await client.get(api_path(stored["_id"]))
    assert api.status_code == 200
    body = api.json()
    assert body["number"] == number and body["buyer_email"] == user["email"]
    assert (body["amount"], body["currency"], body["credits"]) == ("99.00", "INR", 200)
    assert body["provider"] == "sandbox"
    assert body["provider_payment_id"] == stored["provider_payment_id"]
    assert body["issued_at"].startswith(stored["paid_at"].isoformat()[:19])
    assert body["refund"] is None
    assert not {"card", "card_number", "upi", "bank"} & set(body)


async def test_the_order_list_and_return_page_link_to_the_receipt(client, ctx, run_jobs):
    _, stored = await paid_order(client, ctx, run_jobs)
    link = f'href="{page_path(stored["_id"])}"'
    assert link in (await client.get("/billing")).text
    assert link in (await client.get(f"/billing/orders/{stored['_id']}/return")).text


async def test_another_person_and_an_unknown_id_get_the_same_404(client, ctx, run_jobs,
                                                                 second_client):
    _, stored = await paid_order(client, ctx, run_jobs)
    await make_user(ctx, email="other@example.com")
    assert (await log_in(second_client, email="other@example.com")).status_code == 200
    answers = []
    for order_id in (stored["_id"], "ord_000000000000000000000000"):
        page = await second_client.get(page_path(order_id))
        api = await second_client.get(api_path(order_id))
        assert page.status_code == 404 and api.status_code == 404
        assert "buyer@example.com" not in page.text and stored["_id"] not in api.text
        answers.append(api.json()["error"]["code"])
    assert answers == ["unknown_order", "unknown_order"]


async def test_anonymous_readers_are_sent_to_log_in_or_refused(client, ctx, run_jobs,
                                                                second_client):
    _, stored = await paid_order(client, ctx, run_jobs)
    page = await second_client.get(page_path(stored["_id"]))
    assert page.status_code == 303
    assert page.headers["location"].startswith("/login?next=%2Fbilling%2Forders%2F")
    assert (await second_client.get(api_path(stored["_id"]))).status_code == 401


@pytest.mark.parametrize("outcome", [None, "fail"], ids=["waiting", "failed"])
async def test_an_unpaid_order_has_no_receipt(client, ctx, run_jobs, outcome):
    await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    if outcome:
        await choose(client, order_id, outcome)
        await run_jobs()
    page = await client.get(page_path(order_id))
    assert page.status_code == 404
    assert "This order was not paid, so it has no receipt." in unescape(page.text)
    api = await client.get(api_path(order_id))
    assert api.status_code == 404 and api.json()["error"]["code"] == "no_receipt"
    assert f'href="{page_path(order_id)}"' not in (await client.get("/billing")).text


async def test_a_refund_shows_on_the_receipt(client, ctx, run_jobs, admin_client):
    _, stored = await paid_order(client, ctx, run_jobs)
    assert (await refund(admin_client, stored["_id"])).status_code == 200
    api = (await client.get(api_path(stored["_id"]))).json()
    assert api["refund"]["status"] == "success" and api["refund"]["amount"] == "99.00"
    assert api["refund"]["refunded_at"] is not None
    page = await client.get(page_path(stored["_id"]))
    assert page.status_code == 200
    text = unescape(page.text)
    assert 'data-refund="success"' in text and "Refunded on" in text and "−₹99.00" in text


async def test_a_refused_refund_is_not_on_the_receipt(client, ctx, run_jobs, admin_client):
    _, stored = await paid_order(client, ctx, run_jobs)
    await ctx.db.sandbox_orders.update_one({"_id": stored["_id"]},
                                           {"$set": {"status": "TERMINATED"}})
    assert (await refund(admin_client, stored["_id"])).status_code == 502
    assert (await client.get(api_path(stored["_id"]))).json()["refund"] is None


async def test_each_paid_plan_month_has_its_own_receipt(client, ctx, run_jobs, clock):
    user, first = await paid_order(client, ctx, run_jobs, item="plus")
    sub = await subscriptions.live_for_user(ctx.db, user["_id"])
    clock.advance(days=32)
    await subscriptions.renew(ctx, sub["_id"], 2)
    await run_jobs()
    second = await ctx.db.orders.find_one({"subscription_id": sub["_id"], "period": 2})
    assert second["status"] == "paid"
    assert (await log_in(client, email="buyer@example.com")).status_code == 200
    bodies = [(await client.get(api_path(o["_id"]))).json() for o in (first, second)]
    assert [(b["item_kind"], b["kind"]) for b in bodies] == [("plan", "Plan subscription")] * 2
    assert bodies[1]["period"] == 2 and "month 2" in bodies[1]["description"]
    assert bodies[0]["number"] != bodies[1]["number"]
    page = await client.get(page_path(second["_id"]))
    assert page.status_code == 200 and "Plan subscription, month 2 · 1,000 credits" in page.text


async def test_a_refund_in_progress_shows_as_requested(client, ctx, run_jobs):
    _, stored = await paid_order(client, ctx, run_jobs)
    await ctx.db.orders.update_one({"_id": stored["_id"]}, {"$set": {"refund": {
        "refund_id": "rf_x_1", "status": "pending", "requested_at": ctx.clock.now()}}})
    api = (await client.get(api_path(stored["_id"]))).json()
    assert api["refund"]["status"] == "pending" and api["refund"]["refunded_at"] is None
    text = unescape((await client.get(page_path(stored["_id"]))).text)
    assert 'data-refund="pending"' in text and "in progress" in text
