"""Privacy Settings (`/settings/privacy`): consent, export with its progress bar, requests and
account deletion, explained; linked from the account page."""

import re

from tests.factories import Member

PAGE = "/settings/privacy"


async def test_signed_out_visitors_are_sent_to_sign_in(anonymous):
    response = await anonymous.get(PAGE)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsettings%2Fprivacy"


async def test_the_page_offers_every_control(ann: Member):
    response = await ann.client.get(PAGE)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert 'data-api="/api/v1/privacy/settings" data-method="PATCH"' in page
    assert 'name="analytics_opt_in"' in page and "checked" not in page.split(
        'name="analytics_opt_in"')[1][:20]
    assert 'data-api="/api/v1/privacy/export"' in page and "<progress" in page
    assert 'data-api="/api/v1/privacy/requests"' in page
    assert 'data-api="/api/v1/account" data-method="DELETE"' in page
    assert 'name="password"' in page and 'autocomplete="current-password"' in page
    assert "pseudonym" in page and "7 years" in page and "24" in page
    assert "/static/js/privacy.js" in page


async def test_the_page_shows_choices_history_and_a_running_export(ann: Member, ctx):
    await ann.send("PATCH", "/api/v1/privacy/settings", json={"analytics_opt_in": True})
    job_id = (await ann.send("POST", "/api/v1/privacy/export")).json()["job_id"]
    await ann.send("POST", "/api/v1/privacy/requests", json={"kind": "deletion",
                                                            "message": "<i>all of it</i>"})
    page = (await ann.client.get(PAGE)).text
    assert 'name="analytics_opt_in" checked' in page
    assert "Analytics turned on" in page
    assert f'data-export-url="/api/v1/privacy/export/{job_id}"' in page
    assert "&lt;i&gt;all of it&lt;/i&gt;" in page and "<i>all of it</i>" not in page


async def test_a_google_account_is_told_to_sign_in_again(ann: Member, ctx):
    await ctx.db.users.update_one({"_id": ann.id}, {"$set": {"password_hash": None,
                                                             "auth_provider": "google"}})
    page = (await ann.client.get(PAGE)).text
    assert "sign in with Google again" in page and 'name="password"' not in page


async def test_the_account_page_links_here(ann: Member):
    assert f'href="{PAGE}"' in (await ann.client.get("/account")).text


async def test_the_admin_menu_links_to_the_request_queue(app, ctx):
    from tests.factories import member, new_client

    async with new_client(app) as client:
        admin = await member(client, ctx, "admin@example.com", role="admin")
        page = (await admin.client.get("/admin")).text
    assert 'href="/admin/privacy/requests"' in page


async def test_the_analytics_checkbox_is_labelled_and_saving_confirms(ann: Member):
    page = (await ann.client.get(PAGE)).text
    assert re.search(r'<label class="checkbox" for="analytics-opt-in"><input '
                     r'id="analytics-opt-in" type="checkbox" name="analytics_opt_in">\s*'
                     r'Help improve the service', page)
    assert 'data-api="/api/v1/privacy/settings" data-method="PATCH" data-success="message"' in page
    on = await ann.send("PATCH", "/api/v1/privacy/settings", json={"analytics_opt_in": True})
    assert on.status_code == 200 and on.json()["status"] == "Saved: analytics are on."
    off = await ann.send("PATCH", "/api/v1/privacy/settings", json={"analytics_opt_in": False})
    assert off.json()["status"] == "Saved: analytics are off."
    assert off.json()["analytics_opt_in"] is False
