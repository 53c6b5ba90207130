"""Two-factor pages: the set-up page with its server-drawn QR code, the sign-in's code page,
and admins without two-factor sent to set it up before any admin page."""

from typing import Any

import httpx
import pyotp

from tests.factories import DEFAULT_PASSWORD, csrf, log_in, make_user

HTML = {"Accept": "text/html"}


async def test_the_set_up_page_shows_a_qr_code_and_the_key_once_set_up_starts(
        client: httpx.AsyncClient, ctx: Any) -> None:
    await make_user(ctx, email="ann@example.com")
    await log_in(client, email="ann@example.com")
    account = await client.get("/account", headers=HTML)
    assert 'id="two-factor"' in account.text and "/account/two-factor" in account.text

    before = await client.get("/account/two-factor", headers=HTML)
    assert before.status_code == 200 and "<svg" not in before.text
    secret = (await client.post("/api/v1/account/two-factor/setup",
                                headers=csrf(client))).json()["secret"]
    page = await client.get("/account/two-factor", headers=HTML)
    assert page.status_code == 200
    assert "<svg" in page.text and secret in page.text
    assert page.headers["cache-control"] == "no-store"

    code = pyotp.TOTP(secret).at(ctx.clock.now())
    assert (await client.post("/api/v1/account/two-factor/confirm", json={"code": code},
                              headers=csrf(client))).status_code == 200
    after = await client.get("/account/two-factor", headers=HTML)
    assert secret not in after.text and "<svg" not in after.text
    assert "Turn it off" in after.text


async def test_the_code_page_needs_a_pending_sign_in(client: httpx.AsyncClient,
                                                    ctx: Any) -> None:
    nothing = await client.get("/login/two-factor", headers=HTML)
    assert nothing.status_code == 303 and nothing.headers["location"] == "/login"

    await make_user(ctx, email="ann@example.com", two_factor=True)
    await client.get("/")
    first = await client.post("/api/v1/auth/login", headers=csrf(client), json={
        "email": "ann@example.com", "password": DEFAULT_PASSWORD, "next": "/settings/privacy"})
    assert first.json()["next_step"] == "/login/two-factor"
    page = await client.get("/login/two-factor", headers=HTML)
    assert page.status_code == 200
    assert 'data-api="/api/v1/auth/login/two-factor"' in page.text
    assert 'autocomplete="one-time-code"' in page.text


async def test_the_code_step_needs_the_pages_csrf_token(client: httpx.AsyncClient,
                                                       ctx: Any) -> None:
    await make_user(ctx, email="ann@example.com", two_factor=True)
    await client.get("/")
    await client.post("/api/v1/auth/login", headers=csrf(client),
                      json={"email": "ann@example.com", "password": DEFAULT_PASSWORD})
    forged = await client.post("/api/v1/auth/login/two-factor", json={"code": "123456"})
    assert forged.status_code == 403


async def test_an_admin_without_two_factor_is_sent_to_set_it_up(
        client: httpx.AsyncClient, ctx: Any) -> None:
    await make_user(ctx, email="admin@example.com", role="admin", two_factor=False)
    assert (await log_in(client, email="admin@example.com")).status_code == 200

    page = await client.get("/admin/users", headers=HTML)
    assert page.status_code == 303 and page.headers["location"] == "/account/two-factor"
    api = await client.get("/api/v1/admin/users")
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "two_factor_required"
    setup = await client.get("/account/two-factor", headers=HTML)
    assert "Administrators must turn on two-factor authentication" in setup.text


async def test_an_admin_with_two_factor_signs_in_with_a_code_and_gets_in(
        client: httpx.AsyncClient, ctx: Any) -> None:
    await make_user(ctx, email="admin@example.com", role="admin")
    signed_in = await log_in(client, email="admin@example.com")  # password, then the code
    assert signed_in.status_code == 200
    assert (await client.get("/api/v1/admin/users")).status_code == 200
    assert (await client.get("/admin/users", headers=HTML)).status_code == 200
