"""A shared room is readable by anyone without owner data, and revocable; rooms are in the
export and go with the account."""

from clonechats.privacy import registry
from tests.chat.conftest import new_client
from tests.rooms.conftest import debate


async def finished_room(ann, fake_llm, run_jobs, **fields):
    ada = await ann.persona(name="<b>Ada</b>", tagline="A logician")
    bo = await ann.persona(name="Bo")
    room = await debate(ann, [ada["_id"], bo["_id"]], rounds=1, **fields)
    for text in ("<script>alert(1)</script> Ada.", "Bo.", "Sum."):
        fake_llm.enqueue([text])
    await ann.send("POST", f"/api/v1/rooms/{room['id']}/start")
    await run_jobs()
    return room, ada, bo


async def test_a_shared_room_shows_no_owner_data_and_can_be_revoked(app, ann, fake_llm,
                                                                    run_jobs):
    room, ada, _ = await finished_room(ann, fake_llm, run_jobs)
    shared = await ann.send("POST", f"/api/v1/rooms/{room['id']}/share")
    assert shared.status_code == 200
    share_id = shared.json()["share_id"]
    assert shared.json()["url"].endswith(f"/r/{share_id}")

    async with new_client(app) as anyone:
        view = await anyone.get(f"/api/v1/public/rooms/{share_id}")
        assert view.status_code == 200
        text = view.text
        for secret in (ann.id, ann.user["email"], ada["_id"], room["id"], "credits"):
            assert secret not in text
        public = view.json()["room"]
        assert public["summary"] == "Sum." and public["participants"][0]["name"] == "<b>Ada</b>"
        stream = await anyone.get(f"/api/v1/public/rooms/{share_id}/events")
        assert stream.status_code == 200 and "event: turn" in stream.text
        assert ada["_id"] not in stream.text and ann.id not in stream.text
        page = await anyone.get(f"/r/{share_id}", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        assert "&lt;b&gt;Ada&lt;/b&gt;" in page.text

        revoked = await ann.send("DELETE", f"/api/v1/rooms/{room['id']}/share")
        assert revoked.status_code == 204
        assert (await anyone.get(f"/api/v1/public/rooms/{share_id}")).status_code == 404
        assert (await anyone.get(f"/r/{share_id}")).status_code == 404


async def test_rooms_are_exported_and_deleted_with_the_account(ann, ctx, fake_llm, run_jobs):
    room, _, _ = await finished_room(ann, fake_llm, run_jobs)
    exported = await registry.export_user_data(ctx, ann.id)
    rooms = exported["rooms"]["rooms"]
    assert [r["id"] for r in rooms] == [room["id"]]
    assert "Bo." in [t["text"] for t in rooms[0]["turns"]]

    counts = await registry.delete_user_data(ctx, ann.id)
    assert counts["rooms"] > 0
    for collection in ("rooms", "room_turns", "room_events"):
        assert await ctx.db[collection].count_documents({}) == 0, collection


async def test_deleting_a_room_removes_its_turns_and_events(ann, ctx, fake_llm, run_jobs):
    room, _, _ = await finished_room(ann, fake_llm, run_jobs)
    assert (await ann.send("DELETE", f"/api/v1/rooms/{room['id']}")).status_code == 204
    assert (await ann.send("GET", f"/api/v1/rooms/{room['id']}")).status_code == 404
    for collection in ("rooms", "room_turns", "room_events"):
        assert await ctx.db[collection].count_documents({}) == 0, collection
