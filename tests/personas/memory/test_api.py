"""The memories API: add, list, edit, pin, delete; validation; only the owner sees anything."""

import pytest

from clonechats.personas.memory import service
from tests.personas.memory.conftest import memories_url


async def add(member, persona_id, text, **extra):
    response = await member.send("POST", memories_url(persona_id), json={"text": text, **extra})
    assert response.status_code == 201, response.text
    return response.json()["memory"]


async def test_add_then_list_shows_text_source_date_and_model(ann, ctx, persona):
    memory = await add(ann, persona["_id"], "  Loves spicy ramen.\r\nHates olives.  ")
    assert memory["text"] == "Loves spicy ramen.\nHates olives."
    assert memory["source"] == "user" and memory["source_conversation_id"] is None
    assert memory["pinned"] is False
    assert memory["created_at"] == "2026-03-01T12:00:00Z"
    assert memory["embedding_model"] == ctx.embeddings.model_id

    stored = await ctx.db.memories.find_one({"_id": memory["id"]})
    assert stored["owner_id"] == ann.id and stored["persona_id"] == persona["_id"]
    assert stored["embedding"]["model_id"] == ctx.embeddings.model_id
    assert stored["embedding"]["dimensions"] == 384

    listed = (await ann.client.get(memories_url(persona["_id"]))).json()
    assert listed == {"items": [memory], "next_cursor": None}
    assert "embedding" not in listed["items"][0] and "vector" not in str(listed)


async def test_edit_text_re_embeds_and_keeps_creation_date(ann, ctx, clock, persona):
    memory = await add(ann, persona["_id"], "Likes cats.")
    before = await ctx.db.memories.find_one({"_id": memory["id"]})
    clock.advance(minutes=5)
    response = await ann.send("PATCH", memories_url(persona["_id"], memory["id"]),
                              json={"text": "Likes dogs."})
    assert response.status_code == 200
    edited = response.json()["memory"]
    assert edited["text"] == "Likes dogs."
    assert edited["created_at"] == memory["created_at"]
    assert edited["updated_at"] == "2026-03-01T12:05:00Z"
    after = await ctx.db.memories.find_one({"_id": memory["id"]})
    assert after["embedding"]["vector"] != before["embedding"]["vector"]


async def test_pin_and_unpin(ann, ctx, persona):
    memory = await add(ann, persona["_id"], "Is called Ada.")
    url = memories_url(persona["_id"], memory["id"])
    pinned = await ann.send("PATCH", url, json={"pinned": True})
    assert pinned.status_code == 200 and pinned.json()["memory"]["pinned"] is True
    stored = await ctx.db.memories.find_one({"_id": memory["id"]})
    assert stored["pinned"] is True and stored["text"] == "Is called Ada."
    unpinned = await ann.send("PATCH", url, json={"pinned": False})
    assert unpinned.json()["memory"]["pinned"] is False


async def test_delete(ann, ctx, persona):
    memory = await add(ann, persona["_id"], "Temporary.")
    url = memories_url(persona["_id"], memory["id"])
    assert (await ann.send("DELETE", url)).status_code == 204
    assert await ctx.db.memories.count_documents({}) == 0
    again = await ann.send("DELETE", url)
    assert again.status_code == 404 and again.json()["error"]["code"] == "memory_not_found"


