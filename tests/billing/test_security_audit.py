"""Security events reach the audit log: lockout, export, admin refund, CSRF refusal (also for a
foreign or `null` Origin with a valid token) and an authorisation denial."""

from tests.billing.test_refunds import admin_client, paid_pack, refund
from tests.factories import csrf, log_in, make_user

__all__ = ["admin_client"]


async def events(ctx, name):
    return await ctx.db.audit_log.find({"event": name}).to_list()


async def test_a_lockout_is_audited(client, ctx):
    await make_user(ctx, email="l@example.com")
    codes = [(await log_in(client, email="l@example.com", password="wrong guess " + str(n)))
             .status_code for n in range(6)]
    assert codes[-1] == 429
    [locked] = await events(ctx, "login_locked")
    assert locked["ip_hash"] and "l@example.com" not in str(locked)


async def test_an_export_request_is_audited(client, ctx):
    user = await make_user(ctx, email="e@example.com")
    await log_in(client, email="e@example.com")
    assert (await client.post("/api/v1/privacy/export", headers=csrf(client))).status_code == 202
    [event] = await events(ctx, "export_requested")
    assert event["user_id"] == user["_id"]


async def test_an_admin_refund_is_audited(client, ctx, run_jobs, admin_client):
    user, order_id = await paid_pack(client, ctx, run_jobs)
    assert (await refund(admin_client, order_id)).status_code == 200
    [event] = await events(ctx, "admin_refund")
    assert event["user_id"] == user["_id"] and event["details"]["order_id"] == order_id
    assert event["details"]["actor_id"] != user["_id"]


async def test_csrf_refusals_are_audited_and_foreign_origins_refused(client, ctx):
    await make_user(ctx, email="c@example.com")
    await log_in(client, email="c@example.com")
    missing = await client.patch("/api/v1/account/profile", json={"display_name": "X"})
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    for origin in ("null", "https://evil.example", "http://testserver.evil.example"):
        refused = await client.patch("/api/v1/account/profile", json={"display_name": "X"},
                                     headers={**csrf(client), "Origin": origin})
        assert refused.status_code == 403, origin
    assert (await ctx.db.users.find_one({"email": "c@example.com"}))["display_name"] is None
    same = await client.patch("/api/v1/account/profile", json={"display_name": "Ok"},
                              headers={**csrf(client), "Origin": "http://testserver"})
    assert same.status_code == 200
    reasons = [e["details"]["reason"] for e in await events(ctx, "csrf_failed")]
    assert reasons == ["missing_or_mismatched_token"] + ["foreign_origin"] * 3


async def test_an_authorisation_denial_is_audited(client, ctx):
    user = await make_user(ctx, email="u@example.com")
    await log_in(client, email="u@example.com")
    assert (await client.get("/api/v1/admin/billing/orders")).status_code == 403
    [event] = await events(ctx, "access_denied")
    assert event["user_id"] == user["_id"] and event["details"]["needed"] == "admin"
