"""Favourites: one per user and persona, counted exactly, only for public or own personas."""

import asyncio

from tests.factories import make_persona


async def test_twenty_concurrent_puts_count_once(ann, bob, ctx):
    persona = await ann.create(visibility="public")
    path = f"/api/v1/personas/{persona['id']}/favourite"
    responses = await asyncio.gather(*(bob.send("PUT", path) for _ in range(20)))
    assert {response.status_code for response in responses} == {200}
    stored = await ctx.db.personas.find_one({"_id": persona["id"]})
    assert stored["favourite_count"] == 1
    assert await ctx.db.persona_favourites.count_documents({}) == 1

    removals = await asyncio.gather(*(bob.send("DELETE", path) for _ in range(20)))
    assert {response.status_code for response in removals} == {204}
    stored = await ctx.db.personas.find_one({"_id": persona["id"]})
    assert stored["favourite_count"] == 0
    assert await ctx.db.persona_favourites.count_documents({}) == 0


async def test_counts_follow_each_user_and_the_list_shows_them(ann, bob, ctx):
    first = await ann.create(name="First", visibility="public")
    second = await ann.create(name="Second", visibility="public")
    own_private = await bob.create(name="Bob's own")
    for persona in (first, second, own_private):
        await bob.send("PUT", f"/api/v1/personas/{persona['id']}/favourite")
        ctx.clock.advance(seconds=1)
    answer = await ann.send("PUT", f"/api/v1/personas/{first['id']}/favourite")
    assert answer.json() == {"favourited": True, "favourite_count": 2}

    page = (await bob.client.get("/api/v1/personas/favourites", params={"limit": 2})).json()
    assert [item["name"] for item in page["items"]] == ["Bob's own", "Second"]
    rest = (await bob.client.get("/api/v1/personas/favourites",
                                 params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [item["name"] for item in rest["items"]] == ["First"]
    assert rest["next_cursor"] is None
    assert "owner_id" not in str(page)


async def test_a_persona_that_goes_private_leaves_other_peoples_favourites(ann, bob, ctx):
    persona = await ann.create(name="Fickle", visibility="public")
    await bob.send("PUT", f"/api/v1/personas/{persona['id']}/favourite")
    await ann.send("PATCH", f"/api/v1/personas/{persona['id']}", json={"visibility": "private"})
    listed = (await bob.client.get("/api/v1/personas/favourites")).json()
    assert listed["items"] == []
    again = await bob.send("PUT", f"/api/v1/personas/{persona['id']}/favourite")
    assert again.status_code == 404
    removed = await bob.send("DELETE", f"/api/v1/personas/{persona['id']}/favourite")
    assert removed.status_code == 204
    assert (await ctx.db.personas.find_one({"_id": persona["id"]}))["favourite_count"] == 0


async def test_private_personas_of_others_cannot_be_favourited(ann, bob, ctx):
    persona = await make_persona(ctx, owner_id=ann.id)
    response = await bob.send("PUT", f"/api/v1/personas/{persona['_id']}/favourite")
    assert response.status_code == 404
    assert await ctx.db.persona_favourites.count_documents({}) == 0
