"""Sessions: digests only, expiry, revocation, listing, rotation on privilege change."""

from clonechats.accounts import profile
from tests.factories import csrf, log_in, make_user


async def test_only_the_digest_of_a_session_token_is_stored(client, ctx):
    await make_user(ctx, email="s@example.com")
    await log_in(client, email="s@example.com")
    token = client.cookies.get("session")
    assert len(token) >= 43  # 256 bits, URL-safe base64
    [stored] = await ctx.db.sessions.find({}).to_list()
    assert token not in str(stored)
    assert len(stored["_id"]) == 64


async def test_reused_session_after_logout_is_refused(client, ctx):
    await make_user(ctx, email="out@example.com")
    await log_in(client, email="out@example.com")
    token = client.cookies.get("session")
    assert (await client.post("/api/v1/auth/logout", headers=csrf(client))).status_code == 204
    client.cookies.set("session", token)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert await ctx.db.sessions.count_documents({}) == 0


async def test_idle_and_absolute_expiry(client, ctx, clock):
    await make_user(ctx, email="idle@example.com")
    await log_in(client, email="idle@example.com")
    clock.advance(days=6)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    clock.advance(days=7, minutes=1)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    await log_in(client, email="idle@example.com")
    for _ in range(4):
        clock.advance(days=6)
        assert (await client.get("/api/v1/auth/me")).status_code == 200
    clock.advance(days=6)  # 30 days after sign-in, although never idle
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_list_and_revoke_sessions(app, ctx):
    import httpx

    await make_user(ctx, email="multi@example.com")
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") for _ in range(3)]
    try:
        for index, http in enumerate(clients):
            await log_in(http, email="multi@example.com",
                         headers={"User-Agent": f"Device {index}"})
        listing = (await clients[0].get("/api/v1/account/sessions")).json()["items"]
        assert len(listing) == 3
        assert [s["current"] for s in listing].count(True) == 1
        other = next(s for s in listing if s["user_agent"] == "Device 1")
        revoked = await clients[0].delete(f"/api/v1/account/sessions/{other['id']}",
                                          headers=csrf(clients[0]))
        assert revoked.status_code == 204
        assert (await clients[1].get("/api/v1/auth/me")).status_code == 401
        rest = await clients[0].post("/api/v1/account/sessions/revoke-others",
                                     headers=csrf(clients[0]))
        assert rest.json() == {"revoked": 1}
        assert (await clients[2].get("/api/v1/auth/me")).status_code == 401
        assert (await clients[0].get("/api/v1/auth/me")).status_code == 200
    finally:
        for http in clients:
            await http.aclose()


async def test_cannot_revoke_someone_elses_session(client, ctx, app):
    import httpx

    await make_user(ctx, email="a@example.com")
    await make_user(ctx, email="b@example.com")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other:
        await log_in(other, email="b@example.com")
        victim = (await other.get("/api/v1/account/sessions")).json()["items"][0]["id"]
        await log_in(client, email="a@example.com")
        attempt = await client.delete(f"/api/v1/account/sessions/{victim}", headers=csrf(client))
        assert attempt.status_code == 404
        assert (await other.get("/api/v1/auth/me")).status_code == 200


async def test_password_change_rotates_and_ends_other_sessions(app, client, ctx):
    import httpx

    await make_user(ctx, email="pw@example.com")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other:
        await log_in(other, email="pw@example.com")
        await log_in(client, email="pw@example.com")
        before = client.cookies.get("session")
        wrong = await client.post("/api/v1/account/password", headers=csrf(client), json={
            "current_password": "not it at all", "new_password": "another fine passphrase"})
        assert wrong.status_code == 403
        changed = await client.post("/api/v1/account/password", headers=csrf(client), json={
            "current_password": "a long and unusual passphrase",
            "new_password": "another fine passphrase"})
        assert changed.status_code == 204
        assert client.cookies.get("session") != before
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        assert (await other.get("/api/v1/auth/me")).status_code == 401


async def test_role_change_ends_sessions(client, ctx):
    user = await make_user(ctx, email="role@example.com")
    await log_in(client, email="role@example.com")
    await profile.set_role(ctx, user["_id"], "admin", actor_id=None, client=None)
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    await log_in(client, email="role@example.com")
    assert (await client.get("/api/v1/auth/me")).json()["user"]["role"] == "admin"
    events = await ctx.db.audit_log.find({"event": "role_changed"}).to_list()
    assert len(events) == 1
