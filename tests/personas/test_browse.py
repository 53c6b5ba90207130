"""Explore's API: public, shared personas only; search by name, tagline, trait or public
description, literally and case-insensitively; a tag filter; newest or most favourited; cursor
pagination."""

import pytest

from tests.factories import make_persona


async def publish(ctx, owner_id, name, *, traits=(), favourites=0, share=True):
    persona = await make_persona(ctx, owner_id=owner_id, name=name, traits=list(traits),
                                 visibility="public", favourite_count=favourites,
                                 share_id=f"share-{name.lower()}"[:40] if share else None)
    ctx.clock.advance(seconds=1)
    return persona


def names(response):
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()["items"]]


async def test_search_matches_name_or_trait_case_insensitively(stranger, ann, ctx):
    await publish(ctx, ann.id, "Captain Nemo", traits=["stoic", "Sea-faring"])
    await publish(ctx, ann.id, "Ada", traits=["Curious", "mathematical"])
    await publish(ctx, ann.id, "Grace", traits=["curious"])
    await make_persona(ctx, owner_id=ann.id, name="Hidden curious", traits=["curious"])
    await publish(ctx, ann.id, "Unlinked curious", share=False)
    browse = "/api/v1/public/personas"
    assert names(await stranger.get(browse, params={"q": "nemo"})) == ["Captain Nemo"]
    assert names(await stranger.get(browse, params={"q": "CURIOUS"})) == ["Grace", "Ada"]
    assert names(await stranger.get(browse, params={"q": "sea-far"})) == ["Captain Nemo"]
    assert names(await stranger.get(browse, params={"q": "  "})) == [
        "Grace", "Ada", "Captain Nemo"]


@pytest.mark.parametrize("query", [".*", "a.c", "(", "[", "\\", "^A", "Ada$", "+", "?"])
async def test_regular_expression_characters_are_taken_literally(stranger, ann, ctx, query):
    await publish(ctx, ann.id, "Ada")
    await publish(ctx, ann.id, "abc")
    await publish(ctx, ann.id, "Odd .* (name) [x] \\ ^A Ada$ +?", traits=["a.c"])
    found = names(await stranger.get("/api/v1/public/personas", params={"q": query}))
    assert found == ["Odd .* (name) [x] \\ ^A Ada$ +?"]


async def test_newest_and_most_favourited_orders(stranger, ann, ctx):
    await publish(ctx, ann.id, "Old", favourites=5)
    await publish(ctx, ann.id, "Middle", favourites=9)
    await publish(ctx, ann.id, "New", favourites=0)
    await publish(ctx, ann.id, "Newest", favourites=5)
    browse = "/api/v1/public/personas"
    assert names(await stranger.get(browse)) == ["Newest", "New", "Middle", "Old"]
    assert names(await stranger.get(browse, params={"sort": "newest"})) == [
        "Newest", "New", "Middle", "Old"]
    assert names(await stranger.get(browse, params={"sort": "popular"})) == [
        "Middle", "Newest", "Old", "New"]
    wrong = await stranger.get(browse, params={"sort": "random"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_sort"


@pytest.mark.parametrize("sort", ["newest", "popular"])
async def test_cursors_walk_every_persona_once(stranger, ann, ctx, sort):
    for index in range(7):
        await publish(ctx, ann.id, f"P{index}", favourites=index % 3)
    expected = names(await stranger.get("/api/v1/public/personas",
                                        params={"sort": sort, "limit": 50}))
    seen, cursor = [], None
    while True:
        params = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await stranger.get("/api/v1/public/personas", params=params)
        seen += names(response)
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == expected and len(seen) == 7
    newest_cursor = (await stranger.get("/api/v1/public/personas",
                                         params={"sort": "newest", "limit": 1})).json()
    mixed = await stranger.get("/api/v1/public/personas",
                               params={"sort": "popular", "cursor": newest_cursor["next_cursor"]})
    assert mixed.status_code == 400 and mixed.json()["error"]["code"] == "invalid_cursor"


async def test_browse_items_are_public_views(stranger, ann, ctx):
    await publish(ctx, ann.id, "Ada")
    response = await stranger.get("/api/v1/public/personas")
    item = response.json()["items"][0]
    assert item["share_path"] == "/p/share-ada" and item["system_prompt"] is None
    assert "owner_id" not in item and ann.id not in response.text


async def test_search_also_covers_taglines_and_only_public_descriptions(stranger, ann, ctx):
    await make_persona(ctx, owner_id=ann.id, name="Nemo", tagline="Captain of the Nautilus",
                       visibility="public", share_id="s-nemo")
    await make_persona(ctx, owner_id=ann.id, name="Ada", system_prompt="A lighthouse keeper.",
                       system_prompt_public=True, visibility="public", share_id="s-ada")
    await make_persona(ctx, owner_id=ann.id, name="Grace", system_prompt="Secret lighthouse.",
                       system_prompt_public=False, visibility="public", share_id="s-grace")
    browse = "/api/v1/public/personas"
    assert names(await stranger.get(browse, params={"q": "nautilus"})) == ["Nemo"]
    assert names(await stranger.get(browse, params={"q": "LIGHTHOUSE"})) == ["Ada"]
    assert names(await stranger.get(browse, params={"q": "secret"})) == []


async def test_a_tag_keeps_personas_with_that_whole_trait_in_any_case(stranger, ann, ctx):
    await publish(ctx, ann.id, "Ada", traits=["Curious", "maths"])
    await publish(ctx, ann.id, "Grace", traits=["curious cat"])
    await publish(ctx, ann.id, "Nemo", traits=["curious"])
    await publish(ctx, ann.id, "Dot", traits=["c.rious"])
    browse = "/api/v1/public/personas"
    assert names(await stranger.get(browse, params={"tag": "curious"})) == ["Nemo", "Ada"]
    assert names(await stranger.get(browse, params={"tag": "c.rious"})) == ["Dot"]
    assert names(await stranger.get(browse, params={"tag": "curious", "q": "ada"})) == ["Ada"]
    too_long = await stranger.get(browse, params={"tag": "x" * 31})
    assert too_long.status_code == 422


async def test_tagged_pages_walk_every_match_once(stranger, ann, ctx):
    for index in range(5):
        await publish(ctx, ann.id, f"Tagged {index}", traits=["kind"])
        await publish(ctx, ann.id, f"Other {index}", traits=["grumpy"])
    seen, cursor = [], None
    while True:
        params = {"tag": "kind", "limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await stranger.get("/api/v1/public/personas", params=params)).json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [f"Tagged {index}" for index in reversed(range(5))]
