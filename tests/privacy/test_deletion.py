"""Account deletion: re-authentication, sessions end at once, everything owned goes, payment
records stay pseudonymised, and a receipt is emailed."""

from typing import Any

import httpx

from clonechats.accounts import sessions
from clonechats.client_info import ClientInfo
from clonechats.privacy import audit, retention
from tests.factories import DEFAULT_PASSWORD, Member, csrf, emails_to, log_in, make_user, new_client
from tests.privacy.helpers import files_with, populate, traces

ACCOUNT = "/api/v1/account"


async def delete(who: Member, password: str | None = DEFAULT_PASSWORD) -> httpx.Response:
    body = {} if password is None else {"password": password}
    return await who.send("DELETE", ACCOUNT, json=body)


async def test_a_wrong_password_is_refused_and_changes_nothing(ann: Member, ctx):
    before = await ctx.db.sessions.count_documents({"user_id": ann.id})
    response = await delete(ann, "not my password at all")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"
    assert (await delete(ann, None)).json()["error"]["code"] == "password_required"
    assert await ctx.db.users.find_one({"_id": ann.id}) is not None
    assert await ctx.db.sessions.count_documents({"user_id": ann.id}) == before
    assert await ctx.db.account_deletions.count_documents({}) == 0
    assert await ctx.db.jobs.count_documents({"kind": "privacy.delete_account"}) == 0
    assert (await ann.client.get("/api/v1/auth/me")).status_code == 200


async def test_password_guessing_here_is_throttled(ann: Member):
    codes = [(await delete(ann, f"wrong guess {n}")).status_code for n in range(8)]
    assert codes[0] == 401 and codes[-1] == 429


async def test_unknown_fields_are_refused(ann: Member, ctx):
    response = await ann.send("DELETE", ACCOUNT, json={"password": DEFAULT_PASSWORD,
                                                       "keep": "everything"})
    assert response.status_code == 422
    assert await ctx.db.users.find_one({"_id": ann.id}) is not None


async def test_sessions_and_keys_end_before_the_answer(ann: Member, app, ctx):
    async with new_client(app) as other_device:
        assert (await log_in(other_device, email=ann.email)).status_code == 200
        key = (await ann.send("POST", "/api/v1/account/api-keys", json={"name": "script"})
               ).json()["key"]
        response = await delete(ann)
        assert response.status_code == 202, response.text
        for client in (ann.client, other_device):
            assert (await client.get("/api/v1/auth/me")).status_code == 401
        bearer = await other_device.get("/api/v1/auth/me",
                                        headers={"Authorization": f"Bearer {key}"})
        assert bearer.status_code == 401
        again = await log_in(other_device, email=ann.email)
        assert again.status_code == 401
    assert await ctx.db.sessions.count_documents({"user_id": ann.id}) == 0
    assert "session=" in response.headers.get("set-cookie", "")


async def test_after_the_job_only_pseudonymised_records_and_the_receipt_remain(
        ann: Member, bob: Member, ctx, run_jobs):
    made = await populate(ann, run_jobs)
    bob_persona = await bob.send("POST", "/api/v1/personas", json={"name": "Bo"})
    assert bob_persona.status_code == 201
    assert (await delete(ann)).status_code == 202
    await run_jobs()

    assert await traces(ctx, ann.id) == []
    left = await traces(ctx, ann.email)
    kinds = {(name, doc.get("kind") or doc.get("tags", {}).get("template"))
             for name, doc, _ in left}
    assert kinds <= {("outbox", "account_deleted"), ("jobs", "email.send")}, left
    for name, doc, _ in left:
        if name == "jobs":
            assert doc["payload"]["tags"]["template"] == "account_deleted"
    media_root = ctx.settings.media_dir
    assert files_with(media_root, ann.id) == []
    assert not list((ctx.settings.data_dir / "exports").glob("*.zip"))
    for collection in ("personas", "memories", "media", "conversations", "messages",
                       "persona_favourites", "privacy_settings", "consent_history",
                       "data_requests", "sessions", "api_keys", "users"):
        assert await ctx.db[collection].count_documents(
            {"$or": [{"owner_id": ann.id}, {"user_id": ann.id}, {"_id": ann.id}]}) == 0
    [order] = await ctx.db.orders.find({"_id": made["order_id"]}).to_list()
    assert order["user_id"].startswith("pseudonym:") and order["retain_until"]
    assert await ctx.db.credit_ledger.count_documents({"user_id": order["user_id"]}) >= 1
    assert await ctx.db.webhook_deliveries.count_documents({"order_id": made["order_id"]}) == 1
    events = await ctx.db.audit_log.find({"event": "account_deleted"}).to_list()
    assert [e["user_id"].startswith("pseudonym:") for e in events] == [True]
    assert await ctx.db.personas.count_documents({"owner_id": bob.id}) == 1
    [record] = await ctx.db.account_deletions.find({}).to_list()
    assert record["status"] == "done" and "email" not in record and "user_id" not in record


