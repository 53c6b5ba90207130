"""Alternative replies: regenerating keeps the earlier replies, the owner chooses which one the
chat shows, and the chosen one is what the next reply sees."""

import asyncio

from clonechats.chat.pages import choices_for
from tests.chat.conftest import parse_sse

BASE = "/api/v1/conversations"


async def three_replies(ann, fake_llm) -> tuple[str, list[str]]:
    """A chat whose last message was answered three times ("One.", "Two.", "Three.")."""
    chat = (await ann.conversation((await ann.persona(name="Ada"))["_id"]))["id"]
    fake_llm.enqueue(["One."])
    first = await ann.say(chat, "Tell me a number", stream="false")
    ids = [first.json()["message"]["id"]]
    for text in ("Two.", "Three."):
        fake_llm.enqueue([text])
        again = await ann.send("POST", f"{BASE}/{chat}/messages/{ids[-1]}/regenerate",
                               params={"stream": "false"})
        assert again.status_code == 201, again.text
        ids.append(again.json()["message"]["id"])
    return chat, ids


async def shown_texts(ann, chat: str) -> list[str]:
    return [m["text"] for m in (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"]]


async def test_regenerated_replies_are_kept_as_alternatives(ann, fake_llm):
    chat, ids = await three_replies(ann, fake_llm)
    listed = await ann.client.get(f"{BASE}/{chat}/messages/{ids[0]}/alternatives")
    assert listed.status_code == 200
    assert [m["text"] for m in listed.json()["items"]] == ["One.", "Two.", "Three."]
    assert listed.json()["shown_id"] == ids[2]
    assert await shown_texts(ann, chat) == ["Tell me a number", "Three."]


async def test_the_chosen_reply_is_shown_and_is_what_the_next_reply_sees(ann, fake_llm):
    chat, ids = await three_replies(ann, fake_llm)
    chosen = await ann.send("POST", f"{BASE}/{chat}/messages/{ids[0]}/choose")
    assert chosen.status_code == 200 and chosen.json()["message"]["text"] == "One."
    assert await shown_texts(ann, chat) == ["Tell me a number", "One."]

    fake_llm.enqueue(["Next."])
    await ann.say(chat, "And another?", stream="false")
    seen = [m.content for m in fake_llm.history[-1]["messages"]]
    assert any("One." in text for text in seen)
    assert not any("Two." in text or "Three." in text for text in seen)
    # an older exchange's replies can no longer be switched
    late = await ann.send("POST", f"{BASE}/{chat}/messages/{ids[1]}/choose")
    assert late.status_code == 409 and late.json()["error"]["code"] == "not_choosable"
    assert "One." in await shown_texts(ann, chat)


async def test_a_chosen_reply_can_be_regenerated_again(ann, fake_llm):
    chat, ids = await three_replies(ann, fake_llm)
    await ann.send("POST", f"{BASE}/{chat}/messages/{ids[1]}/choose")
    fake_llm.enqueue(["Four."])
    again = await ann.send("POST", f"{BASE}/{chat}/messages/{ids[1]}/regenerate",
                           params={"stream": "false"})
    assert again.status_code == 201, again.text
    listed = await ann.client.get(f"{BASE}/{chat}/messages/{ids[1]}/alternatives")
    assert [m["text"] for m in listed.json()["items"]] == ["One.", "Two.", "Three.", "Four."]
    assert await shown_texts(ann, chat) == ["Tell me a number", "Four."]


async def test_choosing_waits_for_a_reply_being_written(ann, fake_llm):
    chat, ids = await three_replies(ann, fake_llm)
    slow = fake_llm.enqueue(["Still ", "writing."], pause_after=1)
    streaming = asyncio.create_task(ann.say(chat, "Go on"))
    await asyncio.wait_for(slow.paused.wait(), 10)
    busy = await ann.send("POST", f"{BASE}/{chat}/messages/{ids[0]}/choose")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "reply_in_progress"
    slow.resume.set()
    events = parse_sse((await streaming).text)
    assert events[-1][0] == "done"


async def test_what_cannot_be_chosen_is_refused_and_changes_nothing(ann, bob, fake_llm):
    chat, ids = await three_replies(ann, fake_llm)
    user_message = (await ann.client.get(f"{BASE}/{chat}/messages")).json()["items"][0]
    as_user = await ann.send("POST", f"{BASE}/{chat}/messages/{user_message['id']}/choose")
    assert as_user.status_code == 409
    stolen = await bob.send("POST", f"{BASE}/{chat}/messages/{ids[0]}/choose")
    assert stolen.status_code == 404
    peek = await bob.client.get(f"{BASE}/{chat}/messages/{ids[0]}/alternatives")
    assert peek.status_code == 404 and "One." not in peek.text
    unknown = await ann.send("POST", f"{BASE}/{chat}/messages/nope/choose")
    assert unknown.status_code == 404
    assert await shown_texts(ann, chat) == ["Tell me a number", "Three."]


async def test_the_page_offers_the_previous_and_next_replies(ann, ctx, fake_llm):
    chat, ids = await three_replies(ann, fake_llm)
    await ann.send("POST", f"{BASE}/{chat}/messages/{ids[1]}/choose")
    messages = await ctx.db.messages.find({"conversation_id": chat, "superseded_by": None}).sort(
        "seq", 1).to_list()
    assert await choices_for(ctx, messages) == {
        ids[1]: {"index": 2, "count": 3, "previous": ids[0], "next": ids[2]}}
    page = (await ann.client.get(f"/chat/{chat}", headers={"Accept": "text/html"})).text
    assert f'data-choose="{ids[0]}" aria-label="Previous reply"' in page
    assert f'data-choose="{ids[2]}" aria-label="Next reply"' in page and "2 / 3" in page
    tail = (await ann.client.get(f"/chat/{chat}/tail", headers={"Accept": "text/html"})).text
    assert "2 / 3" in tail