async def test_list_puts_pinned_first_then_newest_and_pages(ann, clock, persona):
    ids = {}
    for name in ["a", "b", "c", "d", "e"]:
        ids[name] = (await add(ann, persona["_id"], f"memory {name}",
                               pinned=name in {"a", "c"}))["id"]
        clock.advance(minutes=1)
    order = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await ann.client.get(memories_url(persona["_id"]), params=params)).json()
        assert len(page["items"]) <= 2
        order += [item["text"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert order == ["memory c", "memory a", "memory e", "memory d", "memory b"]


async def test_a_bad_cursor_is_a_clear_400(ann, persona):
    response = await ann.client.get(memories_url(persona["_id"]), params={"cursor": "nope"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_get_one(ann, persona):
    memory = await add(ann, persona["_id"], "Single fact.")
    response = await ann.client.get(memories_url(persona["_id"], memory["id"]))
    assert response.status_code == 200 and response.json() == {"memory": memory}


BAD_TEXT = [
    ("", "invalid_memory_text", "cannot be empty"),
    ("   \n ", "invalid_memory_text", "cannot be empty"),
    ("x" * 1001, "invalid_memory_text", "at most 1000 characters (this one has 1001)"),
    ("bell \x07", "invalid_memory_text", "control characters"),
    ("nul \x00", "invalid_memory_text", "control characters"),
    (42, "validation_failed", "(text)"),
    (None, "validation_failed", "(text)"),
]


@pytest.mark.parametrize(("text", "code", "message"), BAD_TEXT)
async def test_bad_text_is_refused_and_nothing_is_stored(ann, ctx, persona, text, code, message):
    response = await ann.send("POST", memories_url(persona["_id"]), json={"text": text})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == code
    assert message in response.json()["error"]["message"]
    assert await ctx.db.memories.count_documents({}) == 0


@pytest.mark.parametrize(("text", "code"), [(t, c) for t, c, _ in BAD_TEXT])
async def test_bad_edits_change_nothing(ann, ctx, persona, text, code):
    memory = await add(ann, persona["_id"], "Original.")
    before = await ctx.db.memories.find_one({"_id": memory["id"]})
    response = await ann.send("PATCH", memories_url(persona["_id"], memory["id"]),
                              json={"text": text})
    if text is None:  # an absent text means "leave it", and nothing else was sent
        code = "nothing_to_change"
    assert response.status_code == 422 and response.json()["error"]["code"] == code
    assert await ctx.db.memories.find_one({"_id": memory["id"]}) == before


async def test_exactly_1000_characters_is_accepted(ann, persona):
    assert len((await add(ann, persona["_id"], "y" * 1000))["text"]) == 1000


async def test_unknown_fields_and_empty_patches_are_refused(ann, ctx, persona):
    response = await ann.send("POST", memories_url(persona["_id"]),
                              json={"text": "ok", "source": "chat"})
    assert response.status_code == 422
    memory = await add(ann, persona["_id"], "Kept.")
    empty = await ann.send("PATCH", memories_url(persona["_id"], memory["id"]), json={})
    assert empty.status_code == 422
    assert empty.json()["error"]["code"] == "nothing_to_change"
    assert await ctx.db.memories.count_documents({}) == 1


async def test_pins_are_limited(ann, ctx, persona):
    for i in range(service.MAX_PINNED):
        await add(ann, persona["_id"], f"pinned {i}", pinned=True)
    refused = await ann.send("POST", memories_url(persona["_id"]),
                             json={"text": "one more", "pinned": True})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "too_many_pinned"
    loose = await add(ann, persona["_id"], "not pinned")
    refused = await ann.send("PATCH", memories_url(persona["_id"], loose["id"]),
                             json={"pinned": True})
    assert refused.status_code == 409
    assert await ctx.db.memories.count_documents({"pinned": True}) == service.MAX_PINNED


async def test_a_chat_memory_records_its_conversation(ann, ctx, persona):
    memory = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"],
                               text="Mentioned a trip to Kyoto.", source="chat",
                               source_conversation_id="c" * 24)
    listed = (await ann.client.get(memories_url(persona["_id"]))).json()["items"]
    assert listed[0]["id"] == memory["_id"]
    assert listed[0]["source"] == "chat" and listed[0]["source_conversation_id"] == "c" * 24


async def test_another_user_gets_404_on_every_route(ann, bob, ctx, persona):
    memory = await add(ann, persona["_id"], "Private fact.")
    pid, mid = persona["_id"], memory["id"]
    attempts = [
        ("GET", memories_url(pid), None),
        ("POST", memories_url(pid), {"text": "planted"}),
        ("GET", memories_url(pid) + "/search?q=fact", None),
        ("GET", memories_url(pid, mid), None),
        ("PATCH", memories_url(pid, mid), {"text": "changed", "pinned": True}),
        ("PATCH", memories_url(pid, mid), {}),
        ("DELETE", memories_url(pid, mid), None),
    ]
    for method, url, body in attempts:
        response = await bob.send(method, url, json=body) if body is not None else \
            await bob.send(method, url)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["error"]["code"] == "persona_not_found"
        assert "Private fact" not in response.text
    assert [m["text"] for m in await ctx.db.memories.find({}).to_list()] == ["Private fact."]


async def test_public_persona_memories_are_still_owner_only(ann, bob, ctx):
    from tests.factories import make_persona

    public = await make_persona(ctx, owner_id=ann.id, visibility="public")
    await add(ann, public["_id"], "Owner's secret.")
    response = await bob.client.get(memories_url(public["_id"]))
    assert response.status_code == 404


async def test_memory_id_of_another_persona_is_not_found(ann, ctx, persona):
    from tests.factories import make_persona

    other = await make_persona(ctx, owner_id=ann.id, name="Other")
    memory = await add(ann, other["_id"], "Belongs to Other.")
    response = await ann.send("DELETE", memories_url(persona["_id"], memory["id"]))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "memory_not_found"
    assert await ctx.db.memories.count_documents({}) == 1


async def test_anonymous_visitors_must_sign_in(stranger, persona):
    response = await stranger.get(memories_url(persona["_id"]))
    assert response.status_code == 401


async def test_deleting_the_persona_removes_its_memories(ann, ctx, persona):
    await add(ann, persona["_id"], "First.")
    await add(ann, persona["_id"], "Second.")
    response = await ann.send("DELETE", f"/api/v1/personas/{persona['_id']}")
    assert response.status_code in (200, 204)
    assert await ctx.db.memories.count_documents({}) == 0
    assert await ctx.db.memory_states.count_documents({}) == 0
