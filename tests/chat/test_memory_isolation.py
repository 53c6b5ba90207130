"""Memories are private to the user they belong to: chatting with someone else's public
persona never brings the owner's memories into the prompt (nor anyone else's)."""

from tests.chat.test_context import sent


async def test_public_persona_owner_memories_stay_out_of_other_users_prompts(
        ann, bob, fake_llm):
    persona = await ann.persona(name="Ada", visibility="public")
    added = await ann.send("POST", f"/api/v1/personas/{persona['_id']}/memories",
                           json={"text": "Ann's bank PIN is 4921 and her cat is Biscuit.",
                                 "pinned": True})
    assert added.status_code == 201, added.text

    conversation = await bob.conversation(persona["_id"])
    response = await bob.say(conversation["id"], "What is the cat called? Any PIN?",
                             stream="false")
    assert response.status_code == 201, response.text
    prompt = "\n".join(m.content for m in sent(fake_llm))
    assert "4921" not in prompt and "Biscuit" not in prompt

    # the owner still gets her own memories in her own chat
    own = await ann.conversation(persona["_id"])
    await ann.say(own["id"], "What is my cat called?", stream="false")
    assert "Biscuit" in "\n".join(m.content for m in sent(fake_llm))


async def test_recall_with_a_user_returns_only_that_users_records(ann, ctx, fake_llm):
    from clonechats.personas.memory import service

    persona = await ann.persona(name="Ada", visibility="public")
    await service.add(ctx, user_id=ann.id, persona_id=persona["_id"], text="Ann likes tea.")
    assert [hit.memory["text"] for hit in await service.recall(
        ctx, persona_id=persona["_id"], query="tea", user_id=ann.id)] == ["Ann likes tea."]
    assert await service.recall(ctx, persona_id=persona["_id"], query="tea",
                                user_id="someone-else") == []
