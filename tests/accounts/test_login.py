"""Sign-in: uniform errors, brute-force back-off, attempts recorded, rotation."""

from tests.factories import csrf, emails_to, log_in, make_user, token_from


async def test_wrong_password_and_unknown_email_look_the_same(client, ctx):
    await make_user(ctx, email="known@example.com")
    wrong = await log_in(client, email="known@example.com", password="not the password")
    unknown = await log_in(client, email="nobody@example.com", password="not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"


async def test_every_attempt_is_recorded_with_hashed_address(client, ctx):
    user = await make_user(ctx, email="rec@example.com")
    await log_in(client, email="rec@example.com", password="wrong password here")
    await log_in(client, email="rec@example.com", headers={"User-Agent": "TestBrowser/1"})
    attempts = await ctx.db.login_attempts.find({}).sort("at", 1).to_list()
    assert [a["outcome"] for a in attempts] == ["failed", "ok"]
    assert all(a["user_id"] == user["_id"] for a in attempts)
    assert attempts[1]["user_agent"] == "TestBrowser/1"
    assert all(len(a["ip_hash"]) == 64 for a in attempts)
    events = [e["event"] for e in await ctx.db.audit_log.find({}).sort("at", 1).to_list()]
    assert events == ["login_failed", "login_ok"]


async def test_account_back_off_then_recovery(client, ctx, clock):
    await make_user(ctx, email="target@example.com")
    for _ in range(5):
        assert (await log_in(client, email="target@example.com",
                             password="guess guess guess")).status_code == 401
    blocked = await log_in(client, email="target@example.com")
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_attempts"
    assert int(blocked.headers["Retry-After"]) == 30
    clock.advance(seconds=31)
    assert (await log_in(client, email="target@example.com")).status_code == 200


async def test_flood_never_locks_the_owner_out_for_good(client, ctx, clock):
    await make_user(ctx, email="flooded@example.com")
    codes = []
    for _ in range(300):
        response = await log_in(client, email="flooded@example.com", password="guess guess guess")
        codes.append(response.status_code)
        clock.advance(seconds=20)
    assert codes.count(401) < 20  # the back-off, not the attacker, sets the pace
    blocked = await log_in(client, email="flooded@example.com")
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) <= 900
    clock.advance(seconds=901)
    assert (await log_in(client, email="flooded@example.com")).status_code == 200


async def test_password_reset_lifts_the_account_back_off(client, ctx, run_jobs):
    await make_user(ctx, email="locked@example.com")
    for _ in range(6):
        await log_in(client, email="locked@example.com", password="guess guess guess")
    assert (await log_in(client, email="locked@example.com")).status_code == 429
    await client.post("/api/v1/auth/password-reset", json={"email": "locked@example.com"},
                      headers=csrf(client))
    await run_jobs()
    [email] = await emails_to(ctx, "locked@example.com")
    token = token_from(email, "/reset-password")
    confirm = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                                json={"token": token, "password": "a brand new passphrase"})
    assert confirm.status_code == 204
    ok = await log_in(client, email="locked@example.com", password="a brand new passphrase",
                      headers={"X-Forwarded-For": "198.51.100.1"})
    assert ok.status_code == 200


async def test_unknown_account_is_throttled_exactly_like_a_real_one(client, ctx):
    await make_user(ctx, email="real@example.com")
    outcomes = {}
    for email in ("real@example.com", "ghost@example.com"):
        codes = [(await log_in(client, email=email, password="guess guess guess")).status_code
                 for _ in range(7)]
        outcomes[email] = codes
    assert outcomes["real@example.com"] == outcomes["ghost@example.com"] == [401] * 5 + [429] * 2


async def test_per_address_throttle_spans_accounts(client, ctx, clock):
    for index in range(20):
        await log_in(client, email=f"spray{index}@example.com", password="guess guess guess")
    await make_user(ctx, email="fresh@example.com")
    blocked = await log_in(client, email="fresh@example.com")
    assert blocked.status_code == 429


async def test_success_clears_the_account_counter(client, ctx):
    await make_user(ctx, email="ok@example.com")
    for _ in range(4):
        await log_in(client, email="ok@example.com", password="guess guess guess")
    assert (await log_in(client, email="ok@example.com")).status_code == 200
    await client.post("/api/v1/auth/logout", headers=csrf(client))
    for _ in range(4):
        assert (await log_in(client, email="ok@example.com",
                             password="guess guess guess")).status_code == 401


async def test_login_rotates_the_session(client, ctx):
    await make_user(ctx, email="rot@example.com")
    await log_in(client, email="rot@example.com")
    first = client.cookies.get("session")
    await log_in(client, email="rot@example.com")
    second = client.cookies.get("session")
    assert first and second and first != second
    client.cookies.set("session", first)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
