"""Memories learnt from the conversation: stored after the reply by a job, recalled in a new
conversation with the same persona, merged, switchable, forgettable, and never another user's."""

import pytest

from clonechats.personas.memory import learning, recall
from clonechats.personas.memory import repo as memory_repo
from tests.chat.conftest import Member, parse_sse


@pytest.fixture(autouse=True)
def fresh_recall_cache():
    recall.CACHE.clear()
    yield
    recall.CACHE.clear()


def mine_url(persona_id: str, rest: str = "") -> str:
    return f"/api/v1/personas/{persona_id}/my-memories{rest}"


async def tell(member: Member, conversation_id: str, text: str) -> str:
    """Send a message, finish its reply, and return the user message's id."""
    response = await member.say(conversation_id, text)
    assert parse_sse(response.text)[-1][0] == "done", response.text
    listed = (await member.client.get(
        f"/api/v1/conversations/{conversation_id}/messages")).json()["items"]
    return [m for m in listed if m["role"] == "user"][-1]["id"]


def prompt_text(fake_llm) -> str:
    return "\n".join(m.content for m in fake_llm.history[-1]["messages"])


async def test_a_fact_told_in_one_conversation_is_recalled_in_a_new_one(ann, fake_llm, run_jobs):
    persona = await ann.persona(name="Maren")
    first = await ann.conversation(persona["_id"])
    message_id = await tell(ann, first["id"], "My dog is Biscuit and I'm afraid of storms.")
    assert await memory_repo.count(ann.ctx.db, persona["_id"]) == 0  # not on the reply's path
    await run_jobs()

    listed = (await ann.client.get(mine_url(persona["_id"]))).json()
    texts = sorted(m["text"] for m in listed["items"])
    assert texts == ["The user is afraid of storms.", "The user's dog is Biscuit."]
    assert {(m["source"], m["source_conversation_id"], m["source_message_id"])
            for m in listed["items"]} == {("chat", first["id"], message_id)}
    assert listed["learning"] == {"enabled": True}
    # the owner's memory panel shows them too
    owner_panel = (await ann.client.get(f"/api/v1/personas/{persona['_id']}/memories")).json()
    assert len(owner_panel["items"]) == 2

    second = await ann.conversation(persona["_id"])
    await tell(ann, second["id"], "Do you remember my dog's name?")
    assert "The user's dog is Biscuit." in prompt_text(fake_llm)


async def test_a_public_personas_memories_of_one_user_never_reach_another(
        ann, bob, fake_llm, run_jobs):
    persona = await ann.persona(name="Maren", visibility="public")
    ann_chat = await ann.conversation(persona["_id"])
    await tell(ann, ann_chat["id"], "My dog is Biscuit.")
    bob_chat = await bob.conversation(persona["_id"])
    await tell(bob, bob_chat["id"], "I live in Lisbon.")
    await run_jobs()

    await tell(bob, bob_chat["id"], "Tell me about my dog Biscuit and where I live.")
    seen_by_bob = prompt_text(fake_llm)
    assert "The user lives in Lisbon." in seen_by_bob and "Biscuit." not in seen_by_bob.replace(
        "my dog Biscuit and", "")
    await tell(ann, ann_chat["id"], "Where do I live? And my dog?")
    seen_by_ann = prompt_text(fake_llm)
    assert "The user's dog is Biscuit." in seen_by_ann and "Lisbon" not in seen_by_ann

    bobs = (await bob.client.get(mine_url(persona["_id"]))).json()["items"]
    assert [m["text"] for m in bobs] == ["The user lives in Lisbon."]
    owner_panel = (await ann.client.get(f"/api/v1/personas/{persona['_id']}/memories")).json()
    assert [m["text"] for m in owner_panel["items"]] == ["The user's dog is Biscuit."]
    bobs_id = bobs[0]["id"]
    # neither the owner's routes nor her own panel can read, change or delete Bob's memory
    for method, url in (("GET", f"/api/v1/personas/{persona['_id']}/memories/{bobs_id}"),
                        ("PATCH", f"/api/v1/personas/{persona['_id']}/memories/{bobs_id}"),
                        ("DELETE", f"/api/v1/personas/{persona['_id']}/memories/{bobs_id}"),
                        ("PATCH", mine_url(persona["_id"], f"/{bobs_id}")),
                        ("DELETE", mine_url(persona["_id"], f"/{bobs_id}"))):
        kwargs = {"json": {"pinned": True}} if method == "PATCH" else {}
        refused = await ann.send(method, url, **kwargs)
        assert refused.status_code == 404, (method, url, refused.text)
    assert (await bob.client.get(mine_url(persona["_id"]))).json()["items"][0]["pinned"] is False
    # the owner's test recall does not find it either
    search = await ann.client.get(f"/api/v1/personas/{persona['_id']}/memories/search",
                                  params={"q": "Lisbon"})
    assert all("Lisbon" not in hit["text"] for hit in search.json()["items"])


async def test_a_private_persona_of_someone_else_is_not_found(ann, bob):
    persona = await ann.persona(name="Maren")
    for method, url in (("GET", mine_url(persona["_id"])),
                        ("PUT", mine_url(persona["_id"], "/learning"))):
        kwargs = {"json": {"enabled": False}} if method == "PUT" else {}
        assert (await bob.send(method, url, **kwargs)).status_code == 404


