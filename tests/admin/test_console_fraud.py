"""Fraud signals: named rules with thresholds from settings, their evidence, and the actions
(suspend, revoke trials)."""

import pytest

from clonechats.billing import orders
from clonechats.settings import AccountSettings, AdminSettings, FraudSettings
from tests.conftest import FAST_HASHING, make_settings
from tests.factories import csrf, log_in, make_user

FRAUD = "/api/v1/admin/fraud"


@pytest.fixture
def settings(tmp_path):
    return make_settings(
        tmp_path / "data",
        accounts=AccountSettings(bcrypt_rounds=FAST_HASHING.bcrypt_rounds,
                                 trials_per_address_per_day=10),
        admin=AdminSettings(fraud=FraudSettings(trials_per_address=3, failed_orders_per_user=2,
                                                granted_credits_per_user=500,
                                                webhook_signature_failures=2)))


async def start_trials(new_client, count):
    trial_ids = []
    for _ in range(count):
        http = new_client()  # a new browser each time: a new device id
        await http.get("/")
        response = await http.post("/api/v1/auth/trial", headers=csrf(http))
        assert response.status_code == 201, response.text
        trial_ids.append((response.json()["user"]["id"], http))
    return trial_ids


def by_rule(signals, rule):
    return [s for s in signals if s["rule"] == rule]


async def test_a_burst_of_trials_from_one_address_is_a_signal_that_can_be_revoked(
        client, ctx, admin, new_client):
    trials = await start_trials(new_client, 2)
    assert by_rule((await client.get(FRAUD)).json()["items"], "trials_per_address") == []
    trials += await start_trials(new_client, 1)
    [signal] = by_rule((await client.get(FRAUD)).json()["items"], "trials_per_address")
    assert signal["subject"].startswith("address:")
    assert "127.0.0.1" not in signal["subject"]  # a keyed hash, never the address
    assert signal["evidence"]["trials"] == 3 and signal["evidence"]["threshold"] == 3
    assert signal["actions"] == ["revoke_trials"]
    page = await client.get("/admin/fraud")
    assert "Many free trials from one network address" in page.text

    response = await client.post(f"{FRAUD}/action", json={
        "action": "revoke_trials", "subject": signal["subject"], "note": "trial farm"},
        headers=csrf(client))
    assert response.status_code == 200, response.text
    body = response.json()
    assert sorted(body["suspended"]) == sorted(user_id for user_id, _ in trials)
    assert body["credits_revoked"] == 3 * ctx.settings.accounts.trial_credits
    for user_id, http in trials:
        user = await ctx.db.users.find_one({"_id": user_id})
        assert user["credits"] == 0 and user["suspended_at"] is not None
        assert (await http.get("/api/v1/auth/me")).status_code == 401
    assert await ctx.db.audit_log.count_documents({"event": "trials_revoked"}) == 1


async def test_failed_orders_grants_and_bad_webhooks_fire_their_rules(client, ctx, admin, clock,
                                                                      new_client):
    buyer = await make_user(ctx, email="buyer@example.com")
    for _ in range(2):
        await orders.insert(ctx.db, {"_id": orders.new_order_id(), "user_id": buyer["_id"],
                                     "status": orders.FAILED, "created_at": clock.now()})
    grant = await client.post(f"/api/v1/admin/users/{buyer['_id']}/credits",
                              json={"delta": 600, "reason": "goodwill"}, headers=csrf(client))
    assert grant.status_code == 201
    provider = new_client()  # the payment provider's side: no cookies
    webhooks = [await provider.post("/api/v1/billing/webhooks/sandbox", content=b"{}",
                                  headers={"Content-Type": "application/json"})
                for _ in range(2)]
    assert {r.status_code for r in webhooks} == {401}

    signals = (await client.get(FRAUD)).json()["items"]
    [failed] = by_rule(signals, "failed_orders")
    assert failed["subject"] == f"user:{buyer['_id']}"
    assert failed["evidence"]["failed_orders"] == 2
    [granted] = by_rule(signals, "credit_grants")
    assert granted["evidence"]["credits"] == 600 and granted["actions"] == ["suspend"]
    [hooks] = by_rule(signals, "webhook_signature_failures")
    assert hooks["subject"] == "provider:sandbox" and hooks["evidence"]["failures"] == 2

    suspend = await client.post(f"{FRAUD}/action", json={
        "action": "suspend", "subject": failed["subject"], "note": "card testing"},
        headers=csrf(client))
    assert suspend.status_code == 200
    assert (await ctx.db.users.find_one({"_id": buyer["_id"]}))["suspended_at"] is not None

    clock.advance(hours=25)  # outside the window, the rules are quiet again
    assert (await client.get(FRAUD)).json()["items"] == []


async def test_a_refund_after_heavy_use_is_a_signal(client, ctx, admin, clock):
    await orders.insert(ctx.db, {"_id": "ord_refunded", "user_id": "u1", "credits": 200,
                                 "status": orders.REFUNDED, "created_at": clock.now(),
                                 "refunded_at": clock.now(), "refund": {"shortfall": 150}})
    await orders.insert(ctx.db, {"_id": "ord_fine", "user_id": "u2", "credits": 200,
                                 "status": orders.REFUNDED, "created_at": clock.now(),
                                 "refunded_at": clock.now(), "refund": {"shortfall": 10}})
    [signal] = by_rule((await client.get(FRAUD)).json()["items"], "refund_after_use")
    assert signal["subject"] == "user:u1" and signal["evidence"]["already_spent"] == 150


async def test_bad_fraud_actions_are_422_and_change_nothing(client, ctx, admin):
    member = await make_user(ctx, email="member@example.com")
    for body in ({"action": "delete", "subject": f"user:{member['_id']}"},
                 {"action": "suspend", "subject": "address:abc"},
                 {"action": "revoke_trials", "subject": f"user:{member['_id']}"},
                 {"action": "suspend", "subject": "nobody"}):
        response = await client.post(f"{FRAUD}/action", json=body, headers=csrf(client))
        assert response.status_code == 422, body
    assert "suspended_at" not in await ctx.db.users.find_one({"_id": member["_id"]})
    await log_in(client, email="member@example.com")
    assert (await client.get(FRAUD)).status_code == 403
