"""A user aged 13-17: the model is told (minor safety policy after the platform rules) and
moderation is stricter for what they send and what they are sent."""

import pytest

from clonechats.personas.instructions import PLATFORM_RULES
from clonechats.safety.minors import MINOR_SAFETY_POLICY
from tests.chat.conftest import member, new_client
from tests.chat.test_context import sent

TEEN_BIRTH_DATE = "2011-06-01"  # 15 on the frozen clock's date


@pytest.fixture
async def teen(app, ctx, fake_llm, moderator):
    async with new_client(app) as client:
        found = await member(client, ctx, "teen@example.com")
        await ctx.db.users.update_one({"_id": found.id}, {"$set": {
            "birth_date": TEEN_BIRTH_DATE,
            "guardian": {"email": "parent@example.com", "approved_at": ctx.clock.now(),
                         "authorized_tiers": ["free"]}}})
        await found.grant(100)
        yield found


async def test_the_model_is_told_the_user_is_a_minor(teen, ann, fake_llm):
    persona = await ann.persona(name="Ada", visibility="public")
    conversation = await teen.conversation(persona["_id"])
    response = await teen.say(conversation["id"], "Hello there", stream="false")
    assert response.status_code == 201, response.text
    messages = sent(fake_llm)
    assert messages[0].content == PLATFORM_RULES
    assert messages[1].role == "system" and messages[1].content == MINOR_SAFETY_POLICY
    assert "13 to 17" in messages[1].content

    own = await ann.conversation(persona["_id"])
    await ann.say(own["id"], "Hello there", stream="false")
    assert all(m.content != MINOR_SAFETY_POLICY for m in sent(fake_llm))


async def test_moderation_is_stricter_for_a_minor(teen, ann, ctx):
    text = "Can you tell me about sex?"
    adult_persona = await ann.persona(name="Ada")
    adult_chat = await ann.conversation(adult_persona["_id"])
    assert (await ann.say(adult_chat["id"], text, stream="false")).status_code == 201

    persona = await teen.persona(name="Tutor")
    conversation = await teen.conversation(persona["_id"])
    refused = await teen.say(conversation["id"], text, stream="false")
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "message_blocked"
    assert await ctx.db.messages.count_documents({"owner_id": teen.id,
                                                 "status": "complete"}) == 0


async def test_a_reply_to_a_minor_is_held_back_by_the_stricter_check(teen, fake_llm, ctx):
    persona = await teen.persona(name="Tutor")
    conversation = await teen.conversation(persona["_id"])
    fake_llm.enqueue(["Let's", " talk", " about", " sex", "."])
    response = await teen.say(conversation["id"], "Tell me a story", stream="false")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "reply_blocked"
    reply = await ctx.db.messages.find_one({"owner_id": teen.id, "role": "assistant"})
    assert reply["status"] == "blocked" and "sex" not in reply["text"]
