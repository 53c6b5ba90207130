"""Two-factor authentication over the API: turning it on with a current code, the two-step
sign-in (no session before the code), codes that work once, recovery codes, the back-off,
turning it off, and what never leaves the server (the secret, the recovery codes)."""

import json
from typing import Any

import httpx
import pyotp
import pytest

from clonechats.accounts import two_factor
from clonechats.privacy import registry
from tests.factories import DEFAULT_PASSWORD, csrf, make_user

SETUP = "/api/v1/account/two-factor/setup"
CONFIRM = "/api/v1/account/two-factor/confirm"
DISABLE = "/api/v1/account/two-factor/disable"
STATUS = "/api/v1/account/two-factor"
LOGIN = "/api/v1/auth/login"
CODE_STEP = "/api/v1/auth/login/two-factor"
EMAIL = "ann@example.com"


def code_for(secret: str, ctx: Any, step_offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(ctx.clock.now()) + step_offset)


async def password_step(client: httpx.AsyncClient, email: str = EMAIL) -> httpx.Response:
    if "csrf_token" not in client.cookies:
        await client.get("/")
    return await client.post(LOGIN, json={"email": email, "password": DEFAULT_PASSWORD},
                             headers=csrf(client))


async def code_step(client: httpx.AsyncClient, code: str, **body: Any) -> httpx.Response:
    return await client.post(CODE_STEP, json={"code": code, **body}, headers=csrf(client))


async def audit_events(ctx: Any, user_id: str) -> list[str]:
    events = await ctx.db.audit_log.find({"user_id": user_id}).sort("at", 1).to_list()
    return [event["event"] for event in events]


@pytest.fixture
async def ann(ctx: Any, client: httpx.AsyncClient) -> dict[str, Any]:
    user = await make_user(ctx, email=EMAIL)
    assert (await password_step(client)).status_code == 200
    return user


async def turn_on(client: httpx.AsyncClient, ctx: Any) -> tuple[str, list[str]]:
    started = await client.post(SETUP, headers=csrf(client))
    assert started.status_code == 201, started.text
    secret = started.json()["secret"]
    confirmed = await client.post(CONFIRM, json={"code": code_for(secret, ctx)},
                                  headers=csrf(client))
    assert confirmed.status_code == 200, confirmed.text
    ctx.clock.advance(seconds=30)  # the confirming code is used: sign-ins take the next one
    return secret, confirmed.json()["recovery_codes"]


async def test_turning_on_needs_a_current_code_and_gives_ten_recovery_codes_once(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    started = await client.post(SETUP, headers=csrf(client))
    assert started.status_code == 201
    secret = started.json()["secret"]
    assert started.json()["uri"].startswith("otpauth://totp/")

    wrong = await client.post(CONFIRM, json={"code": "000000"}, headers=csrf(client))
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "invalid_two_factor_code"
    assert (await client.get(STATUS)).json()["enabled"] is False

    right = await client.post(CONFIRM, json={"code": code_for(secret, ctx)},
                              headers=csrf(client))
    assert right.status_code == 200
    codes = right.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await client.get(STATUS)).json() == {
        "enabled": True, "enabled_at": ctx.clock.now().isoformat(), "recovery_codes_left": 10,
        "setup_pending": False}
    stored = json.dumps(await ctx.db.users.find_one({"_id": ann["_id"]}), default=str)
    assert secret not in stored
    assert not any(code in stored or two_factor.normalise(code) in stored for code in codes)
    assert (await client.get("/api/v1/auth/me")).status_code == 200  # this session goes on
    again = await client.post(SETUP, headers=csrf(client))
    assert again.status_code == 409
    assert await audit_events(ctx, ann["_id"]) == [
        "login_ok", "two_factor_failed", "two_factor_enabled"]


