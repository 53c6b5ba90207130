"""An admin's "age concern" deletes an account and everything it holds, leaving no trace of the
person beyond pseudonymised security events."""

from clonechats.accounts import personal_data
from clonechats.privacy import registry
from tests.factories import csrf, log_in, sign_up


async def every_document(ctx) -> list[tuple[str, dict]]:
    found = []
    for name in await ctx.db.list_collection_names():
        found.extend((name, document) for document in await ctx.db[name].find({}).to_list())
    return found


async def make_child_account(new_client, run_jobs) -> tuple[dict, str]:
    """A person who said they were an adult: sessions on two devices, an API key, a failed
    and a good sign-in, a reset request and a changed display name."""
    child = new_client()
    response = await sign_up(child, email="kid@example.com", display_name="Kiddo")
    assert response.status_code == 201
    user = response.json()["user"]
    key = await child.post("/api/v1/account/api-keys", json={"name": "tablet"},
                           headers=csrf(child))
    assert key.status_code == 201
    await child.patch("/api/v1/account/profile", json={"display_name": "Kid"},
                      headers=csrf(child))
    second = new_client()
    await log_in(second, email="kid@example.com", password="not the right one at all")
    assert (await log_in(second, email="kid@example.com")).status_code == 200
    await second.post("/api/v1/auth/password-reset", json={"email": "kid@example.com"},
                      headers=csrf(second))
    await run_jobs()
    return user, key.json()["key"]


async def test_age_concern_deletes_everything_about_the_person(client, ctx, admin, new_client,
                                                               run_jobs):
    user, key = await make_child_account(new_client, run_jobs)
    before = await every_document(ctx)
    assert {name for name, doc in before if user["id"] in str(doc)} >= {
        "users", "sessions", "api_keys", "one_time_tokens", "login_attempts", "audit_log"}

    response = await client.post(f"/api/v1/admin/users/{user['id']}/age-concern",
                                 headers=csrf(client))

    assert response.status_code == 200
    assert response.json()["deleted"]["accounts"] > 0
    pseudonym = personal_data.pseudonym(ctx, user["id"])
    for name, document in await every_document(ctx):
        text = str(document)
        assert user["id"] not in text, (name, document)
        assert "kid@example.com" not in text, (name, document)
        if name == "audit_log":
            assert document["user_id"] in (pseudonym, admin["_id"], None), document
    [event] = await ctx.db.audit_log.find({"event": "age_concern_deleted"}).to_list()
    assert event["user_id"] == pseudonym
    assert event["details"] == {"actor_id": admin["_id"]}
    assert await ctx.db.audit_log.count_documents({"user_id": pseudonym}) >= 5

    me = new_client()
    assert (await me.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
            ).status_code == 401
    assert (await log_in(me, email="kid@example.com")).status_code == 401


async def test_the_email_is_blocked_for_a_while_like_a_refused_signup(client, ctx, clock, admin,
                                                                      new_client, run_jobs):
    user, _ = await make_child_account(new_client, run_jobs)
    await client.post(f"/api/v1/admin/users/{user['id']}/age-concern", headers=csrf(client))
    again = await sign_up(new_client(), email="kid@example.com")
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "signup_blocked"
    clock.advance(hours=ctx.settings.accounts.under13_block_hours + 1)
    assert (await sign_up(new_client(), email="kid@example.com")).status_code == 201


async def test_age_concern_refusals(client, ctx, admin):
    unknown = await client.post("/api/v1/admin/users/0123456789abcdef01234567/age-concern",
                                headers=csrf(client))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    myself = await client.post(f"/api/v1/admin/users/{admin['_id']}/age-concern",
                               headers=csrf(client))
    assert myself.status_code == 409
    assert myself.json()["error"]["code"] == "target_is_admin"
    assert await ctx.db.users.count_documents({"_id": admin["_id"]}) == 1
    assert await ctx.db.audit_log.count_documents({"event": "age_concern_deleted"}) == 0


async def test_the_export_shows_metadata_but_no_secrets(ctx, new_client, run_jobs):
    user, key = await make_child_account(new_client, run_jobs)
    exported = await registry.export_user_data(ctx, user["id"])
    accounts = exported["accounts"]
    assert accounts["profile"]["email"] == "kid@example.com"
    assert "password_hash" not in accounts["profile"]
    assert len(accounts["sessions"]) == 2
    assert [k["name"] for k in accounts["api_keys"]] == ["tablet"]
    assert [a["outcome"] for a in accounts["login_attempts"]] == ["failed", "ok"]
    assert {"signup", "api_key_created", "login_ok"} <= {e["event"]
                                                         for e in accounts["audit_events"]}
    stored_secrets = [s["_id"] for s in await ctx.db.sessions.find({}).to_list()]
    stored_secrets += [k["digest"] for k in await ctx.db.api_keys.find({}).to_list()]
    text = str(exported)
    assert key not in text
    assert not any(secret in text for secret in stored_secrets)
    assert "$2b$" not in text
