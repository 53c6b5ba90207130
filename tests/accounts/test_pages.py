"""Account pages: what each one shows, who may see it, and where it sends people."""

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser

import httpx
import pytest

from clonechats.accounts.pages import describe_device, safe_next
from tests.factories import csrf, emails_to, log_in, make_user, sign_up, token_from


class PageParser(HTMLParser):
    """Collects the forms (with their fields) and every tag's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self._form: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "form":
            self._form = {"attrs": attributes, "fields": {}}
            self.forms.append(self._form)
        elif (tag in {"input", "select", "textarea"} and self._form is not None
              and attributes.get("name")):
            self._form["fields"][attributes["name"]] = attributes

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None


def parse(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    return parser


def api_form(html: str, api: str) -> dict:
    forms = [f for f in parse(html).forms if f["attrs"].get("data-api") == api]
    assert forms, f"no form posting to {api}"
    return forms[0]


@asynccontextmanager
async def signed_in_client(app, ctx, email: str = "me@example.com",
                           **fields) -> AsyncIterator[httpx.AsyncClient]:
    await make_user(ctx, email=email, **fields)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as http:
        response = await log_in(http, email=email)
        assert response.status_code == 200, response.text
        yield http


async def test_signup_page_has_the_signup_form(client):
    response = await client.get("/signup")
    assert response.status_code == 200
    form = api_form(response.text, "/api/v1/auth/signup")
    assert form["attrs"]["data-success"] == "redirect:/account"
    fields = form["fields"]
    assert fields["email"]["autocomplete"] == "email" and fields["email"]["type"] == "email"
    assert fields["password"]["autocomplete"] == "new-password"
    assert fields["password"]["minlength"] == "8"
    assert fields["birth_date"]["autocomplete"] == "bday"
    assert fields["birth_date"]["max"] == "2026-03-01"
    assert "display_name" in fields and "required" not in fields["display_name"]
    assert "At least 8 characters" in response.text


async def test_signup_page_keeps_the_guardian_field_for_minors_only(client):
    response = await client.get("/signup")
    tags = parse(response.text).tags
    guardian = [a for t, a in tags if t == "fieldset" and a.get("data-age-from") == "birth_date"]
    assert len(guardian) == 1
    assert guardian[0]["data-age-min"] == "13" and guardian[0]["data-age-max"] == "17"
    assert "hidden" in guardian[0] and "disabled" in guardian[0]
    assert "guardian_email" in api_form(response.text, "/api/v1/auth/signup")["fields"]
    refusal = [a for t, a in tags if a.get("data-error-code") == "age_restricted"]
    assert refusal and refusal[0]["data-age-max"] == "12"
    assert "at least 13" in response.text


async def test_login_page_has_login_and_trial_forms(client):
    response = await client.get("/login")
    assert response.status_code == 200
    form = api_form(response.text, "/api/v1/auth/login")
    assert form["fields"]["email"]["autocomplete"] == "email"
    assert form["fields"]["password"]["autocomplete"] == "current-password"
    assert form["attrs"]["data-success"] == "redirect:/account"
    assert api_form(response.text, "/api/v1/auth/trial")
    assert 'href="/forgot-password"' in response.text
    assert "/auth/google/login" not in response.text


async def test_login_and_signup_offer_google_only_when_configured(app, client):
    app.state.templates.env.globals["google_enabled"] = False
    for path in ["/login", "/signup"]:
        assert "/auth/google/login" not in (await client.get(path)).text
    app.state.templates.env.globals["google_enabled"] = True
    for path in ["/login", "/signup"]:
        response = await client.get(path)
        assert 'href="/auth/google/login"' in response.text
        assert "Continue with Google" in response.text


async def test_forgot_password_page(client):
    response = await client.get("/forgot-password")
    assert response.status_code == 200
    form = api_form(response.text, "/api/v1/auth/password-reset")
    assert form["fields"]["email"]["autocomplete"] == "email"
    assert form["attrs"]["data-success"] == "message"


async def test_reset_page_with_a_live_token_shows_the_form(client, ctx, run_jobs):
    await make_user(ctx, email="r@example.com")
    await client.get("/")
    await client.post("/api/v1/auth/password-reset", json={"email": "r@example.com"},
                      headers=csrf(client))
    await run_jobs()
    token = token_from((await emails_to(ctx, "r@example.com"))[0], "/reset-password")
    response = await client.get(f"/reset-password?token={token}")
    form = api_form(response.text, "/api/v1/auth/password-reset/confirm")
    assert form["fields"]["token"]["value"] == token
    assert form["fields"]["password"]["autocomplete"] == "new-password"
    assert form["attrs"]["data-success"] == "redirect:/login?notice=password_reset"
    login = await client.get("/login?notice=password_reset")
    assert "Sign in with the new one" in login.text


@pytest.mark.parametrize("query", ["", "?token=", "?token=not-a-real-token"])
async def test_reset_page_explains_a_dead_link(client, query):
    response = await client.get(f"/reset-password{query}")
    assert response.status_code == 200
    assert "invalid, expired or already used" in response.text
    assert not parse(response.text).forms or all(
        f["attrs"].get("data-api") != "/api/v1/auth/password-reset/confirm"
        for f in parse(response.text).forms)
    assert 'href="/forgot-password"' in response.text


async def test_opening_a_verification_link_does_not_use_it(client, ctx, run_jobs):
    await sign_up(client, email="v@example.com")
    await run_jobs()
    token = token_from((await emails_to(ctx, "v@example.com"))[0], "/verify-email")
    for _ in range(2):  # a mail scanner, then the person
        page = await client.get(f"/verify-email?token={token}")
        assert page.status_code == 200
        form = api_form(page.text, "/api/v1/auth/verify-email")
        assert form["fields"]["token"]["value"] == token
    user = await ctx.db.users.find_one({"email": "v@example.com"})
    assert user["email_verified"] is False
    assert form["attrs"]["data-success"] == "redirect:/account?notice=email_verified"
    confirmed = await client.post("/api/v1/auth/verify-email", json={"token": token},
                                  headers=csrf(client))
    assert confirmed.status_code == 200
    assert (await ctx.db.users.find_one({"email": "v@example.com"}))["email_verified"] is True
    used = await client.get(f"/verify-email?token={token}")
    assert "invalid, expired or already used" in used.text
    assert "Confirm my email" not in used.text


async def test_anonymous_visitors_are_sent_to_log_in(client):
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount"
    login = await client.get(response.headers["location"])
    assert api_form(login.text, "/api/v1/auth/login")["attrs"]["data-success"] == (
        "redirect:/account")


async def test_next_keeps_a_local_path_and_its_query(client):
    response = await client.get("/login", params={"next": "/account?tab=keys"})
    form = api_form(response.text, "/api/v1/auth/login")
    assert form["attrs"]["data-success"] == "redirect:/account?tab=keys"


OFF_SITE = ["https://evil.example/", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
            "javascript:alert(1)", "evil.example", "/\r\nSet-Cookie:x=1", "http:/evil.example",
            "/" + "a" * 2100]


@pytest.mark.parametrize("target", OFF_SITE)
async def test_next_never_leaves_the_site(app, ctx, client, target):
    anonymous = await client.get("/login", params={"next": target})
    form = api_form(anonymous.text, "/api/v1/auth/login")
    assert form["attrs"]["data-success"] == "redirect:/account"
    assert "evil" not in form["attrs"]["data-success"]
    async with signed_in_client(app, ctx) as http:
        signed_in = await http.get("/login", params={"next": target})
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/account"


def test_safe_next_accepts_only_paths_on_this_site():
    assert safe_next("/account") == "/account"
    assert safe_next("/a/b?c=d#e") == "/a/b?c=d#e"
    for target in [*OFF_SITE, None, "", "/\x00x", "/\x7fx"]:
        assert safe_next(target) is None


async def test_signed_in_users_skip_login_and_signup(app, ctx):
    async with signed_in_client(app, ctx) as http:
        for path in ["/login", "/signup"]:
            response = await http.get(path)
            assert response.status_code == 303 and response.headers["location"] == "/account"
        follow = await http.get("/login", params={"next": "/privacy"})
        assert follow.headers["location"] == "/privacy"


async def test_trial_users_may_still_sign_up(client, ctx):
    await client.get("/")
    trial = await client.post("/api/v1/auth/trial", headers=csrf(client))
    assert trial.status_code == 201
    response = await client.get("/signup")
    assert response.status_code == 200
    assert "move into your new account" in response.text
    account = await client.get("/account")
    assert account.status_code == 200
    assert 'href="/signup"' in account.text
    assert "/api/v1/account/api-keys" not in account.text
    assert "/api/v1/account/password" not in account.text


async def test_account_page_shows_every_settings_form(app, ctx):
    async with signed_in_client(app, ctx, display_name="Ann") as http:
        response = await http.get("/account")
    assert response.status_code == 200
    html = response.text
    profile = api_form(html, "/api/v1/account/profile")
    assert profile["attrs"]["data-method"] == "PATCH"
    assert profile["fields"]["display_name"]["value"] == "Ann"
    password = api_form(html, "/api/v1/account/password")
    assert password["fields"]["current_password"]["autocomplete"] == "current-password"
    assert password["fields"]["new_password"]["autocomplete"] == "new-password"
    email = api_form(html, "/api/v1/account/email")
    assert set(email["fields"]) == {"new_email", "password"}
    keys = api_form(html, "/api/v1/account/api-keys")
    assert keys["attrs"]["data-success"] == "show:#new-key"
    assert 'id="new-key"' in html and 'data-result="key"' in html
    assert "You have no API keys" in html
    assert "No other devices are signed in" in html
    assert "/api/v1/account/sessions/revoke-others" not in html


async def test_account_page_escapes_the_display_name(app, ctx):
    name = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    async with signed_in_client(app, ctx) as http:
        saved = await http.patch("/api/v1/account/profile", json={"display_name": name},
                                 headers=csrf(http))
        assert saved.status_code == 200
        response = await http.get("/account")
    assert name not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in response.text
    scripts = [a for t, a in parse(response.text).tags if t == "script"]
    assert all(a.get("src") for a in scripts)


async def test_account_page_marks_the_current_session_among_others(app, ctx):
    windows_chrome = "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/138.0 Safari/537.36"
    async with signed_in_client(app, ctx), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver",
        headers={"user-agent": windows_chrome},
    ) as second:
        await log_in(second, email="me@example.com")
        response = await second.get("/account")
    html = response.text
    items = re.findall(r'<li class="item( current)?"[^>]*>(.*?)</li>', html, re.S)
    assert len(items) == 2
    current = [body for marker, body in items if marker]
    assert len(current) == 1 and "This device" in current[0]
    assert "Chrome on Windows" in current[0]
    sessions = await ctx.db.sessions.find({}).to_list()
    other = next(s for s in sessions if "Windows" not in s["user_agent"])
    assert f'data-api="/api/v1/account/sessions/{other["public_id"]}"' in html
    assert "/api/v1/account/sessions/revoke-others" in html
    assert "Sign out all other devices (1)" in html


async def test_account_page_lists_api_keys_without_the_secret(app, ctx):
    async with signed_in_client(app, ctx) as http:
        created = await http.post("/api/v1/account/api-keys", json={"name": "Laptop <b>"},
                                  headers=csrf(http))
        assert created.status_code == 201
        key = created.json()["key"]
        response = await http.get("/account")
    assert key not in response.text
    assert created.json()["hint"] in response.text
    assert "Laptop &lt;b&gt;" in response.text
    assert f'data-api="/api/v1/account/api-keys/{created.json()["id"]}"' in response.text
    assert "You have no API keys" not in response.text


async def test_guardian_pending_account_page_explains_the_wait(client, ctx):
    response = await sign_up(client, email="teen@example.com", birth_date="2011-06-01",
                             guardian_email="parent@example.com")
    assert response.status_code == 201
    account = await client.get("/account")
    assert account.status_code == 200
    assert "Waiting for a parent or guardian" in account.text


async def test_navigation_follows_the_sign_in_state(app, ctx, client):
    anonymous = await client.get("/login")
    assert 'href="/signup"' in anonymous.text and "/api/v1/auth/logout" not in anonymous.text
    async with signed_in_client(app, ctx) as http:
        for path in ["/account", "/"]:
            page = await http.get(path)
            assert 'href="/account"' in page.text
            assert api_form(page.text, "/api/v1/auth/logout")
            assert ">Log in<" not in page.text


async def test_pages_carry_the_csrf_token_and_no_inline_script(client):
    for path in ["/", "/signup", "/login", "/forgot-password", "/reset-password",
                 "/verify-email"]:
        response = await client.get(path)
        assert response.status_code == 200, path
        meta = [a for t, a in parse(response.text).tags
                if t == "meta" and a.get("name") == "csrf-token"]
        assert meta and meta[0]["content"] == client.cookies.get("csrf_token"), path
        for tag, attributes in parse(response.text).tags:
            assert not (tag == "script" and not attributes.get("src")), path
            assert not [name for name in attributes if name.startswith("on")], path
        assert "script-src 'self'" in response.headers["content-security-policy"]


async def test_log_out_form_works_without_javascript(app, ctx):
    async with signed_in_client(app, ctx) as http:
        page = await http.get("/account")
        form = api_form(page.text, "/api/v1/auth/logout")
        token = form["fields"]["csrf_token"]["value"]
        refused = await http.post("/logout", data={"csrf_token": "forged"})
        assert refused.status_code == 403
        done = await http.post("/logout", data={"csrf_token": token})
        assert done.status_code == 303 and done.headers["location"] == "/"
        assert await ctx.db.sessions.count_documents({}) == 0
        after = await http.get("/account")
        assert after.status_code == 303


async def test_logout_page_offers_a_button_to_the_signed_in(app, ctx, client):
    anonymous = await client.get("/logout")
    assert anonymous.status_code == 303
    async with signed_in_client(app, ctx) as http:
        page = await http.get("/logout")
        assert page.status_code == 200
        assert api_form(page.text, "/api/v1/auth/logout")


async def test_a_dead_session_cookie_is_cleared(client):
    client.cookies.set("session", "no-such-session", domain="testserver.local")
    response = await client.get("/account")
    assert response.status_code == 303
    assert 'session=""' in response.headers.get("set-cookie", "")
    assert "session" not in client.cookies


async def test_unknown_notices_are_not_rendered(client):
    response = await client.get("/login", params={"notice": "<b>hello</b>"})
    assert "hello" not in response.text
    assert 'role="status">' not in response.text.split("<form", 1)[0]


def test_devices_get_short_human_names():
    assert describe_device("") == "Unknown device"
    assert describe_device("Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) "
                           "AppleWebKit/605.1.15 Version/18.0 Mobile Safari/604.1") == (
        "Safari on iPhone")
    assert describe_device("Mozilla/5.0 (Linux; Android 15) Chrome/138.0 Mobile "
                           "Safari/537.36") == "Chrome on Android"
    assert describe_device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/138.0 "
                           "Safari/537.36 Edg/138.0") == "Edge on Windows"
    assert describe_device("curl/8.5.0") == "curl/8.5.0"


async def test_signup_returns_to_a_local_next_page_only(client):
    page = (await client.get("/signup?next=/p/abc")).text
    assert 'data-success="redirect:/p/abc"' in page
    offsite = (await client.get("/signup?next=//evil.example")).text
    assert "evil.example" not in offsite