async def test_signing_in_takes_the_password_then_a_code_and_no_session_before(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any], app: Any) -> None:
    secret, _ = await turn_on(client, ctx)
    browser = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                base_url="http://testserver")
    async with browser:
        first = await password_step(browser)
        assert first.status_code == 200
        assert first.json()["two_factor_required"] is True
        assert "user" not in first.json()
        assert "session" not in browser.cookies
        assert (await browser.get("/api/v1/auth/me")).status_code == 401

        wrong = await code_step(browser, "123456")
        assert wrong.status_code == 400
        assert wrong.json()["error"]["code"] == "invalid_two_factor_code"
        assert (await browser.get("/api/v1/auth/me")).status_code == 401

        right = await code_step(browser, code_for(secret, ctx))
        assert right.status_code == 200, right.text
        assert right.json()["user"]["id"] == ann["_id"]
        assert right.json()["redirect"] == "/account"
        assert (await browser.get("/api/v1/auth/me")).status_code == 200
        assert "two_factor_login" not in browser.cookies
    events = await audit_events(ctx, ann["_id"])
    assert events[-3:] == ["two_factor_challenged", "two_factor_failed", "login_ok"]


async def test_an_api_client_sends_the_pending_token_in_the_body(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any], app: Any) -> None:
    secret, _ = await turn_on(client, ctx)
    token = (await password_step(client)).json()["token"]
    client.cookies.delete("two_factor_login")
    done = await code_step(client, code_for(secret, ctx), token=token)
    assert done.status_code == 200, done.text
    used = await code_step(client, code_for(secret, ctx, 1), token=token)
    assert used.status_code == 400
    assert used.json()["error"]["code"] == "two_factor_login_expired"


