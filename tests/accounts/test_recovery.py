"""Email verification and password reset: single use, expiry, sessions revoked, no enumeration."""

from tests.factories import csrf, emails_to, log_in, make_user, sign_up, token_from


async def request_reset(client, email):
    await client.get("/")
    return await client.post("/api/v1/auth/password-reset", json={"email": email},
                             headers=csrf(client))


async def test_verification_link_works_once(client, ctx, run_jobs):
    await sign_up(client, email="v@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "v@example.com"))[0], "/verify-email")
    ok = await client.post("/api/v1/auth/verify-email", json={"token": token},
                           headers=csrf(client))
    assert ok.status_code == 200 and ok.json()["user"]["email_verified"] is True
    replay = await client.post("/api/v1/auth/verify-email", json={"token": token},
                               headers=csrf(client))
    assert replay.status_code == 400 and replay.json()["error"]["code"] == "invalid_token"
    assert (await ctx.db.one_time_tokens.find_one({}))["_id"] != token


async def test_expired_verification_link_refused(client, ctx, run_jobs, clock):
    await sign_up(client, email="late@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "late@example.com"))[0], "/verify-email")
    clock.advance(hours=25)
    late = await client.post("/api/v1/auth/verify-email", json={"token": token},
                             headers=csrf(client))
    assert late.status_code == 400
    assert not (await ctx.db.users.find_one({"email": "late@example.com"}))["email_verified"]


async def test_reset_answers_the_same_for_unknown_emails(client, ctx, run_jobs):
    await make_user(ctx, email="known@example.com")
    known = await request_reset(client, "known@example.com")
    unknown = await request_reset(client, "unknown@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    await run_jobs()
    assert len(await emails_to(ctx, "known@example.com")) == 1
    assert await emails_to(ctx, "unknown@example.com") == []


async def test_reset_revokes_every_session_and_works_once(app, client, ctx, run_jobs):
    import httpx

    user = await make_user(ctx, email="r@example.com")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other:
        await log_in(other, email="r@example.com")
        await request_reset(client, "r@example.com")
        await run_jobs()
        token = token_from((await emails_to(ctx, "r@example.com"))[0], "/reset-password")
        weak = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                                 json={"token": token, "password": "password"})
        assert weak.status_code == 422
        confirm = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                                    json={"token": token, "password": "a new good passphrase"})
        assert confirm.status_code == 204
        assert (await other.get("/api/v1/auth/me")).status_code == 401
        replay = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                                   json={"token": token, "password": "yet another passphrase"})
        assert replay.status_code == 400
    assert (await log_in(client, email="r@example.com",
                         password="a new good passphrase")).status_code == 200
    requests = await ctx.db.one_time_tokens.find({"user_id": user["_id"],
                                                  "purpose": "password_reset"}).to_list()
    assert requests[0]["created_at"] == ctx.clock.now()
    events = {e["event"] for e in await ctx.db.audit_log.find({}).to_list()}
    assert {"reset_requested", "reset_used"} <= events


async def test_expired_reset_link_refused(client, ctx, run_jobs, clock):
    await make_user(ctx, email="old@example.com")
    await request_reset(client, "old@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "old@example.com"))[0], "/reset-password")
    clock.advance(minutes=61)
    late = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                             json={"token": token, "password": "a new good passphrase"})
    assert late.status_code == 400


async def test_reset_requests_are_rate_limited_silently(client, ctx, run_jobs):
    await make_user(ctx, email="spam@example.com")
    for _ in range(6):
        assert (await request_reset(client, "spam@example.com")).status_code == 202
    await run_jobs()
    assert len(await emails_to(ctx, "spam@example.com")) == 3


async def test_email_change_needs_password_and_the_new_address(client, ctx, run_jobs):
    await make_user(ctx, email="move@example.com")
    await log_in(client, email="move@example.com")
    wrong = await client.post("/api/v1/account/email", headers=csrf(client),
                              json={"new_email": "moved@example.com", "password": "nope nope nope"})
    assert wrong.status_code == 403
    asked = await client.post("/api/v1/account/email", headers=csrf(client), json={
        "new_email": "Moved@Example.com", "password": "a long and unusual passphrase"})
    assert asked.status_code == 202
    await run_jobs()
    token = token_from((await emails_to(ctx, "moved@example.com"))[0], "/verify-email")
    assert (await client.get("/api/v1/auth/me")).json()["user"]["email"] == "move@example.com"
    await client.post("/api/v1/auth/verify-email", json={"token": token}, headers=csrf(client))
    assert (await client.get("/api/v1/auth/me")).json()["user"]["email"] == "moved@example.com"
