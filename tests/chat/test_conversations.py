"""Conversations: who may open them, listing, renaming, deleting, regenerate and edit."""

from tests.chat.conftest import parse_sse


async def messages_of(member, conversation_id: str) -> list[dict]:
    response = await member.client.get(f"/api/v1/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_another_users_conversation_is_not_found_on_every_route(ann, bob, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    await ann.say(conversation["id"], "Private words", stream="false")
    user_message, reply = await messages_of(ann, conversation["id"])
    base = f"/api/v1/conversations/{conversation['id']}"
    attempts = [
        ("GET", base, None), ("PATCH", base, {"title": "Mine now"}), ("DELETE", base, None),
        ("GET", f"{base}/messages", None), ("POST", f"{base}/messages", {"text": "Hi"}),
        ("GET", f"{base}/messages/{reply['id']}", None),
        ("POST", f"{base}/messages/{reply['id']}/stop", None),
        ("POST", f"{base}/messages/{reply['id']}/regenerate", None),
        ("POST", f"{base}/messages/{user_message['id']}/edit", {"text": "Changed"}),
        ("DELETE", f"{base}/messages/{reply['id']}", None),
    ]
    for method, path, body in attempts:
        response = await bob.send(method, path, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert "Private words" not in response.text
    for page in (f"/chat/{conversation['id']}", f"/chat/{conversation['id']}/tail"):
        response = await bob.client.get(page, headers={"Accept": "text/html"})
        assert response.status_code == 404
        assert "Private words" not in response.text
    assert (await bob.client.get("/api/v1/conversations")).json()["items"] == []
    # nothing changed for ann, and bob was never charged
    assert len(fake_llm.history) == 1
    assert [m["text"] for m in await messages_of(ann, conversation["id"])] == [
        "Private words", "Hello there."]
    assert (await ann.client.get(base)).json()["conversation"]["title"] == "Private words"
    assert await bob.balance() == 100


async def test_message_ids_of_one_conversation_do_not_work_through_another(ann, fake_llm):
    first = await ann.conversation((await ann.persona())["_id"])
    second = await ann.conversation((await ann.persona())["_id"])
    await ann.say(first["id"], "Hello", stream="false")
    reply = (await messages_of(ann, first["id"]))[1]
    response = await ann.send(
        "POST", f"/api/v1/conversations/{second['id']}/messages/{reply['id']}/regenerate")
    assert response.status_code == 404


async def test_chat_with_a_public_persona_but_not_a_private_one(ann, bob, fake_llm):
    public = await bob.persona(name="Shared", visibility="public", share_id="share123")
    private = await bob.persona(name="Secret")

    response = await ann.send("POST", "/api/v1/conversations", json={"persona_id": private["_id"]})
    assert response.status_code == 404
    assert "Secret" not in response.text
    assert (await ann.send("POST", "/api/v1/conversations",
                           json={"persona_id": "nope"})).status_code == 404

    conversation = await ann.conversation(public["_id"])
    assert conversation["persona_name"] == "Shared"
    assert conversation["url"] == f"/chat/{conversation['id']}"
    done = await ann.say(conversation["id"], "Hi there", stream="false")
    assert done.status_code == 201
    assert await ann.balance() == 98 and await bob.balance() == 100
    # bob owns the persona, not the conversation
    assert (await bob.client.get(f"/api/v1/conversations/{conversation['id']}")).status_code == 404

    # once the persona goes private the conversation stays readable but cannot go on
    await bob.ctx.db.personas.update_one({"_id": public["_id"]},
                                         {"$set": {"visibility": "private"}})
    assert len(await messages_of(ann, conversation["id"])) == 2
    refused = await ann.say(conversation["id"], "Still there?")
    assert refused.status_code == 404
    assert (await ann.say(conversation["id"], "Again?")).status_code == 404  # not left locked


async def test_signed_out_callers_get_401(client, ctx, fake_llm):
    assert (await client.get("/api/v1/conversations")).status_code == 401
    response = await client.post("/api/v1/conversations", json={"persona_id": "x"})
    assert response.status_code == 401


async def test_list_is_paginated_newest_activity_first(ann, fake_llm, clock):
    persona = await ann.persona()
    created = []
    for _ in range(5):
        created.append((await ann.conversation(persona["_id"]))["id"])
        clock.advance(minutes=1)
    await ann.say(created[0], "Bring me to the top", stream="false")

    first = (await ann.client.get("/api/v1/conversations", params={"limit": 2})).json()
    assert [c["id"] for c in first["items"]] == [created[0], created[4]]
    second = (await ann.client.get("/api/v1/conversations",
                                   params={"limit": 2, "cursor": first["next_cursor"]})).json()
    third = (await ann.client.get("/api/v1/conversations",
                                  params={"limit": 2, "cursor": second["next_cursor"]})).json()
    assert [c["id"] for c in second["items"] + third["items"]] == [
        created[3], created[2], created[1]]
    assert third["next_cursor"] is None
    bad = await ann.client.get("/api/v1/conversations", params={"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"


async def test_messages_are_paginated_back_in_time(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    for n in range(3):
        await ann.say(conversation["id"], f"Message {n}", stream="false")
    base = f"/api/v1/conversations/{conversation['id']}/messages"
    newest = (await ann.client.get(base, params={"limit": 4})).json()
    assert [m["text"] for m in newest["items"]] == [
        "Message 1", "Hello there.", "Message 2", "Hello there."]
    older = (await ann.client.get(base, params={"limit": 4,
                                                "cursor": newest["next_cursor"]})).json()
    assert [m["text"] for m in older["items"]] == ["Message 0", "Hello there."]
    assert older["next_cursor"] is None


async def test_rename_and_delete(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    await ann.say(conversation["id"], "Hello", stream="false")
    base = f"/api/v1/conversations/{conversation['id']}"

    renamed = await ann.send("PATCH", base, json={"title": "  Evening   talk "})
    assert renamed.status_code == 200
    assert renamed.json()["conversation"]["title"] == "Evening talk"
    for bad in ["", "   ", "x" * 81]:
        response = await ann.send("PATCH", base, json={"title": bad})
        assert response.status_code == 422
    await ann.say(conversation["id"], "Another", stream="false")
    assert (await ann.client.get(base)).json()["conversation"]["title"] == "Evening talk"

    assert (await ann.send("DELETE", base)).status_code == 204
    assert (await ann.client.get(base)).status_code == 404
    assert await ctx.db.messages.count_documents({"conversation_id": conversation["id"]}) == 0
    assert (await ann.send("DELETE", base)).status_code == 404


async def test_regenerate_replaces_the_last_reply_and_keeps_the_old_one(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["First", " answer"])
    await ann.say(conversation["id"], "Question", stream="false")
    user, old = await messages_of(ann, conversation["id"])

    fake_llm.enqueue(["Second", " answer"])
    response = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{old['id']}/regenerate")

    events = parse_sse(response.text)
    assert [name for name, _ in events] == ["token", "token", "done"]
    shown = await messages_of(ann, conversation["id"])
    assert [m["text"] for m in shown] == ["Question", "Second answer"]
    assert shown[1]["replaces_message_id"] == old["id"]
    kept = await ctx.db.messages.find_one({"_id": old["id"]})
    assert kept["text"] == "First answer" and kept["superseded_by"] == shown[1]["id"]
    # the model saw the question, not the replaced answer
    assert [m.content for m in fake_llm.history[-1]["messages"][-1:]] == ["Question"]
    assert not any(m.content == "First answer" for m in fake_llm.history[-1]["messages"])
    assert await ann.balance() == 96

    # only the latest reply can be regenerated, and only a reply
    again = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{old['id']}/regenerate")
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_latest"
    on_user = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{user['id']}/regenerate")
    assert on_user.status_code == 409


async def test_edit_last_message_resends_and_keeps_history(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    await ann.say(conversation["id"], "First question", stream="false")
    fake_llm.enqueue(["Answer", " one"])
    await ann.say(conversation["id"], "Second questoin", stream="false")
    _first_user, _first_reply, user, reply = await messages_of(ann, conversation["id"])

    fake_llm.enqueue(["Answer", " two"])
    response = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{user['id']}/edit",
        json={"text": "Second question"}, params={"stream": "false"})

    assert response.status_code == 201, response.text
    shown = await messages_of(ann, conversation["id"])
    assert [m["text"] for m in shown] == ["First question", "Hello there.", "Second question",
                                          "Answer two"]
    assert shown[2]["replaces_message_id"] == user["id"]
    for old in (user, reply):
        stored = await ctx.db.messages.find_one({"_id": old["id"]})
        assert stored["superseded_by"] == shown[2]["id"]
    sent = [m.content for m in fake_llm.history[-1]["messages"]]
    assert sent[-3:] == ["First question", "Hello there.", "Second question"]
    assert "Second questoin" not in sent

    refused = await ann.send(  # the replaced version is not shown: it cannot be edited
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{user['id']}/edit",
        json={"text": "Rewrite history"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_editable"


async def test_a_blocked_edit_is_stored_blocked_and_not_sent(ann, fake_llm):
    text = "FORBIDDEN edit"
    conversation = await ann.conversation((await ann.persona())["_id"])
    await ann.say(conversation["id"], "Fine question", stream="false")
    user, _ = await messages_of(ann, conversation["id"])
    response = await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{user['id']}/edit",
        json={"text": text})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "message_blocked"
    shown = await messages_of(ann, conversation["id"])
    assert [(m["text"], m["status"]) for m in shown] == [(text, "blocked")]
    assert len(fake_llm.history) == 1
    assert await ann.balance() == 98


async def test_a_trial_visitor_chats_with_a_public_persona_on_trial_credits(app, bob, ctx,
                                                                            fake_llm):
    from tests.chat.conftest import new_client

    shared = await bob.persona(name="Shared", visibility="public", share_id="s-trial")
    async with new_client(app) as visitor:
        await visitor.get("/")
        started = await visitor.post("/api/v1/auth/trial")
        assert started.status_code == 201
        credits = started.json()["user"]["credits"]
        headers = {"X-CSRF-Token": visitor.cookies["csrf_token"]}
        created = await visitor.post("/api/v1/conversations", headers=headers,
                                     json={"persona_id": shared["_id"]})
        assert created.status_code == 201
        conversation_id = created.json()["conversation"]["id"]
        sent = await visitor.post(f"/api/v1/conversations/{conversation_id}/messages",
                                  headers=headers, json={"text": "Hi"},
                                  params={"stream": "false"})
        assert sent.status_code == 201, sent.text
        assert sent.json()["balance"] == credits - 2


async def test_deleting_a_message_removes_it_and_its_earlier_versions(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona())["_id"])
    fake_llm.enqueue(["First", " answer"])
    await ann.say(conversation["id"], "Question", stream="false")
    _user, old = await messages_of(ann, conversation["id"])
    fake_llm.enqueue(["Second", " answer"])
    await ann.send(
        "POST", f"/api/v1/conversations/{conversation['id']}/messages/{old['id']}/regenerate")
    user, latest = await messages_of(ann, conversation["id"])
    seq = (await ctx.db.messages.find_one({"_id": latest["id"]}))["seq"]
    await ctx.db.conversations.update_one(
        {"_id": conversation["id"]},
        {"$set": {"summary": "ann: Question", "summary_upto_seq": seq}})

    superseded = await ann.send(
        "DELETE", f"/api/v1/conversations/{conversation['id']}/messages/{old['id']}")
    assert superseded.status_code == 404
    response = await ann.send(
        "DELETE", f"/api/v1/conversations/{conversation['id']}/messages/{latest['id']}")

    assert response.status_code == 204
    assert [m["id"] for m in await messages_of(ann, conversation["id"])] == [user["id"]]
    for gone in (old, latest):
        assert await ctx.db.messages.find_one({"_id": gone["id"]}) is None
    stored = await ctx.db.conversations.find_one({"_id": conversation["id"]})
    assert stored["summary"] is None and stored["summary_upto_seq"] == 0
    again = await ann.send(
        "DELETE", f"/api/v1/conversations/{conversation['id']}/messages/{latest['id']}")
    assert again.status_code == 404


async def test_a_message_cannot_be_deleted_while_a_reply_is_written(ann, fake_llm, ctx):
    from datetime import timedelta

    conversation = await ann.conversation((await ann.persona())["_id"])
    await ann.say(conversation["id"], "Question", stream="false")
    user, _reply = await messages_of(ann, conversation["id"])
    until = ctx.clock.now() + timedelta(minutes=1)
    await ctx.db.conversations.update_one(
        {"_id": conversation["id"]},
        {"$set": {"generating": {"message_id": "other", "until": until}}})
    response = await ann.send(
        "DELETE", f"/api/v1/conversations/{conversation['id']}/messages/{user['id']}")
    assert response.status_code == 409
    assert await ctx.db.messages.find_one({"_id": user["id"]}) is not None
