"""Changing plan: it takes effect when the month ends (no proration), the next month's order is
for the new plan at its price, paying it switches the tier and the monthly credits, and what
may not change is refused without changing anything."""

from clonechats.billing import ledger, subscriptions
from tests.billing.helpers import balance, buyer, choose, grants, order
from tests.billing.test_minors import minor
from tests.billing.test_subscriptions import PLUS_CREDITS, plan_of, subscribe
from tests.factories import csrf

PRO_CREDITS = 5000
PLAN = "/api/v1/billing/subscription/plan"


async def change(client, plan_id: str):
    return await client.post(PLAN, json={"plan_id": plan_id}, headers=csrf(client))


async def test_an_upgrade_waits_for_the_month_end_then_switches(client, ctx, run_jobs, clock):
    user, sub = await subscribe(client, ctx, run_jobs)
    changed = await change(client, "pro")
    assert changed.status_code == 200, changed.text
    upcoming = changed.json()["subscription"]["next_plan"]
    assert upcoming["plan_id"] == "pro" and upcoming["monthly_credits"] == PRO_CREDITS
    assert upcoming["starts_at"] == changed.json()["subscription"]["current_period_end"]
    assert "until then you keep" in changed.json()["status"]
    # nothing changes this month: same tier, same credits, no order
    assert await plan_of(ctx, user) == "plus"
    assert await balance(ctx, user["_id"]) == PLUS_CREDITS
    assert await ctx.db.orders.count_documents({"subscription_id": sub["_id"]}) == 0
    page = (await client.get("/billing")).text
    assert "changes to Pro on" in page and "Stay on Plus" in page

    clock.advance(days=32)
    await run_jobs()
    await run_jobs()
    renewed = await subscriptions.get(ctx.db, sub["_id"])
    assert renewed["period"] == 2 and renewed["plan_id"] == "pro"
    assert renewed["tier"] == "pro" and renewed["monthly_credits"] == PRO_CREDITS
    assert "next_plan" not in renewed
    (month_two,) = await ctx.db.orders.find({"subscription_id": sub["_id"]}).to_list()
    assert month_two["item_id"] == "pro" and month_two["amount"] == "999.00"
    assert month_two["status"] == "paid"
    assert await plan_of(ctx, user) == "pro"
    assert [g["delta"] for g in await grants(ctx, user["_id"])] == [PLUS_CREDITS, PRO_CREDITS]
    assert await balance(ctx, user["_id"]) == PRO_CREDITS  # month 1's plan credits expired
    assert await ledger.check_balances(ctx.db) == []

    clock.advance(days=31)  # month 3 renews on the new plan as usual
    await run_jobs()
    await run_jobs()
    third = await ctx.db.orders.find_one({"subscription_id": sub["_id"], "period": 3})
    assert third["item_id"] == "pro" and third["status"] == "paid"


async def test_choosing_the_current_plan_drops_a_pending_change(client, ctx, run_jobs, clock):
    _, sub = await subscribe(client, ctx, run_jobs)
    await change(client, "pro")
    kept = await change(client, "plus")
    assert kept.status_code == 200 and kept.json()["subscription"]["next_plan"] is None
    clock.advance(days=32)
    await run_jobs()
    await run_jobs()
    renewed = await subscriptions.get(ctx.db, sub["_id"])
    assert renewed["period"] == 2 and renewed["plan_id"] == "plus"


async def test_cancelling_drops_the_change_and_an_ending_plan_cannot_change(client, ctx,
                                                                          run_jobs, clock):
    _, sub = await subscribe(client, ctx, run_jobs)
    await change(client, "pro")
    await client.post("/api/v1/billing/subscription/cancel", headers=csrf(client))
    stored = await subscriptions.get(ctx.db, sub["_id"])
    assert "next_plan" not in stored
    refused = await change(client, "pro")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "plan_ending"
    assert "next_plan" not in await subscriptions.get(ctx.db, sub["_id"])


async def test_what_cannot_be_chosen_is_refused_and_changes_nothing(client, ctx, run_jobs):
    _, sub = await subscribe(client, ctx, run_jobs)
    for plan_id, status, code in (("pack_small", 422, "not_a_plan"), ("free", 422, "not_a_plan"),
                                  ("gold", 404, "unknown_item")):
        refused = await change(client, plan_id)
        assert refused.status_code == status, plan_id
        assert refused.json()["error"]["code"] == code
    malformed = await client.post(PLAN, json={"plan_id": "pro", "when": "now"},
                                  headers=csrf(client))
    assert malformed.status_code == 422
    assert await subscriptions.get(ctx.db, sub["_id"]) == sub


async def test_without_a_plan_there_is_nothing_to_change(client, ctx):
    await buyer(ctx, client)
    refused = await change(client, "pro")
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "no_subscription"


async def test_a_minor_changes_only_to_an_authorised_tier(client, ctx, run_jobs):
    await minor(ctx, client, ["free", "plus"])
    plus = (await order(client, "plus")).json()["order_id"]
    await choose(client, plus, "pay")
    await run_jobs()
    refused = await change(client, "pro")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "tier_not_authorised"
    user = await ctx.db.users.find_one({"email": "buyer@example.com"})
    assert "next_plan" not in await subscriptions.live_for_user(ctx.db, user["_id"])
