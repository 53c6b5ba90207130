"""Branches: editing an earlier message forks the chat there, each version of the message keeps
the chat that followed it, and switching shows that branch exactly as it was left."""

import asyncio

from clonechats.chat import repo
from clonechats.chat.pages import choices_for
from tests.chat.conftest import parse_sse

BASE = "/api/v1/conversations"


async def shown(ann, chat: str) -> list[str]:
    return [m["text"] for m in (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"]]


async def two_exchanges(ann, fake_llm) -> tuple[str, list[dict]]:
    """A chat of "One?" → "Reply one." and "Two?" → "Reply two.", and those four messages."""
    chat = (await ann.conversation((await ann.persona(name="Ada"))["_id"]))["id"]
    for question, answer in (("One?", "Reply one."), ("Two?", "Reply two.")):
        fake_llm.enqueue([answer])
        assert (await ann.say(chat, question, stream="false")).status_code == 201
    items = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"]
    return chat, items


async def edit(ann, chat: str, message_id: str, text: str):
    return await ann.send("POST", f"{BASE}/{chat}/messages/{message_id}/edit",
                          json={"text": text}, params={"stream": "false"})


async def test_editing_an_earlier_message_forks_the_chat_there(ann, fake_llm, ctx):
    chat, (one, reply_one, two, reply_two) = await two_exchanges(ann, fake_llm)
    fake_llm.enqueue(["Reply to the new one."])
    forked = await edit(ann, chat, one["id"], "One, rephrased?")
    assert forked.status_code == 201, forked.text
    assert await shown(ann, chat) == ["One, rephrased?", "Reply to the new one."]
    # the model saw the chat up to the fork, not the branch that was put away
    seen = [m.content for m in fake_llm.history[-1]["messages"]]
    assert seen[-1] == "One, rephrased?"
    assert not any(text in seen for text in ("One?", "Reply one.", "Two?", "Reply two."))
    for old in (one, reply_one, two, reply_two):  # kept, put away as one branch
        stored = await ctx.db.messages.find_one({"_id": old["id"]})
        assert stored["text"] == old["text"] and stored["hidden_with"] == one["id"]

    new_id = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"][0]["id"]
    versions = (await ann.client.get(f"{BASE}/{chat}/messages/{new_id}/alternatives")).json()
    assert [m["text"] for m in versions["items"]] == ["One?", "One, rephrased?"]
    assert versions["shown_id"] == new_id


async def test_switching_versions_shows_each_branch_as_it_was_left(ann, fake_llm):
    chat, (one, *_rest) = await two_exchanges(ann, fake_llm)
    fake_llm.enqueue(["Other reply."])
    new_id = (await edit(ann, chat, one["id"], "Other one?")).json()["message"]["id"]
    new_user = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"][0]["id"]
    assert new_id != new_user

    back = await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert back.status_code == 200 and back.json()["message"]["text"] == "One?"
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two."]
    again = await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert again.status_code == 200  # choosing the shown version changes nothing
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two."]

    # the chat goes on in the branch shown, and the next reply sees only that branch
    fake_llm.enqueue(["Reply three."])
    await ann.say(chat, "Three?", stream="false")
    seen = [m.content for m in fake_llm.history[-1]["messages"]]
    assert "Two?" in seen and "Other one?" not in seen and "Other reply." not in seen

    forward = await ann.send("POST", f"{BASE}/{chat}/messages/{new_user}/choose")
    assert forward.status_code == 200
    assert await shown(ann, chat) == ["Other one?", "Other reply."]
    await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two.", "Three?",
                                      "Reply three."]


async def test_nested_forks_and_chosen_replies_survive_a_switch(ann, fake_llm):
    chat, (one, _reply_one, two, reply_two) = await two_exchanges(ann, fake_llm)
    fake_llm.enqueue(["Reply two, again."])
    await ann.send("POST", f"{BASE}/{chat}/messages/{reply_two['id']}/regenerate",
                   params={"stream": "false"})
    await ann.send("POST", f"{BASE}/{chat}/messages/{reply_two['id']}/choose")  # the first
    fake_llm.enqueue(["Reply to two-b."])
    await edit(ann, chat, two["id"], "Two-b?")  # a fork inside the first branch
    inner_new = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"][2]["id"]
    fake_llm.enqueue(["Top reply."])
    await edit(ann, chat, one["id"], "Top?")  # and one above it
    top_new = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"][0]["id"]
    assert await shown(ann, chat) == ["Top?", "Top reply."]

    # the inner fork sits in a branch put away: its versions cannot be switched from here
    hidden = await ann.send("POST", f"{BASE}/{chat}/messages/{two['id']}/choose")
    assert hidden.status_code == 409 and hidden.json()["error"]["code"] == "not_choosable"
    assert await shown(ann, chat) == ["Top?", "Top reply."]

    await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two-b?", "Reply to two-b."]
    await ann.send("POST", f"{BASE}/{chat}/messages/{two['id']}/choose")
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two."]
    await ann.send("POST", f"{BASE}/{chat}/messages/{top_new}/choose")
    await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two."]
    await ann.send("POST", f"{BASE}/{chat}/messages/{inner_new}/choose")
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two-b?", "Reply to two-b."]


async def test_the_chat_page_shows_a_version_control_on_forked_messages(ann, fake_llm, ctx):
    chat, (one, *_rest) = await two_exchanges(ann, fake_llm)
    fake_llm.enqueue(["Other reply."])
    await edit(ann, chat, one["id"], "Other one?")
    messages = await repo.visible_after(ctx.db, chat, after_seq=0)
    choices = await choices_for(ctx, messages)
    assert choices == {messages[0]["_id"]: {"index": 2, "count": 2, "previous": one["id"],
                                            "next": None}}
    page = (await ann.client.get(f"/chat/{chat}")).text
    assert "data-versions" in page and "Previous version" in page and "2 / 2" in page
    # every message sent can be edited, not only the last
    await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    page = (await ann.client.get(f"/chat/{chat}")).text
    assert page.count('data-action="edit"') == 2 and "1 / 2" in page


async def test_a_message_put_away_or_not_sent_by_the_user_cannot_be_edited(ann, bob, fake_llm):
    chat, (one, reply_one, *_rest) = await two_exchanges(ann, fake_llm)
    await edit(ann, chat, one["id"], "New one?")
    stale = await edit(ann, chat, one["id"], "Edit the old version")
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "not_editable"
    on_reply = await edit(ann, chat, reply_one["id"], "Not mine")
    assert on_reply.status_code == 409
    other = await bob.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert other.status_code == 404
    theirs = await bob.send("POST", f"{BASE}/{chat}/messages/{one['id']}/edit",
                            json={"text": "x"}, params={"stream": "false"})
    assert theirs.status_code == 404
    assert await shown(ann, chat) == ["New one?", "Hello there."]


async def test_a_blocked_earlier_edit_forks_and_the_old_branch_comes_back(ann, fake_llm):
    chat, (one, *_rest) = await two_exchanges(ann, fake_llm)
    blocked = await edit(ann, chat, one["id"], "FORBIDDEN rewrite")
    assert blocked.status_code == 422
    assert await shown(ann, chat) == ["FORBIDDEN rewrite"]
    back = await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert back.status_code == 200
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two."]


async def test_switching_waits_for_a_reply_being_written(ann, fake_llm):
    chat, (one, *_rest) = await two_exchanges(ann, fake_llm)
    await edit(ann, chat, one["id"], "Other one?")
    slow = fake_llm.enqueue(["Still ", "writing."], pause_after=1)
    streaming = asyncio.create_task(ann.say(chat, "Go on"))
    await asyncio.wait_for(slow.paused.wait(), 10)
    busy = await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "reply_in_progress"
    slow.resume.set()
    assert parse_sse((await streaming).text)[-1][0] == "done"
    assert (await shown(ann, chat))[0] == "Other one?"


async def test_a_switch_cut_short_is_completed_by_switching_again(ann, fake_llm, ctx):
    chat, (one, *_rest) = await two_exchanges(ann, fake_llm)
    await edit(ann, chat, one["id"], "Other one?")
    new_user = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"][0]["id"]
    # the process died between putting the shown branch away and showing the chosen one
    await repo.hide_branch(ctx.db, chat, from_seq=1, by=one["id"], branch=new_user)
    assert await shown(ann, chat) == []
    repaired = await ann.send("POST", f"{BASE}/{chat}/messages/{one['id']}/choose")
    assert repaired.status_code == 200
    assert await shown(ann, chat) == ["One?", "Reply one.", "Two?", "Reply two."]


async def test_a_summary_that_told_of_the_other_branch_is_dropped(ann, fake_llm, ctx):
    chat, (one, *_rest) = await two_exchanges(ann, fake_llm)
    await ctx.db.conversations.update_one({"_id": chat}, {"$set": {
        "summary": "They talked about Two.", "summary_upto_seq": 3}})
    fake_llm.enqueue(["Fresh."])
    await edit(ann, chat, one["id"], "Other one?")
    seen = " ".join(m.content for m in fake_llm.history[-1]["messages"])
    assert "They talked about Two." not in seen
    assert (await ctx.db.conversations.find_one({"_id": chat}))["summary"] is None


async def test_deleting_a_forked_message_removes_its_versions_and_their_branches(ann, fake_llm,
                                                                                 ctx):
    chat, (one, reply_one, two, reply_two) = await two_exchanges(ann, fake_llm)
    fake_llm.enqueue(["Other reply."])
    await edit(ann, chat, one["id"], "Other one?")
    new_user, _reply = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"]
    deleted = await ann.send("DELETE", f"{BASE}/{chat}/messages/{new_user['id']}")
    assert deleted.status_code == 204
    assert await shown(ann, chat) == ["Other reply."]
    for gone in (one, reply_one, two, reply_two, new_user):
        assert await ctx.db.messages.find_one({"_id": gone["id"]}) is None
