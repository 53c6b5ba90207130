"""People under 18 cannot opt in to analytics, and are never counted even with an older
setting; the privacy page says why instead of offering the switch."""

from tests.factories import csrf, log_in, make_user


async def teen(ctx, client):
    user = await make_user(ctx, email="teen@example.com")
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"birth_date": "2011-01-01"}})
    assert (await log_in(client, email="teen@example.com")).status_code == 200
    return user


async def test_a_minor_cannot_opt_in_to_analytics(client, ctx):
    user = await teen(ctx, client)
    refused = await client.patch("/api/v1/privacy/settings", headers=csrf(client),
                                 json={"analytics_opt_in": True})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "analytics_not_for_minors"
    stored = await ctx.db.privacy_settings.find_one({"_id": user["_id"]})
    assert not (stored or {}).get("analytics_opt_in")
    assert await ctx.db.consent_history.count_documents({}) == 0
    page = await client.get("/settings/privacy")
    assert "Analytics stay off for accounts of people under 18" in page.text
    assert 'name="analytics_opt_in"' not in page.text


async def test_a_minor_with_an_older_opt_in_is_never_counted(client, ctx):
    user = await teen(ctx, client)
    await ctx.db.privacy_settings.insert_one({"_id": user["_id"], "analytics_opt_in": True,
                                              "updated_at": ctx.clock.now()})
    counted = await client.post("/api/v1/privacy/analytics/event", headers=csrf(client),
                                json={"kind": "feature", "name": "export_requested"})
    assert counted.status_code == 200 and counted.json() == {"counted": False}
    state = await client.get("/api/v1/privacy/analytics")
    assert state.json() == {"counting": False}
    assert await ctx.db.analytics_daily.count_documents({}) == 0
