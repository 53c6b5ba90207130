"""Guardian consent: the page, the decision (approve with tiers, or decline and delete), resends."""

import httpx
import pytest
from fastapi import APIRouter

from clonechats.accounts.dependencies import ActiveUser
from clonechats.billing.plans import PLAN_TIERS
from tests.factories import csrf, emails_to, sign_up, token_from

GUARDIAN = "parent@example.com"
CONSENT = "/api/v1/guardian/consent"
RESEND = "/api/v1/account/guardian/resend"


async def sign_up_minor(client, run_jobs, *, email="teen@example.com"):
    response = await sign_up(client, email=email, birth_date="2011-01-01",
                             display_name="Sam <Teen>", guardian_email=GUARDIAN)
    assert response.status_code == 201
    await run_jobs()
    return response.json()["user"]


async def latest_link(ctx, run_jobs) -> str:
    await run_jobs()
    return token_from((await emails_to(ctx, GUARDIAN))[-1], "/guardian/consent")


@pytest.fixture
async def guardian(app):
    """The guardian's own browser: no session, no cookies from the young person."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_page_shows_who_asks_and_leaves_the_link_unused(client, ctx, run_jobs, guardian):
    await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    for _ in range(2):  # opening it twice (an email scanner, then the person) changes nothing
        page = await guardian.get(f"/guardian/consent?token={token}")
        assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "no-store" in page.headers["cache-control"]
    assert "Sam &lt;Teen&gt;" in page.text and "<Teen>" not in page.text
    assert "teen@example.com" in page.text and "15" in page.text
    for tier in PLAN_TIERS:
        assert f'name="authorized_tiers" value="{tier}"' in page.text
    assert 'value="approve"' in page.text and 'value="decline"' in page.text
    assert await ctx.db.one_time_tokens.count_documents({"used_at": None,
                                                          "purpose": "guardian_consent"}) == 1


async def test_approve_activates_the_account_with_the_chosen_tiers(client, ctx, run_jobs,
                                                                   guardian, clock):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    clock.advance(hours=3)
    response = await guardian.post(CONSENT, json={"token": token, "decision": "approve",
                                                  "authorized_tiers": ["plus", "free", "plus"]})
    assert response.status_code == 200
    assert response.json() == {"status": "approved", "authorized_tiers": ["free", "plus"]}
    stored = await ctx.db.users.find_one({"_id": user["id"]})
    assert stored["status"] == "active"
    assert stored["guardian"]["authorized_tiers"] == ["free", "plus"]
    assert stored["guardian"]["approved_at"].replace(tzinfo=None) == clock.now().replace(
        tzinfo=None)
    [event] = await ctx.db.audit_log.find({"event": "guardian_approved"}).to_list()
    assert event["user_id"] == user["id"]
    assert event["details"]["authorized_tiers"] == ["free", "plus"]
    me = await client.get("/api/v1/auth/me")
    assert me.json()["user"]["status"] == "active"

    replay = await guardian.post(CONSENT, json={"token": token, "decision": "decline"})
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "invalid_token"
    assert await ctx.db.users.count_documents({"_id": user["id"]}) == 1


async def test_decline_deletes_the_account_and_everything_it_owns(client, ctx, run_jobs,
                                                                  guardian):
    user = await sign_up_minor(client, run_jobs)
    key = await client.post("/api/v1/account/api-keys", json={"name": "laptop"},
                            headers=csrf(client))
    assert key.status_code == 201
    token = await latest_link(ctx, run_jobs)

    response = await guardian.post(CONSENT, json={"token": token, "decision": "decline"})

    assert response.status_code == 200
    assert response.json() == {"status": "declined"}
    assert await ctx.db.users.count_documents({}) == 0
    for collection in ("sessions", "api_keys", "one_time_tokens", "login_attempts"):
        assert await ctx.db[collection].count_documents({"user_id": user["id"]}) == 0
    assert await ctx.db.audit_log.count_documents({"user_id": user["id"]}) == 0
    assert await ctx.db.audit_log.count_documents({"event": "account_deleted"}) == 1
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    with_key = await guardian.get("/api/v1/auth/me",
                                  headers={"Authorization": f"Bearer {key.json()['key']}"})
    assert with_key.status_code == 401
    replay = await guardian.post(CONSENT, json={"token": token, "decision": "decline"})
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "invalid_token"


@pytest.mark.parametrize(("body", "code"), [
    ({"decision": "approve", "authorized_tiers": []}, "tiers_required"),
    ({"decision": "approve"}, "tiers_required"),
    ({"decision": "approve", "authorized_tiers": ["free", "platinum"]}, "invalid_tier"),
    ({"decision": "maybe", "authorized_tiers": ["free"]}, "invalid_decision"),
])
async def test_bad_input_is_refused_and_the_link_still_works(client, ctx, run_jobs, guardian,
                                                             body, code):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    refused = await guardian.post(CONSENT, json={"token": token, **body})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == code
    stored = await ctx.db.users.find_one({"_id": user["id"]})
    assert stored["status"] == "guardian_pending"
    assert stored["guardian"]["approved_at"] is None
    ok = await guardian.post(CONSENT, json={"token": token, "decision": "approve",
                                            "authorized_tiers": ["free"]})
    assert ok.status_code == 200


async def test_unknown_or_malformed_tokens_are_invalid(guardian):
    for token in ["", "x" * 150, "not-a-real-token"]:
        response = await guardian.post(CONSENT, json={"token": token, "decision": "decline"})
        assert response.status_code == 400, token
        assert response.json()["error"]["code"] == "invalid_token"
    page = await guardian.get("/guardian/consent?token=not-a-real-token",
                              headers={"Accept": "text/html"})
    assert page.status_code == 400
    assert "no longer works" in page.text
    assert 'name="decision"' not in page.text


async def test_the_page_form_works_without_javascript(client, ctx, run_jobs, guardian):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    approved = await guardian.post("/guardian/consent", data={
        "token": token, "decision": "approve", "authorized_tiers": ["free", "pro"]})
    assert approved.status_code == 303
    assert approved.headers["location"] == "/guardian/consent/done?outcome=approved"
    stored = await ctx.db.users.find_one({"_id": user["id"]})
    assert stored["guardian"]["authorized_tiers"] == ["free", "pro"]
    done = await guardian.get(approved.headers["location"])
    assert "The account is approved" in done.text


async def test_declining_on_the_page_needs_the_confirmation_box(client, ctx, run_jobs, guardian):
    user = await sign_up_minor(client, run_jobs)
    token = await latest_link(ctx, run_jobs)
    unconfirmed = await guardian.post("/guardian/consent",
                                      data={"token": token, "decision": "decline"})
    assert unconfirmed.status_code == 422
    assert "Tick the box" in unconfirmed.text
    assert await ctx.db.users.count_documents({"_id": user["id"]}) == 1
    no_tiers = await guardian.post("/guardian/consent",
                                   data={"token": token, "decision": "approve"})
    assert no_tiers.status_code == 422 and "at least one plan" in no_tiers.text
    declined = await guardian.post("/guardian/consent", data={
        "token": token, "decision": "decline", "confirm_delete": "yes"})
    assert declined.status_code == 303
    assert declined.headers["location"] == "/guardian/consent/done?outcome=declined"
    assert await ctx.db.users.count_documents({}) == 0
    done = await guardian.get(declined.headers["location"])
    assert "The account is deleted" in done.text
    used = await guardian.get(f"/guardian/consent?token={token}")
    assert used.status_code == 400


async def test_pending_account_reaches_settings_but_not_the_product(app, client, ctx, run_jobs,
                                                                    guardian):
    probe = APIRouter()

    @probe.get("/api/v1/test-probe")
    async def product_feature(user: ActiveUser) -> dict[str, str]:
        return {"id": user["_id"]}

    app.include_router(probe)
    await sign_up_minor(client, run_jobs)
    assert (await client.get("/privacy")).status_code == 200
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    renamed = await client.patch("/api/v1/account/profile", json={"display_name": "Sam"},
                                 headers=csrf(client))
    assert renamed.status_code == 200
    refused = await client.get("/api/v1/test-probe")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "guardian_consent_required"

    token = await latest_link(ctx, run_jobs)
    await guardian.post(CONSENT, json={"token": token, "decision": "approve",
                                       "authorized_tiers": ["free"]})
    assert (await client.get("/api/v1/test-probe")).status_code == 200


async def test_resend_replaces_the_link_and_is_limited_per_day(client, ctx, run_jobs, guardian,
                                                               clock):
    await sign_up_minor(client, run_jobs)
    first = await latest_link(ctx, run_jobs)
    links = [first]
    for _ in range(3):
        clock.advance(minutes=10)
        response = await client.post(RESEND, headers=csrf(client))
        assert response.status_code == 202
        links.append(await latest_link(ctx, run_jobs))
    assert len(set(links)) == 4
    assert len(await emails_to(ctx, GUARDIAN)) == 4
    for old in links[:-1]:
        assert (await guardian.get(f"/guardian/consent?token={old}")).status_code == 400
    assert (await guardian.get(f"/guardian/consent?token={links[-1]}")).status_code == 200

    clock.advance(minutes=10)
    limited = await client.post(RESEND, headers=csrf(client))
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == "too_many_resends"
    assert 0 < int(limited.headers["Retry-After"]) <= 24 * 3600
    await run_jobs()
    assert len(await emails_to(ctx, GUARDIAN)) == 4
    assert (await guardian.get(f"/guardian/consent?token={links[-1]}")).status_code == 200

    clock.advance(seconds=int(limited.headers["Retry-After"]))
    assert (await client.post(RESEND, headers=csrf(client))).status_code == 202


async def test_resend_needs_a_pending_account(client, ctx, guardian):
    await sign_up(client, email="adult@example.com")
    refused = await client.post(RESEND, headers=csrf(client))
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "not_pending"
    assert (await guardian.post(RESEND)).status_code == 401


async def test_pending_page_explains_and_offers_a_resend(client, run_jobs, guardian):
    anonymous = await guardian.get("/guardian/pending")
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    await sign_up_minor(client, run_jobs)
    page = await client.get("/guardian/pending")
    assert page.status_code == 200
    assert GUARDIAN in page.text
    assert 'data-api="/api/v1/account/guardian/resend"' in page.text
    assert '<meta name="csrf-token"' in page.text


async def test_pending_page_for_an_active_account(client):
    await sign_up(client, email="adult@example.com")
    page = await client.get("/guardian/pending")
    assert page.status_code == 200
    assert "No approval needed" in page.text
    assert "guardian/resend" not in page.text
