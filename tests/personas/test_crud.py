"""Creating, reading, updating, duplicating, listing and deleting one's own personas."""

from tests.factories import make_persona


async def test_create_read_update_delete(ann, ctx):
    created = await ann.create(name="  Ada  ", tagline="Numbers, poetically",
                               traits=["curious"], tone="warm", system_prompt="Be Ada.",
                               sliders={"warmth": 80}, visibility="private")
    assert created["name"] == "Ada" and created["share_id"] is None
    assert created["sliders"]["warmth"] == 80 and created["favourite_count"] == 0

    fetched = await ann.client.get(f"/api/v1/personas/{created['id']}")
    assert fetched.status_code == 200 and fetched.json()["persona"] == created

    ctx.clock.advance(minutes=1)
    patched = await ann.send("PATCH", f"/api/v1/personas/{created['id']}",
                             json={"tone": "dry", "sliders": {"humour": 90}})
    body = patched.json()["persona"]
    assert patched.status_code == 200 and body["tone"] == "dry"
    assert body["sliders"] == {"warmth": 80, "humour": 90, "formality": 50, "verbosity": 50,
                               "curiosity": 50}
    assert body["tagline"] == "Numbers, poetically"
    assert body["updated_at"] > created["updated_at"]

    deleted = await ann.send("DELETE", f"/api/v1/personas/{created['id']}")
    assert deleted.status_code == 204
    assert (await ann.client.get(f"/api/v1/personas/{created['id']}")).status_code == 404
    assert await ctx.db.personas.count_documents({}) == 0


async def test_requests_need_a_signed_in_active_account(stranger, ctx):
    assert (await stranger.get("/api/v1/personas")).status_code == 401
    response = await stranger.post("/api/v1/personas", json={"name": "Ada"},
                                   headers={"X-CSRF-Token": stranger.cookies.get("csrf_token")})
    assert response.status_code == 401
    assert await ctx.db.personas.count_documents({}) == 0


async def test_list_is_paginated_with_a_cursor(ann, bob, ctx):
    made = []
    for index in range(5):
        made.append((await make_persona(ctx, owner_id=ann.id, name=f"P{index}"))["_id"])
        ctx.clock.advance(seconds=1)
    await make_persona(ctx, owner_id=bob.id, name="Bob's")
    seen, cursor = [], None
    for _ in range(5):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await ann.client.get("/api/v1/personas", params=query)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(made))
    bad = await ann.client.get("/api/v1/personas", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    too_many = await ann.client.get("/api/v1/personas", params={"limit": 1000})
    assert too_many.status_code == 422


async def test_duplicate_is_a_private_unshared_copy(ann, ctx):
    original = await ann.create(name="Ada", tagline="Original", visibility="public",
                                traits=["kind"], sliders={"warmth": 10})
    await ann.send("PUT", f"/api/v1/personas/{original['id']}/favourite")
    response = await ann.send("POST", f"/api/v1/personas/{original['id']}/duplicate")
    assert response.status_code == 201
    copy = response.json()["persona"]
    assert copy["id"] != original["id"] and copy["name"] == "Copy of Ada"
    assert copy["visibility"] == "private" and copy["share_id"] is None
    assert copy["favourite_count"] == 0 and copy["traits"] == ["kind"]
    assert copy["sliders"]["warmth"] == 10 and copy["tagline"] == "Original"
    long_name = await ann.create(name="L" * 60)
    copy_of_long = (await ann.send("POST",
                                   f"/api/v1/personas/{long_name['id']}/duplicate")).json()
    assert copy_of_long["persona"]["name"] == ("Copy of " + "L" * 60)[:60]
    assert await ctx.db.personas.count_documents({"owner_id": ann.id}) == 4


async def test_making_a_persona_public_gives_it_a_link_and_private_takes_it_away(ann):
    persona = await ann.create()
    public = (await ann.send("PATCH", f"/api/v1/personas/{persona['id']}",
                             json={"visibility": "public"})).json()["persona"]
    assert public["share_id"] and public["share_path"] == f"/p/{public['share_id']}"
    private = (await ann.send("PATCH", f"/api/v1/personas/{persona['id']}",
                              json={"visibility": "private"})).json()["persona"]
    assert private["share_id"] is None
    gone = await ann.client.get(f"/api/v1/public/personas/{public['share_id']}")
    assert gone.status_code == 404
