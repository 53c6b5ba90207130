"""Links die when the account changes under them, and changes are announced by email.

- a verification link issued before an email change cannot switch the address back;
- a reset link dies once the password or the email changes;
- a reset and a password change each mail a "password changed" notice; an email change
  tells the old address.
"""

from tests.factories import (
    DEFAULT_PASSWORD,
    csrf,
    emails_to,
    log_in,
    make_user,
    sign_up,
    token_from,
)


async def verify(client, token):
    return await client.post("/api/v1/auth/verify-email", json={"token": token},
                             headers=csrf(client))


async def request_reset(client, email):
    await client.get("/")
    return await client.post("/api/v1/auth/password-reset", json={"email": email},
                             headers=csrf(client))


async def change_email(client, new_email):
    return await client.post("/api/v1/account/email", headers=csrf(client),
                             json={"new_email": new_email, "password": DEFAULT_PASSWORD})


async def test_old_verification_link_after_an_email_change_cannot_switch_back(
        client, ctx, run_jobs):
    await sign_up(client, email="first@example.com")
    await run_jobs()
    old_link = token_from((await emails_to(ctx, "first@example.com"))[0], "/verify-email")
    assert (await change_email(client, "second@example.com")).status_code == 202
    await run_jobs()
    new_link = token_from((await emails_to(ctx, "second@example.com"))[0], "/verify-email")
    assert (await verify(client, new_link)).status_code == 200

    replay = await verify(client, old_link)
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "invalid_token"
    stored = await ctx.db.users.find_one({"email": "second@example.com"})
    assert stored is not None and stored["email_verified"] is True
    assert await ctx.db.users.count_documents({"email": "first@example.com"}) == 0
    page = await client.get(f"/verify-email?token={old_link}")
    assert old_link not in page.text  # the page says the link is no longer valid

    await run_jobs()
    [notice] = [m for m in await emails_to(ctx, "first@example.com")
                if "was changed" in m["subject"]]
    assert "second@example.com" in notice["text"]


async def test_a_second_pending_change_link_dies_once_another_was_used(client, ctx, run_jobs):
    await sign_up(client, email="one@example.com")
    await change_email(client, "two@example.com")
    await change_email(client, "three@example.com")
    await run_jobs()
    to_two = token_from((await emails_to(ctx, "two@example.com"))[0], "/verify-email")
    to_three = token_from((await emails_to(ctx, "three@example.com"))[0], "/verify-email")
    assert (await verify(client, to_three)).status_code == 200
    assert (await verify(client, to_two)).status_code == 400
    assert (await ctx.db.users.find_one({"email": "three@example.com"}))["email_verified"]


async def test_reset_link_dies_when_the_password_changes(client, ctx, run_jobs):
    await make_user(ctx, email="r@example.com")
    await request_reset(client, "r@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "r@example.com"))[0], "/reset-password")
    await log_in(client, email="r@example.com")
    changed = await client.post("/api/v1/account/password", headers=csrf(client), json={
        "current_password": DEFAULT_PASSWORD, "new_password": "another fine passphrase"})
    assert changed.status_code == 204
    await ctx.db.one_time_tokens.update_many({}, {"$set": {"used_at": None}})  # even if unrevoked
    stale = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                              json={"token": token, "password": "attacker chosen phrase"})
    assert stale.status_code == 400 and stale.json()["error"]["code"] == "invalid_token"
    assert (await log_in(client, email="r@example.com",
                         password="another fine passphrase")).status_code == 200
    await run_jobs()
    subjects = [m["subject"] for m in await emails_to(ctx, "r@example.com")]
    assert any("password was changed" in subject for subject in subjects)


async def test_reset_link_dies_when_the_email_changes(client, ctx, run_jobs):
    await make_user(ctx, email="e@example.com")
    await request_reset(client, "e@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "e@example.com"))[0], "/reset-password")
    await ctx.db.users.update_one({"email": "e@example.com"},
                                  {"$set": {"email": "moved@example.com"}})
    page = await client.get(f"/reset-password?token={token}")
    assert token not in page.text
    stale = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                              json={"token": token, "password": "attacker chosen phrase"})
    assert stale.status_code == 400


async def test_a_reset_is_announced_by_email(client, ctx, run_jobs):
    await make_user(ctx, email="n@example.com")
    await request_reset(client, "n@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "n@example.com"))[0], "/reset-password")
    page = await client.get(f"/reset-password?token={token}")
    assert page.headers["referrer-policy"] == "no-referrer"
    done = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                             json={"token": token, "password": "a new good passphrase"})
    assert done.status_code == 204
    await run_jobs()
    [notice] = [m for m in await emails_to(ctx, "n@example.com")
                if "password was changed" in m["subject"]]
    assert "reset" in notice["text"]
