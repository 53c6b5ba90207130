"""The page theme and text size: stored on the account, applied by the server on every page
(including pages that do not need the user themselves), defaults for visitors, bad input
refused without changing anything."""

import re

import httpx
import pytest

from tests.factories import csrf, log_in, make_user

HTML = {"Accept": "text/html"}
PATCH = "/api/v1/account/appearance"


def look_of(page: httpx.Response) -> tuple[str, str, str]:
    """The <html> element's theme and text size, and the colour-scheme meta tag."""
    html = re.search(r'<html lang="en" data-theme="([^"]*)" data-text-size="([^"]*)">',
                     page.text)
    scheme = re.search(r'<meta name="color-scheme" content="([^"]*)">', page.text)
    assert html and scheme, page.text[:500]
    return html.group(1), html.group(2), scheme.group(1)


@pytest.fixture
async def ann(client, ctx):
    user = await make_user(ctx, email="ann@example.com")
    assert (await log_in(client, email="ann@example.com")).status_code == 200
    return user


async def test_visitors_and_new_users_get_the_system_default(client, ctx, ann, app):
    assert look_of(await client.get("/account", headers=HTML)) == (
        "system", "normal", "light dark")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as visitor:
        for path in ("/", "/login", "/privacy"):
            assert look_of(await visitor.get(path, headers=HTML)) == (
                "system", "normal", "light dark")


async def test_the_chosen_look_is_stored_and_applied_on_every_page(client, ctx, ann, app):
    response = await client.patch(PATCH, json={"theme": "dark", "text_size": "large"},
                                  headers=csrf(client))
    assert response.status_code == 200, response.text
    assert response.json() == {"appearance": {"theme": "dark", "text_size": "large"}}
    stored = await ctx.db.users.find_one({"_id": ann["_id"]})
    assert stored["appearance"] == {"theme": "dark", "text_size": "large"}

    for path in ("/", "/account", "/privacy", "/chat", "/no-such-page"):
        assert look_of(await client.get(path, headers=HTML)) == ("dark", "large", "dark"), path

    response = await client.patch(PATCH, json={"theme": "light"}, headers=csrf(client))
    assert response.json()["appearance"] == {"theme": "light", "text_size": "large"}
    account = await client.get("/account", headers=HTML)
    assert look_of(account) == ("light", "large", "light")
    assert re.search(r'name="theme" value="light" checked', account.text)
    assert re.search(r'name="text_size" value="large" checked', account.text)

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as other:
        await make_user(ctx, email="bob@example.com")
        assert (await log_in(other, email="bob@example.com")).status_code == 200
        assert look_of(await other.get("/", headers=HTML)) == ("system", "normal", "light dark")


@pytest.mark.parametrize("body", [
    {"theme": "purple"}, {"text_size": "huge"}, {"theme": 1}, {"font": "serif"},
])
async def test_bad_values_are_refused_and_change_nothing(client, ctx, ann, body):
    await client.patch(PATCH, json={"theme": "dark"}, headers=csrf(client))
    response = await client.patch(PATCH, json=body, headers=csrf(client))
    assert response.status_code == 422
    assert response.json()["error"]["message"]
    stored = await ctx.db.users.find_one({"_id": ann["_id"]})
    assert stored["appearance"] == {"theme": "dark", "text_size": "normal"}


async def test_saving_needs_a_signed_in_user_and_the_csrf_token(client, ctx, ann, app):
    assert (await client.patch(PATCH, json={"theme": "dark"})).status_code == 403
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as visitor:
        await visitor.get("/")
        response = await visitor.patch(PATCH, json={"theme": "dark"}, headers=csrf(visitor))
        assert response.status_code == 401
    assert "appearance" not in await ctx.db.users.find_one({"_id": ann["_id"]})


async def test_the_header_switch_shows_a_members_saved_theme_and_visitors_have_none(
        client, ctx, ann, app):
    assert (await client.patch(PATCH, json={"theme": "dark"}, headers=csrf(client))
            ).status_code == 200
    for path in ("/", "/personas", "/billing"):
        page = await client.get(path, headers=HTML)
        switch = re.search(r'<button class="theme-switch"[^>]*data-theme-switch="([^"]+)"',
                           page.text)
        assert switch and switch.group(1) == "dark", path
        assert '<span class="theme-name">Dark</span>' in page.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://testserver") as visitor:
        for path in ("/", "/login"):
            assert "data-theme-switch" not in (await visitor.get(path, headers=HTML)).text
