"""Deleting a persona, or the account that owns it, leaves nothing that names it behind."""

from clonechats.privacy import registry
from tests.factories import make_persona
from tests.media.samples import image_bytes


async def mentions(ctx, *needles):
    found = []
    for name in await ctx.db.list_collection_names():
        for document in await ctx.db[name].find({}).to_list():
            text = str(document)
            found += [f"{name}: {needle}" for needle in needles if needle in text]
    return found


def files_under(directory):
    return sorted(str(path) for path in directory.rglob("*") if path.is_file()) \
        if directory.exists() else []


async def test_deleting_a_persona_removes_every_trace(ann, bob, ctx):
    persona = await ann.create(name="Doomed", visibility="public")
    keep = await ann.create(name="Keeper", visibility="public")
    for member in (ann, bob):
        for target in (persona, keep):
            await member.send("PUT", f"/api/v1/personas/{target['id']}/favourite")
    copy = (await ann.send("POST", f"/api/v1/personas/{persona['id']}/duplicate")).json()
    media_before = files_under(ctx.settings.media_dir)
    assert await mentions(ctx, persona["id"], persona["share_id"])

    response = await ann.send("DELETE", f"/api/v1/personas/{persona['id']}")
    assert response.status_code == 204
    assert await mentions(ctx, persona["id"], persona["share_id"]) == []
    assert not [path for path in files_under(ctx.settings.media_dir) if persona["id"] in path]
    assert files_under(ctx.settings.media_dir) == media_before
    kept = await ctx.db.personas.find_one({"_id": keep["id"]})
    assert kept["favourite_count"] == 2
    assert await ctx.db.personas.find_one({"_id": copy["persona"]["id"]}) is not None
    again = await ann.send("DELETE", f"/api/v1/personas/{persona['id']}")
    assert again.status_code == 404


async def test_account_deletion_removes_personas_and_favourites(ann, bob, ctx):
    mine = await ann.create(name="Ann's", visibility="public")
    theirs = await bob.create(name="Bob's", visibility="public")
    await ann.send("PUT", f"/api/v1/personas/{theirs['id']}/favourite")
    await bob.send("PUT", f"/api/v1/personas/{mine['id']}/favourite")
    exported = await registry.export_user_data(ctx, ann.id)
    assert [p["name"] for p in exported["personas"]["personas"]] == ["Ann's"]
    assert exported["personas"]["favourites"][0]["persona_id"] == theirs["id"]

    holder = next(h for h in registry.holders() if h.name == "personas")
    assert await holder.delete(ctx, ann.id) >= 3
    assert await mentions(ctx, mine["id"], mine["share_id"]) == []
    assert await ctx.db.persona_favourites.count_documents({"user_id": ann.id}) == 0
    assert (await ctx.db.personas.find_one({"_id": theirs["id"]}))["favourite_count"] == 0
    assert await ctx.db.personas.count_documents({"owner_id": bob.id}) == 1


async def test_unshared_personas_store_no_share_id_field(ann, ctx):
    first = await make_persona(ctx, owner_id=ann.id)
    second = await make_persona(ctx, owner_id=ann.id)
    for persona in (first, second):
        assert "share_id" not in await ctx.db.personas.find_one({"_id": persona["_id"]})


async def test_deleting_a_persona_removes_its_memories_and_files(ann, ctx):
    persona = await ann.create(name="With things", visibility="public")
    path = f"/api/v1/personas/{persona['id']}"
    memory = await ann.send("POST", f"{path}/memories", json={"text": "Likes tea at four."})
    assert memory.status_code == 201, memory.text
    png = image_bytes("PNG")
    for kind in ("avatar", "images"):
        upload = await ann.send("POST", f"{path}/{kind}",
                                files={"file": ("picture.png", png, "image/png")})
        assert upload.status_code == 201, upload.text
    stored = await ctx.db.personas.find_one({"_id": persona["id"]})
    assert stored["avatar_media_id"] and stored["reference_image_ids"]
    assert files_under(ctx.settings.media_dir)

    assert (await ann.send("DELETE", path)).status_code == 204
    assert await mentions(ctx, persona["id"], persona["share_id"], stored["avatar_media_id"],
                          "Likes tea at four.") == []
    assert files_under(ctx.settings.media_dir) == []


async def test_a_duplicate_gets_copies_of_the_memories_but_not_the_files(ann, ctx):
    persona = await ann.create(name="Original")
    path = f"/api/v1/personas/{persona['id']}"
    await ann.send("POST", f"{path}/memories", json={"text": "Was born by the sea."})
    await ann.send("POST", f"{path}/avatar",
                   files={"file": ("a.png", image_bytes("PNG"), "image/png")})
    copy = (await ann.send("POST", f"{path}/duplicate")).json()["persona"]
    assert copy["avatar_media_id"] is None and copy["reference_image_ids"] == []
    memories = (await ann.client.get(f"/api/v1/personas/{copy['id']}/memories")).json()
    assert [item["text"] for item in memories["items"]] == ["Was born by the sea."]
    files = files_under(ctx.settings.media_dir)
    assert (await ann.send("DELETE", path)).status_code == 204
    assert files_under(ctx.settings.media_dir) == [] and files
    left = (await ann.client.get(f"/api/v1/personas/{copy['id']}/memories")).json()
    assert [item["text"] for item in left["items"]] == ["Was born by the sea."]
