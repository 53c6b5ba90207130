"""Billing data in exports, and after account deletion: kept 7 years under a pseudonym."""

from clonechats.billing import personal_data, subscriptions
from clonechats.privacy import registry, retention
from clonechats.privacy.pseudonyms import keyed_hash
from tests.billing.helpers import buyer, choose, order


async def test_export_and_pseudonymising_deletion(client, ctx, run_jobs, clock):
    user = await buyer(ctx, client)
    pack = (await order(client)).json()["order_id"]
    await choose(client, pack, "pay")
    plan = (await order(client, "plus")).json()["order_id"]
    await choose(client, plan, "pay")
    await run_jobs()

    exported = await registry.export_user_data(ctx, user["_id"])
    billing = exported["billing"]
    assert {o["order_id"] for o in billing["orders"]} == {pack, plan}
    assert sorted(e["delta"] for e in billing["ledger"]) == [200, 1000]
    assert billing["subscriptions"][0]["plan_id"] == "plus"

    changed = await personal_data.delete(ctx, user["_id"])
    assert changed > 0
    alias = "pseudonym:" + keyed_hash(ctx.secret, "user", user["_id"])
    for collection in ("orders", "credit_ledger", "subscriptions"):
        assert await ctx.db[collection].count_documents({"user_id": user["_id"]}) == 0
        kept = await ctx.db[collection].find({"user_id": alias}).to_list()
        assert kept and all(d["pseudonymised"] and d["retain_until"].year == 2033
                            for d in kept)
    assert await subscriptions.live_for_user(ctx.db, user["_id"]) is None
    sandbox = await ctx.db.sandbox_orders.find({}).to_list()
    assert all(d["customer_id"] == alias and d["deliveries"] == [] for d in sandbox)
    assert user["_id"] not in str(await ctx.db.webhook_deliveries.find({}).to_list())
    assert "buyer@example.com" not in str(await ctx.db.orders.find({}).to_list())

    clock.advance(days=7 * 365 + 3)
    await retention.apply_rules(ctx)  # what the daily privacy.retention job runs
    for collection in ("orders", "credit_ledger", "subscriptions", "webhook_deliveries"):
        assert await ctx.db[collection].count_documents({}) == 0, collection
