"""Admin user tools: search, one user's view, role change with re-authentication, suspend and
restore, sign out everywhere, credit grants and claw-backs with a reason."""

from tests.factories import DEFAULT_PASSWORD, csrf, log_in, make_user

USERS = "/api/v1/admin/users"


async def test_search_and_the_users_view(client, ctx, admin, new_client):
    ann = await make_user(ctx, email="ann.smith@example.com", display_name="Ann")
    await make_user(ctx, email="bob@example.com")
    found = (await client.get(USERS, params={"q": "smith"})).json()["items"]
    assert [u["email"] for u in found] == ["ann.smith@example.com"]
    assert [u["id"] for u in (await client.get(USERS, params={"q": ann["_id"]})).json()[
        "items"]] == [ann["_id"]]
    assert (await client.get(USERS, params={"q": ".*"})).json()["items"] == []  # literal
    await log_in(new_client(), email="ann.smith@example.com")

    view = (await client.get(f"{USERS}/{ann['_id']}")).json()
    assert view["user"]["email"] == "ann.smith@example.com"
    assert "password_hash" not in repr(view) and "$2b$" not in repr(view)
    [session] = view["sessions"]
    assert session["ip_hash"] and "127.0.0.1" not in repr(view)
    assert any(e["event"] == "login_ok" for e in view["audit"])
    page = await client.get(f"/admin/users/{ann['_id']}")
    assert page.status_code == 200 and "$2b$" not in page.text
    users_page = await client.get("/admin/users", params={"q": "smith"})
    assert f'href="/admin/users/{ann["_id"]}"' in users_page.text
    assert "bob@example.com" not in users_page.text
    assert (await client.get(f"{USERS}/0123456789abcdef01234567")).status_code == 404


async def test_role_change_needs_the_admins_password(client, ctx, admin):
    member = await make_user(ctx, email="member@example.com")
    for body in ({"role": "admin"}, {"role": "admin", "password": "wrong password here"}):
        response = await client.patch(f"{USERS}/{member['_id']}", json=body,
                                      headers=csrf(client))
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "reauth_required"
    assert (await ctx.db.users.find_one({"_id": member["_id"]}))["role"] == "user"
    ok = await client.patch(f"{USERS}/{member['_id']}",
                            json={"role": "admin", "password": DEFAULT_PASSWORD},
                            headers=csrf(client))
    assert ok.status_code == 200


async def test_suspend_restore_and_sign_out_everywhere(client, ctx, admin, new_client):
    member = await make_user(ctx, email="member@example.com")
    browsers = [new_client(), new_client()]
    for http in browsers:
        await log_in(http, email="member@example.com")
    signed_out = await client.post(f"{USERS}/{member['_id']}/sessions/revoke",
                                   headers=csrf(client))
    assert signed_out.json()["revoked"] == 2
    for http in browsers:
        assert (await http.get("/api/v1/auth/me")).status_code == 401

    suspended = await client.post(f"{USERS}/{member['_id']}/suspend", json={
        "note": "spam", "reason": "Your account sent spam."}, headers=csrf(client))
    assert suspended.status_code == 200
    refused = await log_in(new_client(), email="member@example.com")
    assert refused.status_code == 403
    assert refused.json()["error"]["message"].startswith("Your account sent spam.")
    self_suspend = await client.post(f"{USERS}/{admin['_id']}/suspend", json={},
                                     headers=csrf(client))
    assert self_suspend.status_code == 409
    restored = await client.post(f"{USERS}/{member['_id']}/restore", json={"note": "ok"},
                                 headers=csrf(client))
    assert restored.status_code == 200
    assert (await log_in(new_client(), email="member@example.com")).status_code == 200
    events = {e["event"] for e in await ctx.db.audit_log.find({}).to_list()}
    assert {"sessions_revoked_by_admin", "account_suspended", "account_restored"} <= events


async def test_credits_are_granted_and_clawed_back_through_the_ledger(client, ctx, admin):
    member = await make_user(ctx, email="member@example.com")
    grant = await client.post(f"{USERS}/{member['_id']}/credits",
                              json={"delta": 50, "reason": "outage apology"},
                              headers=csrf(client))
    assert grant.status_code == 201 and grant.json()["entry"]["balance_after"] == 50
    claw = await client.post(f"{USERS}/{member['_id']}/credits",
                             json={"delta": -80, "reason": "mistaken grant"},
                             headers=csrf(client))
    assert claw.status_code == 201 and claw.json()["entry"]["delta"] == -50  # never below 0
    assert (await ctx.db.users.find_one({"_id": member["_id"]}))["credits"] == 0
    entries = await ctx.db.credit_ledger.find({"user_id": member["_id"]}).sort("at", 1).to_list()
    assert [e["reason"] for e in entries] == ["admin: outage apology", "admin: mistaken grant"]
    assert all(e["actor_id"] == admin["_id"] for e in entries)
    for body in ({"delta": 0, "reason": "x"}, {"delta": 5, "reason": ""},
                 {"delta": 10**9, "reason": "x"}, {"delta": "many", "reason": "x"}):
        response = await client.post(f"{USERS}/{member['_id']}/credits", json=body,
                                     headers=csrf(client))
        assert response.status_code == 422, body
    assert await ctx.db.credit_ledger.count_documents({"user_id": member["_id"]}) == 2
