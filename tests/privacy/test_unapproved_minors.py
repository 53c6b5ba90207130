"""A minor's account that no guardian approved is deleted 30 days after sign-up, with
everything it holds; an approved one stays. Frozen clock, retention job run for real."""

import httpx

from clonechats.privacy import retention
from tests.factories import sign_up


async def minor(app, email):
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                             base_url="http://testserver")
    response = await sign_up(http, email=email, birth_date="2011-01-01",
                             guardian_email="parent@example.com")
    assert response.status_code == 201, response.text
    return http, response.json()["user"]["id"]


async def test_never_approved_minor_accounts_are_deleted_after_the_retention_period(
        app, ctx, clock, run_jobs):
    waiting_client, waiting = await minor(app, "waiting@example.com")
    approved_client, approved = await minor(app, "approved@example.com")
    await ctx.db.users.update_one({"_id": approved}, {"$set": {
        "status": "active", "guardian.approved_at": clock.now(),
        "guardian.authorized_tiers": ["free"]}})
    await ctx.db.personas.insert_one({"_id": "p-waiting", "owner_id": waiting, "name": "Mine"})
    await run_jobs()

    clock.advance(days=29, hours=23)
    await retention.apply_rules(ctx)
    assert await ctx.db.users.count_documents({"_id": waiting}) == 1

    clock.advance(hours=2)
    counts = await retention.apply_rules(ctx)
    assert counts["unapproved_minors"] == 1
    assert await ctx.db.users.count_documents({"_id": waiting}) == 0
    assert await ctx.db.personas.count_documents({"owner_id": waiting}) == 0
    assert await ctx.db.sessions.count_documents({"user_id": waiting}) == 0
    assert await ctx.db.one_time_tokens.count_documents({"user_id": waiting}) == 0
    assert await ctx.db.users.count_documents({"_id": approved}) == 1
    assert (await waiting_client.get("/api/v1/auth/me")).status_code == 401
    assert await retention.overdue(ctx) == {name: 0 for name in await retention.overdue(ctx)}
    await waiting_client.aclose()
    await approved_client.aclose()
