"""Buying and sharing need a confirmed email: 403 `email_unverified`, nothing created, and the
pages say why and offer a new confirmation link."""

from tests.billing.helpers import order
from tests.factories import csrf, emails_to, sign_up, token_from


async def unverified(client, run_jobs, email="new@example.com"):
    response = await sign_up(client, email=email)
    assert response.status_code == 201
    assert response.json()["user"]["email_verified"] is False
    await run_jobs()
    return response.json()["user"]


async def test_an_unverified_account_cannot_buy(client, ctx, run_jobs):
    await unverified(client, run_jobs)
    refused = await order(client)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "email_unverified"
    assert "Confirm your email" in refused.json()["error"]["message"]
    assert await ctx.db.orders.count_documents({}) == 0
    page = await client.get("/pricing")
    assert "Confirm your email address to buy" in page.text
    form = await client.post("/billing/buy", data={"item_id": "pack_small",
                                                   "csrf_token": client.cookies["csrf_token"]})
    assert form.status_code == 403 and "Confirm your email" in form.text
    assert await ctx.db.orders.count_documents({}) == 0


async def test_an_unverified_account_cannot_publish_or_share(client, ctx, run_jobs):
    await unverified(client, run_jobs)
    public = await client.post("/api/v1/personas", headers=csrf(client),
                               json={"name": "Ada", "visibility": "public"})
    assert public.status_code == 403 and public.json()["error"]["code"] == "email_unverified"
    private = await client.post("/api/v1/personas", headers=csrf(client), json={"name": "Ada"})
    assert private.status_code == 201
    persona_id = private.json()["persona"]["id"]
    made_public = await client.patch(f"/api/v1/personas/{persona_id}", headers=csrf(client),
                                     json={"visibility": "public"})
    assert made_public.status_code == 403
    share = await client.post(f"/api/v1/personas/{persona_id}/share", headers=csrf(client))
    assert share.status_code == 403 and share.json()["error"]["code"] == "email_unverified"
    stored = await ctx.db.personas.find_one({"_id": persona_id})
    assert stored["visibility"] == "private" and not stored.get("share_id")
    page = await client.get(f"/personas/{persona_id}")
    assert "first confirm your email address" in page.text
    assert "Make public and share" not in page.text


async def test_a_new_confirmation_link_unlocks_buying_and_sharing(client, ctx, run_jobs):
    await unverified(client, run_jobs)
    account = await client.get("/account")
    assert "Send a new confirmation link" in account.text
    sent = await client.post("/api/v1/account/email/verification", headers=csrf(client))
    assert sent.status_code == 202
    await run_jobs()
    token = token_from((await emails_to(ctx, "new@example.com"))[-1], "/verify-email")
    assert (await client.post("/api/v1/auth/verify-email", json={"token": token},
                              headers=csrf(client))).status_code == 200
    created = await client.post("/api/v1/personas", headers=csrf(client),
                                json={"name": "Ada", "visibility": "public"})
    assert created.status_code == 201 and created.json()["persona"]["share_id"]
    assert (await order(client)).status_code == 201
    again = await client.post("/api/v1/account/email/verification", headers=csrf(client))
    assert again.status_code == 409


async def test_confirmation_emails_are_limited(client, ctx, run_jobs):
    await unverified(client, run_jobs)
    codes = [(await client.post("/api/v1/account/email/verification",
                                headers=csrf(client))).status_code for _ in range(3)]
    assert codes == [202, 202, 429]  # the sign-up email counts too
