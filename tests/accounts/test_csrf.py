"""CSRF: signed double-submit bound to the session, as API.md describes."""

from tests.factories import csrf, log_in, make_user


async def signed_in(client, ctx):
    await make_user(ctx, email="c@example.com")
    await log_in(client, email="c@example.com")


async def test_every_get_sets_a_csrf_cookie(client):
    response = await client.get("/privacy")
    assert "csrf_token=" in response.headers["set-cookie"]


async def test_missing_or_wrong_token_is_refused(client, ctx):
    await signed_in(client, ctx)
    patch = {"display_name": "New"}
    missing = await client.patch("/api/v1/account/profile", json=patch)
    assert missing.status_code == 403 and missing.json()["error"]["code"] == "csrf_failed"
    forged = await client.patch("/api/v1/account/profile", json=patch,
                                headers={"X-CSRF-Token": "abc.def"})
    assert forged.status_code == 403
    assert (await client.get("/api/v1/auth/me")).json()["user"]["display_name"] is None
    ok = await client.patch("/api/v1/account/profile", json=patch, headers=csrf(client))
    assert ok.status_code == 200 and ok.json()["user"]["display_name"] == "New"


async def test_token_from_another_session_is_refused(client, ctx):
    await client.get("/")
    anonymous_token = client.cookies.get("csrf_token")
    await signed_in(client, ctx)
    assert client.cookies.get("csrf_token") != anonymous_token
    client.cookies.set("csrf_token", anonymous_token)
    stale = await client.patch("/api/v1/account/profile", json={"display_name": "X"},
                               headers={"X-CSRF-Token": anonymous_token})
    assert stale.status_code == 403


async def test_form_field_is_accepted(client, ctx):
    await signed_in(client, ctx)
    response = await client.post("/api/v1/auth/logout",
                                 data={"csrf_token": client.cookies.get("csrf_token")})
    assert response.status_code == 204


async def test_cross_site_request_refused_even_without_session(client, ctx):
    await make_user(ctx, email="x@example.com")
    response = await client.post("/api/v1/auth/login", headers={"Sec-Fetch-Site": "cross-site"},
                                 json={"email": "x@example.com",
                                       "password": "a long and unusual passphrase"})
    assert response.status_code == 403
    assert "session" not in client.cookies


async def test_api_keys_need_no_csrf_and_are_shown_once(client, ctx, app):
    import httpx

    await signed_in(client, ctx)
    created = await client.post("/api/v1/account/api-keys", json={"name": "script"},
                                headers=csrf(client))
    assert created.status_code == 201
    key = created.json()["key"]
    stored = await ctx.db.api_keys.find_one({})
    assert key not in str(stored)
    listing = (await client.get("/api/v1/account/api-keys")).json()["items"]
    assert "key" not in listing[0] and listing[0]["hint"] == key[:8] + "…"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as script:
        bearer = {"Authorization": f"Bearer {key}"}
        assert (await script.get("/api/v1/auth/me", headers=bearer)).status_code == 200
        changed = await script.patch("/api/v1/account/profile", headers=bearer,
                                     json={"display_name": "From script"})
        assert changed.status_code == 200
        revoke = await client.delete(f"/api/v1/account/api-keys/{listing[0]['id']}",
                                     headers=csrf(client))
        assert revoke.status_code == 204
        assert (await script.get("/api/v1/auth/me", headers=bearer)).status_code == 401
        bogus = await script.get("/api/v1/auth/me", headers={"Authorization": "Bearer cck_nope"})
        assert bogus.status_code == 401


async def test_cannot_revoke_another_users_api_key(client, ctx):
    other = await make_user(ctx, email="other@example.com")
    from clonechats.accounts import api_keys

    _, record = await api_keys.create(ctx.db, user_id=other["_id"], name="theirs",
                                      now=ctx.clock.now())
    await signed_in(client, ctx)
    attempt = await client.delete(f"/api/v1/account/api-keys/{record['_id']}",
                                  headers=csrf(client))
    assert attempt.status_code == 404
    assert (await ctx.db.api_keys.find_one({"_id": record["_id"]}))["revoked_at"] is None
