"""Guardian consent safeguards: a young person cannot approve their own account (from their
session, or a signed-out browser they used), and a guardian can withdraw consent later."""

import httpx

from tests.accounts.test_guardian import CONSENT, GUARDIAN, guardian, latest_link, sign_up_minor
from tests.factories import csrf, emails_to, token_from

__all__ = ["guardian"]  # the fixture: the guardian's own browser
APPROVE = {"decision": "approve", "authorized_tiers": ["free"]}


async def test_the_teen_cannot_approve_from_their_own_session(client, ctx, run_jobs):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    refused = await client.post(CONSENT, json={"token": token, **APPROVE}, headers=csrf(client))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_self_approval"
    assert (await ctx.db.users.find_one({"_id": user["id"]}))["status"] == "guardian_pending"
    page = await client.post("/guardian/consent", data={
        "token": token, "csrf_token": client.cookies["csrf_token"], **APPROVE})
    assert page.status_code == 403 and "their own phone or computer" in page.text
    assert (await ctx.db.users.find_one({"_id": user["id"]}))["status"] == "guardian_pending"


async def test_signing_out_on_the_same_browser_does_not_help(client, ctx, run_jobs):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    await client.post("/api/v1/auth/logout", headers=csrf(client))
    refused = await client.post(CONSENT, json={"token": token, **APPROVE}, headers=csrf(client))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_self_approval"
    assert (await ctx.db.users.find_one({"_id": user["id"]}))["status"] == "guardian_pending"


async def test_the_guardian_on_their_own_device_approves(client, ctx, run_jobs, guardian):
    await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    ok = await guardian.post(CONSENT, json={"token": token, **APPROVE})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"


async def test_the_guardian_can_withdraw_consent_later(client, ctx, run_jobs, guardian, clock):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    assert (await guardian.post(CONSENT, json={"token": token, **APPROVE})).status_code == 200
    await run_jobs()
    [approved] = [m for m in await emails_to(ctx, GUARDIAN) if "You approved" in m["subject"]]
    withdraw = token_from(approved, "/guardian/withdraw")
    clock.advance(days=200)

    page = await guardian.get(f"/guardian/withdraw?token={withdraw}")
    assert page.status_code == 200 and "teen@example.com" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    unconfirmed = await guardian.post("/guardian/withdraw", data={"token": withdraw})
    assert unconfirmed.status_code == 422
    assert await ctx.db.users.count_documents({"_id": user["id"]}) == 1

    done = await guardian.post("/guardian/withdraw",
                               data={"token": withdraw, "confirm_delete": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("outcome=withdrawn")
    assert await ctx.db.users.count_documents({"_id": user["id"]}) == 0
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    events = [e["event"] for e in await ctx.db.audit_log.find({"user_id": {"$ne": None}})
              .to_list()]
    assert "guardian_consent_withdrawn" in events
    again = await guardian.post("/api/v1/guardian/withdraw", json={"token": withdraw})
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_token"


async def test_a_withdrawal_link_is_refused_for_a_bad_token(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        response = await http.post("/api/v1/guardian/withdraw", json={"token": "x" * 40})
        assert response.status_code == 400
