"""Sign-up: email normalisation, password policy, age rules, trial conversion."""

from clonechats.privacy.pseudonyms import hash_email
from tests.factories import DEFAULT_PASSWORD, csrf, emails_to, sign_up


async def all_documents(ctx):
    found = []
    for name in await ctx.db.list_collection_names():
        found.extend((name, d) for d in await ctx.db[name].find({}).to_list())
    return found


async def test_signup_normalises_email_and_starts_a_session(client, ctx):
    response = await sign_up(client, email="  Ann.Lee@Example.COM ", display_name="Ann")
    assert response.status_code == 201
    user = response.json()["user"]
    assert user["email"] == "ann.lee@example.com"
    assert user["display_name"] == "Ann"
    assert user["auth_provider"] == "password"
    assert user["status"] == "active"
    me = await client.get("/api/v1/auth/me")
    assert me.json()["user"]["id"] == user["id"]
    stored = await ctx.db.users.find_one({"_id": user["id"]})
    assert stored["password_hash"].startswith("$2b$")
    assert DEFAULT_PASSWORD not in str(stored)


async def test_duplicate_email_refused_whatever_the_case(client, ctx):
    assert (await sign_up(client, email="dup@example.com")).status_code == 201
    await client.post("/api/v1/auth/logout", headers=csrf(client))
    again = await sign_up(client, email="DUP@Example.com")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "email_taken"
    assert await ctx.db.users.count_documents({}) == 1


async def test_weak_passwords_refused_with_a_reason(client, ctx):
    for password, fragment in [("short", "at least 8"), ("password123", "too common"),
                               ("qwertyuiop", "too common"), ("ann@example.com", "email")]:
        response = await sign_up(client, email="ann@example.com", password=password)
        assert response.status_code == 422, password
        assert response.json()["error"]["code"] == "weak_password"
        assert fragment in response.json()["error"]["message"]
    assert await ctx.db.users.count_documents({}) == 0


async def test_long_and_multibyte_passphrases_work(client):
    passphrase = "ünïcödé 🦊 passphrase " * 8  # far beyond bcrypt's 72 bytes
    assert len(passphrase.encode()) > 72
    assert (await sign_up(client, email="long@example.com", password=passphrase)).status_code == 201
    await client.post("/api/v1/auth/logout", headers=csrf(client))
    ok = await client.post("/api/v1/auth/login", headers=csrf(client),
                           json={"email": "long@example.com", "password": passphrase})
    assert ok.status_code == 200
    await client.post("/api/v1/auth/logout", headers=csrf(client))
    truncated = passphrase[:72]
    wrong = await client.post("/api/v1/auth/login", headers=csrf(client),
                              json={"email": "long@example.com", "password": truncated})
    assert wrong.status_code == 401


async def test_oversized_password_gets_a_clear_4xx(client, ctx):
    response = await sign_up(client, password="x" * 5000)
    assert response.status_code == 422
    too_long = await sign_up(client, password="word " * 300)
    assert too_long.status_code == 422
    assert "at most" in too_long.json()["error"]["message"]
    assert await ctx.db.users.count_documents({}) == 0


async def test_malformed_input_is_refused(client, ctx):
    bad = await sign_up(client, email="not-an-email")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_email"
    future = await sign_up(client, birth_date="2099-01-01")
    assert future.json()["error"]["code"] == "invalid_birth_date"
    garbage = await sign_up(client, birth_date="yesterday")
    assert garbage.status_code == 422
    assert await ctx.db.users.count_documents({}) == 0


async def test_under_13_refused_and_only_a_keyed_hash_kept(client, ctx, clock):
    child = "kid@example.com"
    refused = await sign_up(client, email=child, birth_date="2016-06-01")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "age_restricted"
    assert await ctx.db.users.count_documents({}) == 0
    everything = await all_documents(ctx)
    assert child not in str(everything)
    blocks = await ctx.db.signup_blocks.find({}).to_list()
    assert [b["_id"] for b in blocks] == [hash_email(ctx.secret, child)]
    retry = await sign_up(client, email=child, birth_date="1990-01-01")
    assert retry.status_code == 403
    clock.advance(hours=25)
    later = await sign_up(client, email=child, birth_date="1990-01-01")
    assert later.status_code == 201


async def test_a_blocked_address_is_told_it_waits_not_that_it_is_too_young(client, ctx, clock):
    child = "kid@example.com"
    await sign_up(client, email=child, birth_date="2016-06-01")
    corrected = await sign_up(client, email=child, birth_date="1990-01-01")
    assert corrected.status_code == 403
    error = corrected.json()["error"]
    assert error["code"] == "signup_blocked"
    assert "at least 13" not in error["message"]
    assert error["message"] == ("This email address can't be used to sign up for now. "
                                "Please try again in about 24 hours.")
    clock.advance(hours=23, minutes=30)
    later = (await sign_up(client, email=child, birth_date="1990-01-01")).json()["error"]
    assert later["message"].endswith("try again in less than an hour.")
    assert await ctx.db.users.count_documents({}) == 0


async def test_minor_needs_guardian_and_is_pending(client, ctx, run_jobs):
    missing = await sign_up(client, email="teen@example.com", birth_date="2011-01-01")
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "guardian_email_required"
    response = await sign_up(client, email="teen@example.com", birth_date="2011-01-01",
                             guardian_email="parent@example.com")
    assert response.status_code == 201
    assert response.json()["user"]["status"] == "guardian_pending"
    await run_jobs()
    [consent] = await emails_to(ctx, "parent@example.com")
    assert "/guardian/consent?token=" in consent["text"]


async def test_signup_sends_verification_in_a_job_not_inline(client, ctx, run_jobs):
    await sign_up(client, email="verify@example.com")
    assert await emails_to(ctx, "verify@example.com") == []
    assert await run_jobs() >= 1
    [email] = await emails_to(ctx, "verify@example.com")
    assert "/verify-email?token=" in email["text"]


async def test_signup_from_a_trial_keeps_the_same_user(client, ctx):
    await client.get("/")
    trial = await client.post("/api/v1/auth/trial", headers=csrf(client))
    assert trial.status_code == 201
    trial_id = trial.json()["user"]["id"]
    await ctx.db.marker.insert_one({"owner_id": trial_id})
    response = await sign_up(client, email="convert@example.com")
    assert response.status_code == 201
    assert response.json()["user"]["id"] == trial_id
    assert response.json()["user"]["status"] == "active"
    assert await ctx.db.users.count_documents({}) == 1


async def test_a_new_account_starts_with_welcome_credits_on_the_ledger(client, ctx):
    from clonechats.billing import ledger

    response = await sign_up(client, email="welcome@example.com")
    user = response.json()["user"]
    assert user["credits"] == ctx.settings.accounts.welcome_credits == 50
    assert await ledger.applied_sum(ctx.db, user["id"]) == 50
