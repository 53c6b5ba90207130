"""A persona's memories over its whole life: the 10,000 limit, copying to a duplicate,
deletion with the persona, and the person's export and erasure."""

import asyncio

from clonechats.personas.memory import personal_data, repo, service, vectors
from clonechats.privacy import registry
from tests.factories import make_persona, make_user
from tests.personas.memory.conftest import memories_url


def bulk(persona, count, *, now, model_id):
    vector = [1.0] + [0.0] * 383
    return [{
        "_id": repo.new_memory_id(), "persona_id": persona["_id"],
        "owner_id": persona["owner_id"], "text": f"Fact number {i}.", "pinned": False,
        "source": "user", "created_at": now, "updated_at": now, "version": repo.new_version(),
        "embedding": vectors.pack(model_id, vector),
    } for i in range(count)]


async def test_the_10001st_memory_is_refused(ann, ctx, persona):
    rows = bulk(persona, service.MAX_MEMORIES, now=ctx.clock.now(),
                model_id=ctx.embeddings.model_id)
    for start in range(0, len(rows), 2000):
        await repo.insert_many(ctx.db, rows[start:start + 2000])
    response = await ann.send("POST", memories_url(persona["_id"]), json={"text": "One more."})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "memory_full" and "10,000" in error["message"]
    assert await repo.count(ctx.db, persona["_id"]) == service.MAX_MEMORIES
    assert await ctx.db.memories.count_documents({"text": "One more."}) == 0

    other = await make_persona(ctx, owner_id=ann.id, name="Other")  # the limit is per persona
    response = await ann.send("POST", memories_url(other["_id"]), json={"text": "Fine here."})
    assert response.status_code == 201


async def test_delete_for_persona_removes_all_of_them_and_nothing_else(ann, ctx, persona):
    other = await make_persona(ctx, owner_id=ann.id, name="Other")
    await repo.insert_many(ctx.db, bulk(persona, 25, now=ctx.clock.now(), model_id="m"))
    await service.add(ctx, user_id=ann.id, persona_id=other["_id"], text="Stays.")
    assert await service.delete_for_persona(ctx, persona_id=persona["_id"]) == 25
    assert await ctx.db.memories.count_documents({"persona_id": persona["_id"]}) == 0
    assert await ctx.db.memory_states.count_documents({"_id": persona["_id"]}) == 0
    assert await ctx.db.memories.count_documents({"persona_id": other["_id"]}) == 1
    assert await ctx.db.memory_states.count_documents({"_id": other["_id"]}) == 1


async def test_copy_for_persona_copies_text_pins_and_vectors(ann, ctx, clock, persona):
    first = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Likes tea.",
                              pinned=True)
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Hates coffee.")
    copy = await make_persona(ctx, owner_id=ann.id, name="Copy of Ada")
    clock.advance(minutes=3)
    assert await service.copy_for_persona(ctx, source_persona_id=persona["_id"],
                                          target_persona_id=copy["_id"], owner_id=ann.id) == 2
    copied = await repo.all_for_persona(ctx.db, copy["_id"])
    assert sorted(m["text"] for m in copied) == ["Hates coffee.", "Likes tea."]
    assert {m["owner_id"] for m in copied} == {ann.id}
    tea = next(m for m in copied if m["text"] == "Likes tea.")
    original = await ctx.db.memories.find_one({"_id": first["_id"]})
    assert tea["_id"] != first["_id"] and tea["pinned"] is True
    assert tea["embedding"] == original["embedding"]
    assert tea["created_at"] == original["created_at"]
    # the copies are independent: deleting the original's memories leaves them
    await service.delete_for_persona(ctx, persona_id=persona["_id"])
    assert len(await repo.all_for_persona(ctx.db, copy["_id"])) == 2
    found = await service.recall(ctx, persona_id=copy["_id"], query="favourite drink", k=1)
    assert found[0].memory["persona_id"] == copy["_id"]


async def test_copy_defaults_to_the_target_personas_owner(ann, ctx, persona):
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Likes tea.")
    copy = await make_persona(ctx, owner_id=ann.id, name="Copy")
    assert await service.copy_for_persona(ctx, source_persona_id=persona["_id"],
                                          target_persona_id=copy["_id"]) == 1


async def test_duplicating_a_persona_through_the_api_copies_its_memories(ann, ctx, persona):
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Likes tea.")
    response = await ann.send("POST", f"/api/v1/personas/{persona['_id']}/duplicate")
    assert response.status_code == 201, response.text
    copy_id = response.json()["persona"]["id"]
    items = (await ann.client.get(memories_url(copy_id))).json()["items"]
    assert [item["text"] for item in items] == ["Likes tea."]


async def test_export_has_the_text_but_no_vectors(ann, ctx, persona):
    other_user = await make_user(ctx, email="carol@example.com")
    carols = await make_persona(ctx, owner_id=other_user["_id"])
    await service.add(ctx, user_id=other_user["_id"], persona_id=carols["_id"], text="Carol's.")
    memory = await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Likes tea.")
    exported = await personal_data.export(ctx, ann.id)
    assert exported == {"memory_learning": [], "memories": [{
        "id": memory["_id"], "persona_id": persona["_id"], "text": "Likes tea.",
        "pinned": False, "source": "user", "source_conversation_id": None,
        "source_message_id": None,
        "created_at": "2026-03-01T12:00:00+00:00", "updated_at": "2026-03-01T12:00:00+00:00",
    }]}
    assert any(holder.name == "memories" for holder in registry.holders())


async def test_erasure_deletes_only_that_persons_memories(ann, ctx, persona):
    other_user = await make_user(ctx, email="carol@example.com")
    carols = await make_persona(ctx, owner_id=other_user["_id"])
    await service.add(ctx, user_id=other_user["_id"], persona_id=carols["_id"], text="Carol's.")
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Likes tea.")
    assert await personal_data.delete(ctx, ann.id) == 1
    remaining = await ctx.db.memories.find({}).to_list()
    assert [m["text"] for m in remaining] == ["Carol's."]
    states = await ctx.db.memory_states.find({}).to_list()
    assert [state["_id"] for state in states] == [carols["_id"]]


async def test_concurrent_adds_never_pass_the_limit(ann, ctx, persona):
    rows = bulk(persona, service.MAX_MEMORIES - 1, now=ctx.clock.now(),
                model_id=ctx.embeddings.model_id)
    for start in range(0, len(rows), 2000):
        await repo.insert_many(ctx.db, rows[start:start + 2000])

    async def attempt(i):
        try:
            await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text=f"Race {i}.")
        except service.MemoryFull:
            return "full"
        return "added"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(3)))
    assert outcomes.count("added") <= 1 and "full" in outcomes
    assert await repo.count(ctx.db, persona["_id"]) <= service.MAX_MEMORIES
    assert await repo.count(ctx.db, persona["_id"]) == \
        service.MAX_MEMORIES - 1 + outcomes.count("added")