async def test_the_receipt_is_emailed_after_the_cleanup(ann: Member, ctx, run_jobs):
    await run_jobs()
    assert (await delete(ann)).status_code == 202
    await run_jobs()
    [receipt] = await emails_to(ctx, ann.email)
    assert receipt["subject"] == "Your Clone Chats account has been deleted"
    assert "Ann" in receipt["text"]


async def test_right_after_deletion_the_audit_keeps_every_promise(ann: Member, ctx, run_jobs):
    await populate(ann, run_jobs)
    assert (await delete(ann)).status_code == 202
    await run_jobs()
    results = await audit.run(ctx)
    assert [r.line() for r in results if not r.kept] == []


async def test_a_month_later_nothing_of_theirs_is_left_but_pseudonymised_records(
        ann: Member, ctx, run_jobs):
    await populate(ann, run_jobs)
    assert (await delete(ann)).status_code == 202
    await run_jobs()
    ctx.clock.advance(days=31)
    await retention.apply_rules(ctx)
    assert await traces(ctx, ann.id, ann.email) == []


async def google_person(app: Any, ctx: Any, client: httpx.AsyncClient, *,
                        minutes_ago: int) -> Member:
    user = await make_user(ctx, email="gina@example.com", display_name="Gina")
    await ctx.db.users.update_one({"_id": user["_id"]}, {"$set": {
        "password_hash": None, "auth_provider": "google", "google_sub": "google-123"}})
    ctx.clock.advance(minutes=-minutes_ago)
    token, _ = await sessions.create(ctx.db, user_id=user["_id"],
                                     client=ClientInfo(ip_hash=None, user_agent="test"),
                                     now=ctx.clock.now(), settings=ctx.settings.accounts)
    ctx.clock.advance(minutes=minutes_ago)
    client.cookies.set("session", token)
    await client.get("/")
    return Member(client=client, user=user, ctx=ctx)


async def test_a_google_account_needs_a_recent_sign_in(app, ctx, client):
    gina = await google_person(app, ctx, client, minutes_ago=30)
    stale = await gina.send("DELETE", ACCOUNT, json={})
    assert stale.status_code == 403
    assert stale.json()["error"]["code"] == "reauthentication_required"
    assert await ctx.db.users.find_one({"_id": gina.id}) is not None


async def test_a_google_account_deletes_from_a_fresh_sign_in(app, ctx, client, run_jobs):
    gina = await google_person(app, ctx, client, minutes_ago=2)
    response = await gina.send("DELETE", ACCOUNT)
    assert response.status_code == 202, response.text
    await run_jobs()
    assert await ctx.db.users.find_one({"_id": gina.id}) is None


async def test_a_trial_deletes_with_its_session(anonymous, ctx, run_jobs):
    await anonymous.get("/")
    started = await anonymous.post("/api/v1/auth/trial", headers=csrf(anonymous))
    assert started.status_code in (200, 201), started.text
    user_id = started.json()["user"]["id"]
    response = await anonymous.request("DELETE", ACCOUNT, headers=csrf(anonymous))
    assert response.status_code == 202, response.text
    await run_jobs()
    assert await ctx.db.users.find_one({"_id": user_id}) is None
    assert await traces(ctx, user_id) == []


async def test_signed_out_callers_cannot_delete(anonymous):
    await anonymous.get("/")
    response = await anonymous.request("DELETE", ACCOUNT, json={"password": "x"},
                                       headers=csrf(anonymous))
    assert response.status_code == 401
