"""Another user's private persona is "not found" for every operation, and never listed."""

import pytest

from tests.factories import make_persona

OPERATIONS = [
    ("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/share"), ("DELETE", "/share"),
    ("POST", "/duplicate"), ("PUT", "/favourite"), ("DELETE", "/favourite"), ("GET", "/card"),
]


@pytest.mark.parametrize(("method", "suffix"), OPERATIONS)
async def test_other_users_get_404_for_a_private_persona(ann, bob, ctx, method, suffix):
    persona = await make_persona(ctx, owner_id=ann.id, name="Secret", system_prompt="hidden")
    kwargs = {"json": {"name": "Taken"}} if method == "PATCH" else {}
    response = await bob.send(method, f"/api/v1/personas/{persona['_id']}{suffix}", **kwargs)
    assert response.status_code == 404
    if suffix != "/card":
        assert response.json()["error"]["code"] == "persona_not_found"
    stored = await ctx.db.personas.find_one({"_id": persona["_id"]})
    assert stored["name"] == "Secret" and stored.get("share_id") is None
    assert stored["favourite_count"] == 0
    assert await ctx.db.personas.count_documents({}) == 1


async def test_unknown_ids_look_the_same_as_private_ones(bob, ann, ctx):
    persona = await make_persona(ctx, owner_id=ann.id)
    private = await bob.client.get(f"/api/v1/personas/{persona['_id']}")
    unknown = await bob.client.get("/api/v1/personas/0123456789abcdef01234567")
    assert private.status_code == unknown.status_code == 404
    assert private.json() == unknown.json()


async def test_private_personas_stay_out_of_other_peoples_lists(ann, bob, ctx):
    secret = await make_persona(ctx, owner_id=ann.id, name="Secret")
    shown = await ann.create(name="Shown", visibility="public")
    await ann.send("PUT", f"/api/v1/personas/{secret['_id']}/favourite")
    mine = (await bob.client.get("/api/v1/personas")).json()
    assert mine == {"items": [], "next_cursor": None}
    explore = (await bob.client.get("/api/v1/public/personas")).json()
    assert [item["name"] for item in explore["items"]] == ["Shown"]
    favourites = (await bob.client.get("/api/v1/personas/favourites")).json()
    assert favourites["items"] == []
    assert shown["id"] not in str(mine)


async def test_a_public_persona_of_someone_else_reads_as_the_public_view(ann, bob):
    persona = await ann.create(name="Open", visibility="public", system_prompt="secret sauce")
    response = await bob.client.get(f"/api/v1/personas/{persona['id']}")
    body = response.json()["persona"]
    assert response.status_code == 200 and body["name"] == "Open"
    assert body["system_prompt"] is None and "owner_id" not in body
    assert ann.user["email"] not in response.text
    edit = await bob.send("PATCH", f"/api/v1/personas/{persona['id']}", json={"name": "Mine"})
    assert edit.status_code == 404
