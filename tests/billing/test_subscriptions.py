"""Subscriptions: start by paying the first month, renew once per month with racing workers,
cancel at period end, and the plan tier on the account."""

import asyncio

from clonechats.billing import ledger, subscriptions
from clonechats.jobs.runner import JobRunner
from tests.billing.helpers import balance, buyer, choose, grants, order
from tests.factories import csrf, log_in

PLUS_CREDITS = 1000


async def subscribe(client, ctx, run_jobs, item="plus") -> tuple[dict, dict]:
    user = await buyer(ctx, client)
    order_id = (await order(client, item)).json()["order_id"]
    await choose(client, order_id, "pay")
    await run_jobs()
    sub = await subscriptions.live_for_user(ctx.db, user["_id"])
    assert sub is not None
    return user, sub


async def plan_of(ctx, user) -> str:
    return (await ctx.db.users.find_one({"_id": user["_id"]}))["plan"]


async def buyer_again(client) -> None:
    """Sessions end after a week idle: sign in again after moving the clock."""
    assert (await log_in(client, email="buyer@example.com")).status_code == 200


def runners(ctx, count=2) -> list[JobRunner]:
    return [JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                      settings=ctx.settings.jobs, owner=f"worker-{n}") for n in range(count)]


async def test_paying_the_first_month_starts_the_plan(client, ctx, run_jobs, clock):
    user, sub = await subscribe(client, ctx, run_jobs)
    assert sub["status"] == "active" and sub["period"] == 1 and sub["tier"] == "plus"
    assert sub["current_period_end"].month == clock.now().month + 1
    assert await balance(ctx, user["_id"]) == PLUS_CREDITS
    me = (await client.get("/api/v1/auth/me")).json()["user"]
    assert me["plan"] == "plus"
    api = (await client.get("/api/v1/billing/subscription")).json()
    assert api["plan"] == "plus" and api["subscription"]["cancel_at_period_end"] is False
    page = await client.get("/billing")
    assert 'data-tier="plus"' in page.text and "renews on" in page.text
    second = await order(client, "pro")
    assert second.status_code == 409 and second.json()["error"]["code"] == "already_subscribed"
    assert await ctx.db.jobs.count_documents({"kind": subscriptions.RENEW}) == 1


async def test_renewal_grants_once_with_two_workers_racing(client, ctx, run_jobs, clock):
    user, sub = await subscribe(client, ctx, run_jobs)
    await ledger.apply(ctx.db, user_id=user["_id"], delta=-300, kind="debit", reason="chat",
                       idempotency_key="chat:1", now=clock.now())
    await subscriptions.schedule_renewal(ctx, sub)  # scheduling again changes nothing
    assert await ctx.db.jobs.count_documents({"kind": subscriptions.RENEW}) == 1
    clock.advance(days=32)
    first, second = runners(ctx)
    await asyncio.gather(first.run_until_idle(), second.run_until_idle(),
                         subscriptions.renew(ctx, sub["_id"], 2))
    await asyncio.gather(first.run_until_idle(), second.run_until_idle())

    renewed = await subscriptions.get(ctx.db, sub["_id"])
    assert renewed["period"] == 2 and renewed["status"] == "active"
    assert renewed["current_period_start"] == sub["current_period_end"]
    month_orders = await ctx.db.orders.find({"subscription_id": sub["_id"]}).to_list()
    assert [(o["period"], o["status"]) for o in month_orders] == [(2, "paid")]
    assert len(await grants(ctx, user["_id"])) == 2
    expiry = await ctx.db.credit_ledger.find({"kind": "expiry"}).to_list()
    assert [e["delta"] for e in expiry] == [-700]  # month 1's unused plan credits
    assert await balance(ctx, user["_id"]) == PLUS_CREDITS
    assert await ledger.check_balances(ctx.db) == []
    assert await ctx.db.jobs.count_documents({"kind": subscriptions.RENEW}) == 2  # month 3


async def test_pack_credits_survive_the_months_expiry(client, ctx, run_jobs, clock):
    user, _sub = await subscribe(client, ctx, run_jobs)
    pack = (await order(client)).json()["order_id"]
    await choose(client, pack, "pay")
    await run_jobs()
    assert await balance(ctx, user["_id"]) == PLUS_CREDITS + 200
    clock.advance(days=32)
    await run_jobs()
    await run_jobs()
    assert await balance(ctx, user["_id"]) == PLUS_CREDITS + 200


async def test_cancel_at_period_end_keeps_the_plan_until_then(client, ctx, run_jobs, clock):
    user, sub = await subscribe(client, ctx, run_jobs)
    await client.get("/billing")
    cancel = await client.post("/api/v1/billing/subscription/cancel", headers=csrf(client))
    assert cancel.status_code == 200
    assert cancel.json()["subscription"]["cancel_at_period_end"] is True
    assert "ends on" in (await client.get("/billing")).text
    clock.advance(days=10)
    await run_jobs()
    assert await plan_of(ctx, user) == "plus"
    clock.advance(days=22)
    await run_jobs()
    ended = await subscriptions.get(ctx.db, sub["_id"])
    assert ended["status"] == "ended" and ended["end_reason"] == "cancelled"
    assert "live_user_id" not in ended
    assert await plan_of(ctx, user) == "free"
    assert await ctx.db.orders.count_documents({"subscription_id": sub["_id"]}) == 0
    assert await balance(ctx, user["_id"]) == 0  # the month's unused credits expired
    assert await ledger.check_balances(ctx.db) == []
    await buyer_again(client)
    assert (await order(client, "pro")).status_code == 201  # free to choose a plan again


async def test_resume_before_the_end_renews_as_usual(client, ctx, run_jobs, clock):
    _, sub = await subscribe(client, ctx, run_jobs)
    await client.get("/billing")
    await client.post("/api/v1/billing/subscription/cancel", headers=csrf(client))
    resumed = await client.post("/api/v1/billing/subscription/resume", headers=csrf(client))
    assert resumed.json()["subscription"]["cancel_at_period_end"] is False
    clock.advance(days=32)
    await run_jobs()
    await run_jobs()
    assert (await subscriptions.get(ctx.db, sub["_id"]))["period"] == 2
    assert await plan_of(ctx, {"_id": sub["user_id"]}) == "plus"


async def test_cancel_without_a_plan_is_404(client, ctx):
    await buyer(ctx, client)
    response = await client.post("/api/v1/billing/subscription/cancel", headers=csrf(client))
    assert response.status_code == 404


async def test_the_account_page_shows_the_plan_tier(client, ctx, run_jobs):
    await subscribe(client, ctx, run_jobs)
    page = await client.get("/account")
    assert page.status_code == 200
    assert "Plus plan · 1,000 credits" in page.text
