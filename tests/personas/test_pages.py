"""Persona pages: who may see them, what they show, and that author text is always escaped."""

import re

import pytest

from tests.factories import csrf, make_persona

XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TEXT = "<script>alert('t')</script>"
ESCAPED_NAME = "&lt;img src=x onerror=alert(1)&gt;"


def assert_escaped(html):
    assert XSS_NAME not in html and "<script>alert" not in html
    assert "onerror=alert(1)>" not in html
    assert ESCAPED_NAME in html


@pytest.fixture
async def hostile(ann):
    return await ann.create(name=XSS_NAME, tagline=XSS_TEXT, traits=[XSS_TEXT[:30]],
                            tone="<b>bold</b>", greeting=XSS_TEXT, example_dialogue=XSS_TEXT,
                            system_prompt=XSS_TEXT, system_prompt_public=True,
                            visibility="public")


async def test_a_hostile_name_is_escaped_on_every_page_that_shows_it(hostile, ann, bob,
                                                                     stranger):
    await bob.send("PUT", f"/api/v1/personas/{hostile['id']}/favourite")
    pages = [
        (ann.client, "/personas"),
        (ann.client, f"/personas/{hostile['id']}"),
        (ann.client, f"/personas/{hostile['id']}/edit"),
        (stranger, "/explore"),
        (stranger, "/explore?q=img"),
        (stranger, f"/p/{hostile['share_id']}"),
        (bob.client, f"/p/{hostile['share_id']}"),
        (bob.client, "/personas/favourites"),
    ]
    for client, path in pages:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert_escaped(response.text)
        assert "<b>bold</b>" not in response.text


async def test_pages_send_anonymous_visitors_to_log_in(stranger, ann, ctx):
    persona = await make_persona(ctx, owner_id=ann.id)
    for path in ("/personas", "/personas/new", "/personas/favourites",
                 f"/personas/{persona['_id']}", f"/personas/{persona['_id']}/edit"):
        response = await stranger.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=%2Fpersonas")


async def test_another_users_private_persona_page_is_not_found(ann, bob, ctx):
    persona = await make_persona(ctx, owner_id=ann.id, name="Private Ada")
    for path in (f"/personas/{persona['_id']}", f"/personas/{persona['_id']}/edit"):
        response = await bob.client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 404 and "Private Ada" not in response.text


async def test_a_public_persona_by_id_leads_others_to_its_public_page(ann, bob):
    persona = await ann.create(visibility="public")
    response = await bob.client.get(f"/personas/{persona['id']}")
    assert response.status_code == 303
    assert response.headers["location"] == f"/p/{persona['share_id']}"
    edit = await bob.client.get(f"/personas/{persona['id']}/edit")
    assert edit.status_code == 404


async def test_empty_list_invites_the_first_persona(ann):
    response = await ann.client.get("/personas")
    assert response.status_code == 200
    assert "No personas yet" in response.text and 'href="/personas/new"' in response.text


async def test_anonymous_visitor_on_a_public_page_can_sign_up_or_try_it(ann, stranger):
    persona = await ann.create(name="Ada", visibility="public", system_prompt="Hidden text")
    path = f"/p/{persona['share_id']}"
    html = (await stranger.get(path)).text
    assert 'href="/signup?next=' + path + '"' in html
    assert 'href="/login?next=' + path + '"' in html
    assert 'data-api="/api/v1/auth/trial"' in html and "Try it free" in html
    assert "Add to favourites" not in html
    assert "Hidden text" not in html and ann.user["email"] not in html

    trial = await stranger.post("/api/v1/auth/trial", headers=csrf(stranger))
    assert trial.status_code == 201
    after = (await stranger.get(path)).text
    assert "Try it free" not in after and "Start a chat" in after
    assert "Add to favourites" in after


async def test_signed_in_visitor_sees_chat_and_favourite_controls(ann, bob):
    persona = await ann.create(name="Ada", visibility="public")
    html = (await bob.client.get(f"/p/{persona['share_id']}")).text
    assert f'href="/chat/new?persona={persona["id"]}"' in html
    assert f'data-api="/api/v1/personas/{persona["id"]}/favourite"' in html
    assert 'data-method="PUT"' in html and "Manage" not in html
    await bob.send("PUT", f"/api/v1/personas/{persona['id']}/favourite")
    html = (await bob.client.get(f"/p/{persona['share_id']}")).text
    assert 'data-method="DELETE"' in html and "♥ 1" in html


