"""Reconciliation: orders whose webhook never came are settled from the provider's records."""

from clonechats.billing import checkout, fulfilment, ledger, orders, reconcile
from tests.billing.helpers import PACK_CREDITS, balance, buyer, choose, grants, order


async def lose_webhooks(ctx) -> None:
    await ctx.db.jobs.delete_many({"kind": checkout.DELIVER})


async def test_a_paid_order_without_webhook_is_settled_by_its_job(client, ctx, clock, run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    await lose_webhooks(ctx)
    await run_jobs()
    assert (await ctx.db.orders.find_one({"_id": order_id}))["status"] == "created"
    clock.advance(minutes=15)
    await run_jobs()
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "paid" and stored["paid_via"] == "reconcile"
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    assert await ledger.check_balances(ctx.db) == []


async def test_an_abandoned_order_fails_when_it_expires_at_the_provider(client, ctx, clock,
                                                                       run_jobs):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    for _ in range(8):  # 15 min, 30 min, 1 h, ... past the one-day expiry
        clock.advance(hours=12)
        await run_jobs()
    stored = await ctx.db.orders.find_one({"_id": order_id})
    assert stored["status"] == "failed" and stored["failure_reason"] == "provider: expired"
    assert await balance(ctx, user["_id"]) == 0
    assert await ctx.db.jobs.count_documents({"kind": checkout.RECONCILE,
                                              "status": "queued"}) == 0


async def test_an_interrupted_fulfilment_is_finished(client, ctx, clock):
    user = await buyer(ctx, client)
    order_id = (await order(client)).json()["order_id"]
    await choose(client, order_id, "pay")
    await orders.transition(ctx.db, order_id, orders.PAID, now=clock.now())  # then a crash
    assert await balance(ctx, user["_id"]) == 0
    clock.advance(minutes=10)
    counts = await reconcile.reconcile_stale(ctx, older_than_minutes=5)
    assert counts["checked"] == 0
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
    await fulfilment.fulfil(ctx, await orders.get(ctx.db, order_id))  # again: no change
    assert len(await grants(ctx, user["_id"])) == 1


async def test_the_sweep_settles_every_stale_order(client, ctx, clock):
    user = await buyer(ctx, client)
    ids = [(await order(client)).json()["order_id"] for _ in range(3)]
    await choose(client, ids[0], "pay")
    await choose(client, ids[1], "fail")
    await lose_webhooks(ctx)
    clock.advance(minutes=6)
    counts = await reconcile.reconcile_stale(ctx, older_than_minutes=5)
    assert counts == {"checked": 3, "paid": 1, "failed": 1, "created": 1}
    assert await balance(ctx, user["_id"]) == PACK_CREDITS