async def test_a_code_works_once_within_its_window(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    secret, _ = await turn_on(client, ctx)
    code = code_for(secret, ctx)
    await password_step(client)
    assert (await code_step(client, code)).status_code == 200

    await password_step(client)
    replayed = await code_step(client, code)
    assert replayed.status_code == 400
    assert replayed.json()["error"]["code"] == "invalid_two_factor_code"
    older = await code_step(client, code_for(secret, ctx, -1))  # nor an earlier one
    assert older.status_code == 400
    assert (await code_step(client, code_for(secret, ctx, 1))).status_code == 200


async def test_a_recovery_code_signs_in_once(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    _, codes = await turn_on(client, ctx)
    await password_step(client)
    assert (await code_step(client, codes[0].upper().replace("-", " "))).status_code == 200
    assert (await client.get(STATUS)).json()["recovery_codes_left"] == 9
    assert "two_factor_recovery_used" in await audit_events(ctx, ann["_id"])

    await password_step(client)
    again = await code_step(client, codes[0])
    assert again.status_code == 400
    digits_only = "2345623456"  # a recovery code may be all digits: never taken for a TOTP
    stored = await ctx.db.users.find_one({"_id": ann["_id"]})
    await ctx.db.users.update_one({"_id": ann["_id"]}, {"$push": {
        "two_factor.recovery_hashes": two_factor.hash_recovery_code(ctx.secret, digits_only)}})
    assert len(stored["two_factor"]["recovery_hashes"]) == 9
    assert (await code_step(client, digits_only)).status_code == 200
    await password_step(client)
    assert (await code_step(client, codes[1])).status_code == 200


async def test_a_pending_sign_in_expires(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    secret, _ = await turn_on(client, ctx)
    await password_step(client)
    ctx.clock.advance(minutes=6)
    late = await code_step(client, code_for(secret, ctx))
    assert late.status_code == 400
    assert late.json()["error"]["code"] == "two_factor_login_expired"


async def test_wrong_codes_back_off_like_wrong_passwords(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    secret, _ = await turn_on(client, ctx)
    threshold = ctx.settings.accounts.throttle_account_threshold
    for _ in range(threshold):
        await password_step(client)  # a right password never resets the code's back-off
        assert (await code_step(client, "000000")).status_code == 400
    blocked = await password_step(client)
    assert blocked.status_code == 429
    assert blocked.json()["error"]["code"] == "too_many_attempts"

    ctx.clock.advance(seconds=ctx.settings.accounts.throttle_max_seconds)
    await password_step(client)
    assert (await code_step(client, code_for(secret, ctx))).status_code == 200


async def test_a_pending_sign_in_dies_after_five_wrong_codes(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    ctx.settings.accounts.throttle_account_threshold = 50
    ctx.settings.accounts.throttle_ip_threshold = 50
    secret, _ = await turn_on(client, ctx)
    await password_step(client)
    for _ in range(5):
        assert (await code_step(client, "000000")).status_code == 400
    gone = await code_step(client, code_for(secret, ctx))
    assert gone.json()["error"]["code"] == "two_factor_login_expired"


async def test_turning_off_takes_the_password_and_a_code(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    secret, _ = await turn_on(client, ctx)
    wrong_password = await client.post(DISABLE, headers=csrf(client), json={
        "password": "not the password at all", "code": code_for(secret, ctx)})
    assert wrong_password.status_code == 400
    wrong_code = await client.post(DISABLE, headers=csrf(client), json={
        "password": DEFAULT_PASSWORD, "code": "999999"})
    assert wrong_code.status_code == 400
    assert (await client.get(STATUS)).json()["enabled"] is True

    done = await client.post(DISABLE, headers=csrf(client), json={
        "password": DEFAULT_PASSWORD, "code": code_for(secret, ctx)})
    assert done.status_code == 204
    stored = await ctx.db.users.find_one({"_id": ann["_id"]})
    assert "two_factor" not in stored
    assert "two_factor_disabled" in await audit_events(ctx, ann["_id"])
    signed_in = await password_step(client)
    assert signed_in.json()["user"]["id"] == ann["_id"]


async def test_bad_input_is_refused_and_changes_nothing(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    no_setup = await client.post(CONFIRM, json={"code": "123456"}, headers=csrf(client))
    assert no_setup.status_code == 409
    too_long = await client.post(CONFIRM, json={"code": "1" * 40}, headers=csrf(client))
    assert too_long.status_code == 422
    not_on = await client.post(DISABLE, headers=csrf(client),
                               json={"password": DEFAULT_PASSWORD, "code": "123456"})
    assert not_on.status_code == 409
    assert (await ctx.db.users.find_one({"_id": ann["_id"]})).get("two_factor") is None


async def test_an_admin_cannot_turn_it_off(client: httpx.AsyncClient, ctx: Any) -> None:
    from tests.factories import TOTP_SECRET, log_in

    await make_user(ctx, email="admin@example.com", role="admin")
    assert (await log_in(client, email="admin@example.com")).status_code == 200
    ctx.clock.advance(seconds=30)
    refused = await client.post(DISABLE, headers=csrf(client), json={
        "password": DEFAULT_PASSWORD, "code": code_for(TOTP_SECRET, ctx)})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "two_factor_required_for_admins"


async def test_api_keys_of_a_two_factor_account_come_from_a_session(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    await turn_on(client, ctx)
    made = await client.post("/api/v1/account/api-keys", json={"name": "script"},
                             headers=csrf(client))
    assert made.status_code == 201
    key = made.json()["key"]
    bearer = {"Authorization": f"Bearer {key}"}
    refused = await client.post("/api/v1/account/api-keys", json={"name": "more"},
                                headers=bearer)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "session_required"
    with_key = await client.post(DISABLE, headers=bearer, json={
        "password": DEFAULT_PASSWORD, "code": "123456"})
    assert with_key.status_code == 403  # nor is two-factor changed with a key


async def test_the_data_export_names_no_secret_and_no_recovery_code(
        client: httpx.AsyncClient, ctx: Any, ann: dict[str, Any]) -> None:
    secret, codes = await turn_on(client, ctx)
    stored = await ctx.db.users.find_one({"_id": ann["_id"]})
    exported = json.dumps(await registry.export_user_data(ctx, ann["_id"]), default=str)
    assert secret not in exported
    assert stored["two_factor"]["secret"] not in exported
    assert not any(h in exported for h in stored["two_factor"]["recovery_hashes"])
    assert not any(code in exported for code in codes)
    profile = (await registry.export_user_data(ctx, ann["_id"]))["accounts"]["profile"]
    assert profile["two_factor"]["enabled"] is True
    assert profile["two_factor"]["recovery_codes_left"] == 10