async def test_revoked_or_unknown_links_are_not_found(ann, stranger):
    persona = await ann.create(visibility="public")
    await ann.send("DELETE", f"/api/v1/personas/{persona['id']}/share")
    response = await stranger.get(f"/p/{persona['share_id']}", headers={"Accept": "text/html"})
    assert response.status_code == 404


async def test_owner_page_shows_sharing_and_the_instructions(ann):
    private = await ann.create(name="Quiet")
    html = (await ann.client.get(f"/personas/{private['id']}")).text
    assert "Make public and share" in html and "share-url" not in html
    shared = await ann.create(name="Loud", visibility="public", sliders={"warmth": 95})
    html = (await ann.client.get(f"/personas/{shared['id']}")).text
    assert f'href="/p/{shared["share_id"]}"' in html and "Stop sharing" in html
    assert "warm and affectionate" in html


async def test_editor_shows_sliders_with_labels_and_a_preview(ann):
    persona = await ann.create(name="Ada", sliders={"humour": 0}, traits=["kind", "dry"])
    html = (await ann.client.get(f"/personas/{persona['id']}/edit")).text
    for slider in ("warmth", "humour", "formality", "verbosity", "curiosity"):
        assert f'<label for="slider-{slider}">' in html
        assert re.search(rf'id="slider-{slider}" name="{slider}" type="range"', html)
    assert 'value="kind, dry"' in html and 'id="instructions-preview"' in html
    assert "do not make jokes" in html
    assert "/static/js/persona-editor.js" in html
    new = (await ann.client.get("/personas/new")).text
    assert "Create persona" in new and 'data-method="POST"' in new


async def test_explore_searches_sorts_and_pages(ann, stranger, ctx):
    for index in range(25):
        await make_persona(ctx, owner_id=ann.id, name=f"Persona {index:02d}",
                           visibility="public", share_id=f"sid{index:02d}")
        ctx.clock.advance(seconds=1)
    first = (await stranger.get("/explore")).text
    assert "Persona 24" in first and "Persona 04" not in first
    link = re.search(r'href="(/explore\?[^"]+)" rel="next"', first).group(1)
    second = (await stranger.get(link.replace("&amp;", "&"))).text
    assert "Persona 04" in second and "Persona 24" not in second
    found = (await stranger.get("/explore", params={"q": "persona 07"})).text
    assert "Persona 07" in found and "Persona 08" not in found
    none = (await stranger.get("/explore", params={"q": ".*"})).text
    assert "No public persona matches" in none


async def test_example_dialogue_placeholders_are_filled_in_and_escaped(ann, bob, stranger,
                                                                       ctx):
    persona = await ann.create(name="Ada <3", visibility="public",
                               greeting="Hello {{user}}, I am {{char}}.",
                               example_dialogue="{{user}}: Hi {{CHAR}}!\n{{char}}: Hi, {{ user }}.")
    anonymous = (await stranger.get(f"/p/{persona['share_id']}")).text
    assert "{{user}}" not in anonymous and "{{char}}" not in anonymous.lower()
    assert "You: Hi Ada &lt;3!\nAda &lt;3: Hi, you." in anonymous
    assert "Hello you, I am Ada &lt;3." in anonymous

    await ctx.db.users.update_one({"_id": bob.id}, {"$set": {"display_name": "<i>Bob</i>"}})
    named = (await bob.client.get(f"/p/{persona['share_id']}")).text
    assert "&lt;i&gt;Bob&lt;/i&gt;: Hi Ada &lt;3!" in named and "<i>Bob</i>" not in named
    owner = (await ann.client.get(f"/personas/{persona['id']}")).text
    assert "You: Hi Ada &lt;3!" in owner
    stored = (await ann.send("GET", f"/api/v1/personas/{persona['id']}")).json()["persona"]
    assert stored["example_dialogue"].startswith("{{user}}: Hi {{CHAR}}!")