async def test_turning_learning_off_keeps_new_facts_out(ann, run_jobs):
    persona = await ann.persona(name="Maren")
    chat = await ann.conversation(persona["_id"])
    switched = await ann.send("PUT", mine_url(persona["_id"], "/learning"),
                              json={"enabled": False})
    assert switched.json() == {"learning": {"enabled": False}}
    await tell(ann, chat["id"], "My cat is Miso.")
    await run_jobs()
    assert (await ann.client.get(mine_url(persona["_id"]))).json() == {
        "items": [], "next_cursor": None, "learning": {"enabled": False}}
    bad = await ann.send("PUT", mine_url(persona["_id"], "/learning"), json={"enabled": "x"})
    assert bad.status_code == 422


async def test_a_newer_fact_about_the_same_thing_replaces_the_older_and_repeats_merge(
        ann, run_jobs):
    persona = await ann.persona(name="Maren")
    chat = await ann.conversation(persona["_id"])
    await tell(ann, chat["id"], "My dog is Biscuit.")
    await run_jobs()
    second = await tell(ann, chat["id"], "Actually my dog is Max now. I live in Porto.")
    await tell(ann, chat["id"], "I live in Porto!")
    await run_jobs()
    items = (await ann.client.get(mine_url(persona["_id"]))).json()["items"]
    assert sorted(m["text"] for m in items) == ["The user lives in Porto.",
                                                "The user's dog is Max."]
    dog = next(m for m in items if "dog" in m["text"])
    assert dog["source_message_id"] == second


async def test_questions_negations_and_passing_remarks_teach_nothing(ann, run_jobs):
    persona = await ann.persona(name="Maren")
    chat = await ann.conversation(persona["_id"])
    for text in ("Is my dog called Biscuit?", "I'm not afraid of storms.",
                 "My day is going well.", "I love you", "I'm a bit tired."):
        await tell(ann, chat["id"], text)
    await run_jobs()
    assert (await ann.client.get(mine_url(persona["_id"]))).json()["items"] == []


async def test_deleting_the_source_message_can_forget_what_was_learnt(ann, run_jobs):
    persona = await ann.persona(name="Maren")
    chat = await ann.conversation(persona["_id"])
    keep = await tell(ann, chat["id"], "I live in Lisbon.")
    forget = await tell(ann, chat["id"], "My sister is called Ana.")
    await run_jobs()
    learnt = (await ann.client.get(mine_url(persona["_id"]),
                                   params={"message_id": forget})).json()["items"]
    assert [m["text"] for m in learnt] == ["The user's sister is Ana."]
    deleted = await ann.send("DELETE", f"/api/v1/conversations/{chat['id']}/messages/{forget}")
    assert deleted.status_code == 204
    answer = await ann.send("DELETE", mine_url(persona["_id"]), params={"message_id": forget})
    assert answer.json() == {"deleted": 1}
    items = (await ann.client.get(mine_url(persona["_id"]))).json()["items"]
    assert [(m["text"], m["source_message_id"]) for m in items] == [
        ("The user lives in Lisbon.", keep)]
    again = await ann.send("DELETE", mine_url(persona["_id"]), params={"message_id": forget})
    assert again.json() == {"deleted": 0}


async def test_editing_pinning_and_deleting_a_learnt_memory(ann, run_jobs):
    persona = await ann.persona(name="Maren")
    chat = await ann.conversation(persona["_id"])
    await tell(ann, chat["id"], "My dog is Biscuit.")
    await run_jobs()
    [memory] = (await ann.client.get(mine_url(persona["_id"]))).json()["items"]
    edited = await ann.send("PATCH", mine_url(persona["_id"], f"/{memory['id']}"),
                            json={"text": "The user's dog is Biscuit, a beagle.", "pinned": True})
    assert edited.status_code == 200
    assert (edited.json()["memory"]["text"], edited.json()["memory"]["pinned"]) == (
        "The user's dog is Biscuit, a beagle.", True)
    empty = await ann.send("PATCH", mine_url(persona["_id"], f"/{memory['id']}"), json={})
    assert empty.status_code == 422
    gone = await ann.send("DELETE", mine_url(persona["_id"], f"/{memory['id']}"))
    assert gone.status_code == 204
    assert (await ann.client.get(mine_url(persona["_id"]))).json()["items"] == []


async def test_an_edited_away_message_teaches_nothing(ann, ctx):
    persona = await ann.persona(name="Maren")
    chat = await ann.conversation(persona["_id"])
    message_id = await tell(ann, chat["id"], "My dog is Biscuit.")
    await ctx.db.messages.update_one({"_id": message_id}, {"$set": {"superseded_by": "x"}})
    assert await learning.learn_from_message(ctx, message_id) == []
    assert await learning.learn_from_message(ctx, "no-such-message") == []


async def test_learnt_memories_are_exported_and_deleted_with_the_account(ann, bob, ctx,
                                                                          run_jobs):
    from clonechats.personas.memory import personal_data

    persona = await ann.persona(name="Maren", visibility="public")
    chat = await bob.conversation(persona["_id"])
    message_id = await tell(bob, chat["id"], "I'm allergic to peanuts.")
    await bob.send("PUT", mine_url(persona["_id"], "/learning"), json={"enabled": True})
    await run_jobs()
    exported = await personal_data.export(ctx, bob.id)
    assert [(m["text"], m["source"], m["source_message_id"]) for m in exported["memories"]] == [
        ("The user is allergic to peanuts.", "chat", message_id)]
    assert exported["memory_learning"] == [{"persona_id": persona["_id"],
                                            "learn_from_chats": True}]
    assert (await personal_data.export(ctx, ann.id))["memories"] == []
    assert await personal_data.delete(ctx, bob.id) == 2
    assert await ctx.db[memory_repo.MEMORIES].count_documents({"owner_id": bob.id}) == 0
    assert await ctx.db[memory_repo.PREFS].count_documents({"user_id": bob.id}) == 0
