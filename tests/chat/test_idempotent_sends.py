"""`Idempotency-Key` on sends: a retry gets the first reply and is not charged again; the key
cannot be reused for another message; a refused send leaves the key free."""

from tests.chat.conftest import BLOCK_WORD


def with_key(key):
    return {"Idempotency-Key": key}


async def test_a_retry_with_the_same_key_is_not_sent_or_charged_twice(ann, fake_llm, ctx):
    persona = await ann.persona(name="Ada")
    conversation = await ann.conversation(persona["_id"])
    fake_llm.enqueue(["Hello", " there."])
    first = await ann.send("POST", f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"text": "Hi!"}, params={"stream": "false"},
                           headers=with_key("retry-1"))
    assert first.status_code == 201, first.text
    balance = await ann.balance()
    calls = len(fake_llm.history)

    retry = await ann.send("POST", f"/api/v1/conversations/{conversation['id']}/messages",
                           json={"text": "Hi!"}, params={"stream": "false"},
                           headers=with_key("retry-1"))
    assert retry.status_code == 200, retry.text
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["message"]["id"] == first.json()["message"]["id"]
    assert await ann.balance() == balance
    assert len(fake_llm.history) == calls
    assert await ctx.db.messages.count_documents({"conversation_id": conversation["id"]}) == 2

    reused = await ann.send("POST", f"/api/v1/conversations/{conversation['id']}/messages",
                            json={"text": "Something else"}, params={"stream": "false"},
                            headers=with_key("retry-1"))
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert await ctx.db.messages.count_documents({"conversation_id": conversation["id"]}) == 2


async def test_another_users_key_is_their_own(ann, bob, fake_llm):
    persona = await ann.persona(name="Ada", visibility="public")
    mine = await ann.conversation(persona["_id"])
    theirs = await bob.conversation(persona["_id"])
    for member, conversation in ((ann, mine), (bob, theirs)):
        sent = await member.send("POST", f"/api/v1/conversations/{conversation['id']}/messages",
                                 json={"text": "Hi!"}, params={"stream": "false"},
                                 headers=with_key("same-key"))
        assert sent.status_code == 201, sent.text


async def test_a_refused_send_leaves_the_key_free(ann, fake_llm, ctx):
    persona = await ann.persona(name="Ada")
    conversation = await ann.conversation(persona["_id"])
    url = f"/api/v1/conversations/{conversation['id']}/messages"
    blocked = await ann.send("POST", url, json={"text": f"{BLOCK_WORD} words"},
                             params={"stream": "false"}, headers=with_key("k2"))
    assert blocked.status_code == 422
    assert await ctx.db.send_keys.count_documents({}) == 0
    too_long = await ann.send("POST", url, json={"text": "Hi"}, params={"stream": "false"},
                              headers=with_key("x" * 300))
    assert too_long.status_code == 422
