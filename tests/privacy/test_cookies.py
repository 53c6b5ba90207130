"""Cookies: only strictly necessary ones are ever set, and the cookie page lists each one
from the same table the code sets them from."""

from typing import Any

import httpx
import pytest

from clonechats.web import cookies
from tests.factories import Member, csrf

ANONYMOUS_PAGES = ["/", "/login", "/signup", "/forgot-password", "/privacy", "/cookies",
                   "/security", "/terms", "/pricing", "/explore", "/.well-known/security.txt",
                   "/healthz", "/no-such-page"]
SIGNED_IN_PAGES = [*ANONYMOUS_PAGES, "/account", "/settings/privacy", "/personas", "/billing",
                   "/personas/new", "/favourites"]


def cookie_names(response: httpx.Response) -> set[str]:
    return {header.split("=", 1)[0].strip() for header in response.headers.get_list("set-cookie")}


def allowed(settings: Any) -> dict[str, cookies.CookieDefinition]:
    return {cookies.cookie_name(c, settings): c for c in cookies.COOKIES}


async def visit(client: httpx.AsyncClient, pages: list[str]) -> set[str]:
    seen: set[str] = set()
    for page in pages:
        seen |= cookie_names(await client.get(page, headers={"accept": "text/html"}))
    return seen


async def test_a_fresh_visitor_gets_only_strictly_necessary_cookies(anonymous, settings):
    seen = await visit(anonymous, ANONYMOUS_PAGES)
    trial = await anonymous.post("/api/v1/auth/trial", headers=csrf(anonymous))
    assert trial.status_code in (200, 201), trial.text
    seen |= cookie_names(trial)
    seen |= await visit(anonymous, ["/", "/account", "/settings/privacy"])
    table = allowed(settings)
    assert seen, "the walk should have seen the CSRF cookie at least"
    assert seen <= set(table), f"cookies missing from the table: {seen - set(table)}"
    assert all(table[name].strictly_necessary for name in seen)
    assert {"csrf_token", "device_id", "session"} <= seen


async def test_a_signed_in_user_without_consent_gets_only_strictly_necessary_cookies(
        ann: Member, settings):
    seen = await visit(ann.client, SIGNED_IN_PAGES)
    seen |= cookie_names(await ann.send("POST", "/api/v1/privacy/analytics/event",
                                        json={"kind": "page", "name": "/personas"}))
    seen |= cookie_names(await ann.send("POST", "/api/v1/auth/logout"))
    table = allowed(settings)
    assert seen <= set(table)
    assert all(table[name].strictly_necessary for name in seen)


async def test_opting_in_to_analytics_sets_no_cookie(ann: Member, settings):
    changed = await ann.send("PATCH", "/api/v1/privacy/settings",
                             json={"analytics_opt_in": True})
    assert changed.status_code == 200 and changed.json()["analytics_opt_in"] is True
    seen = cookie_names(changed) | await visit(ann.client, SIGNED_IN_PAGES)
    seen |= cookie_names(await ann.send("POST", "/api/v1/privacy/analytics/event",
                                        json={"kind": "page", "name": "/personas"}))
    assert seen <= set(allowed(settings))


async def test_every_cookie_in_the_table_is_strictly_necessary_and_documented():
    for definition in cookies.COOKIES:
        assert definition.strictly_necessary
        assert definition.purpose and definition.lifetime


async def test_the_cookie_page_lists_each_cookie_from_the_code(client, settings):
    page = (await client.get("/cookies")).text
    for definition in cookies.COOKIES:
        assert f"<th scope=\"row\">{cookies.cookie_name(definition, settings)}</th>" in page
        assert definition.lifetime in page
        assert definition.purpose.replace("'", "&#39;") in page


async def test_the_cookie_page_follows_the_table(client, monkeypatch: pytest.MonkeyPatch):
    extra = cookies.CookieDefinition("tour_step", "Remembers the step of the welcome tour.",
                                     "1 day", http_only=True)
    monkeypatch.setattr(cookies, "COOKIES", [*cookies.COOKIES, extra])
    page = (await client.get("/cookies")).text
    assert "tour_step" in page and "Remembers the step of the welcome tour." in page


async def test_the_cookie_page_uses_the_secure_names_over_https(tmp_path, clock):
    from clonechats.app import create_app
    from clonechats.settings import AccountSettings
    from tests.conftest import make_settings
    from tests.factories import new_client

    settings = make_settings(tmp_path / "data", dev_mode=False,
                             accounts=AccountSettings(bcrypt_rounds=12))
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app), new_client(app) as http:
        page = (await http.get("/cookies")).text
    assert "__Host-session" in page and "__Host-csrf_token" in page
