"""The Explore page: cards with avatar, chat count, tag links and a Chat button; tag filters
kept across sorting, searching and pages."""

import re
from html import unescape

from tests.factories import make_persona


async def test_a_card_shows_the_avatar_chat_count_tags_and_a_chat_button(ann, bob, stranger,
                                                                        ctx):
    persona = await ann.create(name="Ada", traits=["curious", "kind soul"], visibility="public")
    for who in (ann, bob):
        started = await who.send("POST", "/api/v1/conversations",
                                 json={"persona_id": persona["id"]})
        assert started.status_code == 201, started.text
    html = (await stranger.get("/explore")).text
    card = html.split('class="card persona-card explore-card"', 1)[1].split("</article>", 1)[0]
    assert 'role="img" aria-label="Avatar of Ada">A</span>' in card
    assert '<span class="chat-count">2 chats</span>' in card
    assert f'href="/chat/new?persona={persona["id"]}">Chat<' in card
    assert 'href="/explore?tag=curious">curious</a>' in card
    assert 'href="/explore?tag=kind+soul">kind soul</a>' in card
    listed = (await stranger.get("/api/v1/public/personas")).json()["items"]
    assert listed[0]["chat_count"] == 2


async def test_a_tag_filter_is_kept_by_search_sort_and_pages(ann, stranger, ctx):
    for index in range(22):
        await make_persona(ctx, owner_id=ann.id, name=f"Kind {index:02d}", traits=["Kind"],
                           visibility="public", share_id=f"kind{index:02d}")
        ctx.clock.advance(seconds=1)
    await make_persona(ctx, owner_id=ann.id, name="Grumpy", traits=["grumpy"],
                       visibility="public", share_id="grumpy")
    first = (await stranger.get("/explore", params={"tag": "kind"})).text
    assert "Kind 21" in first and "Grumpy" not in first
    assert 'name="tag" value="kind"' in first  # the search form keeps the filter
    assert re.search(r'Tagged <span class="trait">kind</span> <a href="/explore\?sort=newest">',
                     first)
    link = unescape(re.search(r'href="(/explore\?[^"]+)" rel="next"', first).group(1))
    assert "tag=kind" in link
    second = (await stranger.get(link)).text
    assert "Kind 00" in second and "Kind 21" not in second and "Grumpy" not in second
    none = (await stranger.get("/explore", params={"tag": "kind", "q": "grumpy"})).text
    assert "No public persona matches “grumpy” tagged “kind”" in none


async def test_the_creator_is_named_only_after_opting_in(ann, stranger, ctx):
    await ann.create(name="Ada", visibility="public")
    named = await ann.send("PATCH", "/api/v1/account/profile",
                           json={"display_name": "<b>Ann</b>"})
    assert named.status_code == 200 and named.json()["user"]["show_name_on_personas"] is False
    assert "persona-creator" not in (await stranger.get("/explore")).text
    account = (await ann.client.get("/account")).text
    assert re.search(r'name="show_name_on_personas"(?! checked)[^>]*>', account)

    refused = await ann.send("PATCH", "/api/v1/account/profile",
                             json={"display_name": "<b>Ann</b>", "show_name_on_personas": "maybe"})
    assert refused.status_code == 422
    assert "persona-creator" not in (await stranger.get("/explore")).text

    opted_in = await ann.send("PATCH", "/api/v1/account/profile",
                              json={"display_name": "<b>Ann</b>", "show_name_on_personas": True})
    assert opted_in.status_code == 200, opted_in.text
    html = (await stranger.get("/explore")).text
    assert '<p class="persona-creator">by &lt;b&gt;Ann&lt;/b&gt;</p>' in html
    assert 'name="show_name_on_personas" checked' in (await ann.client.get("/account")).text

    await ann.send("PATCH", "/api/v1/account/profile", json={"display_name": "<b>Ann</b>"})
    assert "persona-creator" in (await stranger.get("/explore")).text  # left as it was
    await ann.send("PATCH", "/api/v1/account/profile",
                   json={"display_name": "<b>Ann</b>", "show_name_on_personas": False})
    assert "persona-creator" not in (await stranger.get("/explore")).text
