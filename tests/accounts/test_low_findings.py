"""Smaller hardening: 100 wrong passwords turn password sign-in off until a reset (NIST), a
hash made at another bcrypt cost is redone at sign-in, the last administrator cannot delete
their account, and the CSP forbids `<base>`."""

from clonechats.accounts import passwords
from tests.factories import DEFAULT_PASSWORD, csrf, emails_to, log_in, make_user, token_from


async def test_a_hundred_wrong_passwords_disable_password_sign_in_until_a_reset(
        client, ctx, run_jobs):
    user = await make_user(ctx, email="target@example.com")
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"failed_logins": 99}})
    wrong = await log_in(client, email="target@example.com", password="not it at all")
    assert wrong.status_code == 401
    assert (await ctx.db.users.find_one({"_id": user["_id"]}))["failed_logins"] == 100
    right = await log_in(client, email="target@example.com")
    assert right.status_code == 403
    assert right.json()["error"]["code"] == "password_sign_in_disabled"
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    await client.post("/api/v1/auth/password-reset", json={"email": "target@example.com"},
                      headers=csrf(client))
    await run_jobs()
    token = token_from((await emails_to(ctx, "target@example.com"))[0], "/reset-password")
    done = await client.post("/api/v1/auth/password-reset/confirm", headers=csrf(client),
                             json={"token": token, "password": "a brand new passphrase"})
    assert done.status_code == 204
    back = await log_in(client, email="target@example.com", password="a brand new passphrase")
    assert back.status_code == 200


async def test_a_successful_sign_in_resets_the_count(client, ctx):
    user = await make_user(ctx, email="s@example.com")
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"failed_logins": 42}})
    assert (await log_in(client, email="s@example.com")).status_code == 200
    assert (await ctx.db.users.find_one({"_id": user["_id"]}))["failed_logins"] == 0


async def test_a_hash_of_another_cost_is_redone_at_sign_in(client, ctx):
    user = await make_user(ctx, email="old@example.com")
    older = await passwords.hash_password(DEFAULT_PASSWORD, rounds=5)
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {"password_hash": older}})
    assert (await log_in(client, email="old@example.com")).status_code == 200
    stored = (await ctx.db.users.find_one({"_id": user["_id"]}))["password_hash"]
    assert stored != older and stored.startswith("$2b$04$")
    assert not passwords.needs_rehash(stored, rounds=4)
    client.cookies.clear()
    assert (await log_in(client, email="old@example.com")).status_code == 200


async def test_the_last_admin_cannot_delete_their_account(client, ctx):
    admin = await make_user(ctx, email="admin@example.com", role="admin")
    await log_in(client, email="admin@example.com")
    refused = await client.request("DELETE", "/api/v1/account", headers=csrf(client),
                                   json={"password": DEFAULT_PASSWORD})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "last_admin"
    assert await ctx.db.users.count_documents({"_id": admin["_id"]}) == 1
    assert (await client.get("/api/v1/auth/me")).status_code == 200  # still signed in
    await make_user(ctx, email="second@example.com", role="admin")
    allowed = await client.request("DELETE", "/api/v1/account", headers=csrf(client),
                                   json={"password": DEFAULT_PASSWORD})
    assert allowed.status_code == 202


async def test_the_csp_forbids_base_elements(client):
    policy = (await client.get("/")).headers["content-security-policy"]
    assert "base-uri 'none'" in policy
