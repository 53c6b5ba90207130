"""Chat's part of a person's data: exported whole, deleted whole, others' chats untouched."""

from clonechats.privacy.registry import holders


def chat_holder():
    return next(holder for holder in holders() if holder.name == "conversations")


async def test_export_has_every_conversation_and_message(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona(name="Ada"))["_id"])
    await ann.say(conversation["id"], "Remember this", stream="false")
    reply = (await ann.client.get(
        f"/api/v1/conversations/{conversation['id']}/messages")).json()["items"][1]
    await ann.send("POST",
                   f"/api/v1/conversations/{conversation['id']}/messages/{reply['id']}/regenerate",
                   params={"stream": "false"})

    exported = await chat_holder().export(ctx, ann.id)

    [item] = exported["conversations"]
    assert item["id"] == conversation["id"] and item["persona_name"] == "Ada"
    assert [m["text"] for m in item["messages"]] == ["Remember this", "Hello there.",
                                                     "Hello there."]
    assert item["messages"][1]["superseded_by"] == item["messages"][2]["id"]
    assert isinstance(item["messages"][0]["created_at"], str)


async def test_export_says_which_replies_were_cut_or_edited(ann, fake_llm, ctx):
    conversation = await ann.conversation((await ann.persona(name="Ada"))["_id"])
    fake_llm.enqueue(["Cut", " short"], finish_reason="length")
    reply = (await ann.say(conversation["id"], "Talk", stream="false")).json()["message"]
    await ann.send("PATCH", f"/api/v1/conversations/{conversation['id']}/messages/{reply['id']}",
                   json={"text": "Rewritten by me."})

    exported = await chat_holder().export(ctx, ann.id)

    [_user, stored] = exported["conversations"][0]["messages"]
    assert (stored["text"], stored["finish_reason"]) == ("Rewritten by me.", "length")
    assert isinstance(stored["edited_at"], str)


async def test_delete_removes_the_persons_chats_only(ann, bob, fake_llm, ctx):
    shared = await bob.persona(name="Shared", visibility="public", share_id="s1")
    mine = await ann.conversation(shared["_id"])
    theirs = await bob.conversation(shared["_id"])
    await ann.say(mine["id"], "Mine", stream="false")
    await bob.say(theirs["id"], "Theirs", stream="false")

    removed = await chat_holder().delete(ctx, ann.id)

    assert removed == 3
    assert await ctx.db.conversations.count_documents({"owner_id": ann.id}) == 0
    assert await ctx.db.messages.count_documents({"owner_id": ann.id}) == 0
    assert await ctx.db.messages.count_documents({"owner_id": bob.id}) == 2
    assert (await chat_holder().export(ctx, ann.id)) == {"conversations": []}
