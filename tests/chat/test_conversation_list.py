"""The list of chats: previews, pins, search over titles and messages, and one chat exported
as Markdown or JSON; all of it the owner's only."""

import json

from clonechats.chat import conversation_list

BASE = "/api/v1/conversations"


async def listed(member, **params) -> list[dict]:
    response = await member.client.get(BASE, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def chat_with(member, fake_llm, said: str, replied: str, title: str | None = None) -> str:
    conversation = await member.conversation((await member.persona(name="Ada"))["_id"])
    fake_llm.enqueue([replied])
    response = await member.say(conversation["id"], said, stream="false")
    assert response.status_code == 201, response.text
    if title is not None:
        renamed = await member.send("PATCH", f"{BASE}/{conversation['id']}", json={"title": title})
        assert renamed.status_code == 200, renamed.text
    return conversation["id"]


async def test_each_chat_is_listed_with_its_last_message(ann, fake_llm):
    empty = await ann.conversation((await ann.persona(name="Bo"))["_id"])
    talked = await chat_with(ann, fake_llm, "How are the bees?", "The bees\nare  busy today.")

    items = {item["id"]: item for item in await listed(ann)}
    assert items[empty["id"]]["preview"] is None and items[empty["id"]]["pinned"] is False
    preview = items[talked]["preview"]
    assert preview["role"] == "assistant" and preview["text"] == "The bees are busy today."
    assert items[talked]["match"] is None


async def test_a_long_last_message_is_shortened_in_the_preview(ann, fake_llm):
    talked = await chat_with(ann, fake_llm, "Tell me everything.", "word " * 100)
    (item,) = [i for i in await listed(ann) if i["id"] == talked]
    assert len(item["preview"]["text"]) == conversation_list.PREVIEW_CHARS
    assert item["preview"]["text"].endswith("…")


async def test_pinned_chats_are_listed_apart_and_unpinning_returns_them(ann, fake_llm):
    first = await chat_with(ann, fake_llm, "One", "Reply one")
    second = await chat_with(ann, fake_llm, "Two", "Reply two")

    pinned = await ann.send("PATCH", f"{BASE}/{first}", json={"pinned": True})
    assert pinned.status_code == 200 and pinned.json()["conversation"]["pinned"] is True
    assert [i["id"] for i in await listed(ann, pinned="true")] == [first]
    assert [i["id"] for i in await listed(ann, pinned="false")] == [second]
    assert {i["id"] for i in await listed(ann)} == {first, second}

    unpinned = await ann.send("PATCH", f"{BASE}/{first}", json={"pinned": False})
    assert unpinned.json()["conversation"]["pinned"] is False
    assert await listed(ann, pinned="true") == []
    # pinning does not rename, and renaming does not pin
    assert unpinned.json()["conversation"]["title"] == "One"


async def test_pins_stop_at_the_limit_and_the_refusal_changes_nothing(ann, ctx, fake_llm):
    persona = await ann.persona()
    ids = [(await ann.conversation(persona["_id"]))["id"]
           for _ in range(conversation_list.PIN_MAX + 1)]
    for conversation_id in ids[:-1]:
        assert (await ann.send("PATCH", f"{BASE}/{conversation_id}",
                               json={"pinned": True})).status_code == 200
    refused = await ann.send("PATCH", f"{BASE}/{ids[-1]}", json={"pinned": True, "title": "X"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "pin_limit"
    last = await ctx.db.conversations.find_one({"_id": ids[-1]})
    assert not last.get("pinned") and last["title"] != "X"
    # pinning one that is already pinned is not a new pin
    again = await ann.send("PATCH", f"{BASE}/{ids[0]}", json={"pinned": True})
    assert again.status_code == 200


async def test_an_update_must_change_something_and_be_well_formed(ann):
    conversation = await ann.conversation((await ann.persona())["_id"])
    path = f"{BASE}/{conversation['id']}"
    nothing = await ann.send("PATCH", path, json={})
    assert nothing.status_code == 422 and nothing.json()["error"]["code"] == "nothing_to_change"
    for body in ({"pinned": "maybe"}, {"pinned": True, "colour": "red"}, {"title": "  "}):
        assert (await ann.send("PATCH", path, json=body)).status_code == 422, body


async def test_search_finds_chats_by_title_or_by_any_shown_message(ann, fake_llm):
    by_title = await chat_with(ann, fake_llm, "Hello", "Hi", title="Garden plans")
    by_user_text = await chat_with(ann, fake_llm, "My tomatoes are RED", "Lovely.")
    by_reply = await chat_with(ann, fake_llm, "What grows in shade?", "Ferns and tomatoes do not.")
    await chat_with(ann, fake_llm, "Cars", "Wheels.")

    found = {i["id"]: i for i in await listed(ann, q="TOMATO")}
    assert set(found) == {by_user_text, by_reply}
    assert found[by_user_text]["match"]["text"] == "My tomatoes are RED"
    assert found[by_user_text]["match"]["role"] == "user"
    assert found[by_reply]["match"]["role"] == "assistant"
    assert [i["id"] for i in await listed(ann, q="garden")] == [by_title]
    assert await listed(ann, q="nowhere to be found") == []
    # what a user types is matched as text, never as a pattern
    assert await listed(ann, q=".*") == []
    assert len(await listed(ann, q="   ")) == 4


async def test_search_skips_replaced_replies(ann, fake_llm):
    conversation = await chat_with(ann, fake_llm, "Name a colour", "Vermilion.")
    (reply,) = [m for m in (await ann.client.get(f"{BASE}/{conversation}/messages")).json()[
        "items"] if m["role"] == "assistant"]
    fake_llm.enqueue(["Blue."])
    regenerated = await ann.send("POST", f"{BASE}/{conversation}/messages/{reply['id']}/regenerate",
                                 params={"stream": "false"})
    assert regenerated.status_code == 201, regenerated.text
    assert await listed(ann, q="vermilion") == []
    assert [i["id"] for i in await listed(ann, q="blue")] == [conversation]


async def test_a_search_that_is_too_long_is_refused(ann):
    too_long = await ann.client.get(BASE, params={"q": "x" * (conversation_list.QUERY_MAX + 1)})
    assert too_long.status_code == 422
    assert too_long.json()["error"]["code"] == "invalid_query"


async def test_search_and_pins_are_the_owners_only(ann, bob, fake_llm):
    mine = await chat_with(ann, fake_llm, "A secret about apricots", "Safe with me.")
    assert await listed(bob, q="apricots") == []
    stolen = await bob.send("PATCH", f"{BASE}/{mine}", json={"pinned": True})
    assert stolen.status_code == 404
    export = await bob.client.get(f"{BASE}/{mine}/export")
    assert export.status_code == 404 and "apricots" not in export.text
    assert (await listed(ann, pinned="true")) == []


async def test_one_chat_exports_as_markdown(ann, fake_llm):
    conversation = await chat_with(ann, fake_llm, "Is **this** kept?", "It is kept.",
                                   title="Keeping things / tests")
    response = await ann.client.get(f"{BASE}/{conversation}/export", params={"format": "markdown"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="chat-keeping-things-tests-')
    assert disposition.endswith('.md"')
    text = response.text
    assert text.startswith("# Keeping things / tests\n")
    assert "A chat with Ada" in text and "2 messages" in text
    assert text.index("**You**") < text.index("Is **this** kept?") < text.index(
        "**Ada**") < text.index("It is kept.")


async def test_one_chat_exports_as_json_in_the_apis_shapes(ann, fake_llm):
    conversation = await chat_with(ann, fake_llm, "Remember the lighthouse", "I will.")
    response = await ann.client.get(f"{BASE}/{conversation}/export", params={"format": "json"})
    assert response.status_code == 200
    assert response.headers["content-disposition"].endswith('.json"')
    document = json.loads(response.text)
    assert document["conversation"]["id"] == conversation
    messages = (await ann.client.get(f"{BASE}/{conversation}/messages")).json()["items"]
    assert document["messages"] == sorted(messages, key=lambda m: m["created_at"])
    assert [m["text"] for m in document["messages"]] == ["Remember the lighthouse", "I will."]


async def test_an_export_leaves_out_what_the_chat_no_longer_shows(ann, ctx, fake_llm):
    conversation = await chat_with(ann, fake_llm, "Say something", "First draft.")
    reply = await ctx.db.messages.find_one({"conversation_id": conversation,
                                            "role": "assistant"})
    fake_llm.enqueue(["Second draft."])
    await ann.send("POST", f"{BASE}/{conversation}/messages/{reply['_id']}/regenerate",
                   params={"stream": "false"})
    await ctx.db.messages.update_one({"_id": reply["_id"]},
                                     {"$set": {"withheld_text": "never shown"}})
    for fmt in ("markdown", "json"):
        body = (await ann.client.get(f"{BASE}/{conversation}/export",
                                     params={"format": fmt})).text
        assert "Second draft." in body
        assert "First draft." not in body and "never shown" not in body


async def test_an_unknown_export_format_is_refused(ann):
    conversation = await ann.conversation((await ann.persona())["_id"])
    response = await ann.client.get(f"{BASE}/{conversation['id']}/export",
                                    params={"format": "pdf"})
    assert response.status_code == 422


HTML = {"Accept": "text/html"}


async def test_the_chats_page_shows_pins_previews_and_search_results(ann, fake_llm):
    pinned = await chat_with(ann, fake_llm, "Plant <b>roses</b>", "Roses need sun.")
    other = await chat_with(ann, fake_llm, "Bake bread", "Knead it well.")
    await ann.send("PATCH", f"{BASE}/{pinned}", json={"pinned": True})

    page = (await ann.client.get("/chat", headers=HTML)).text
    assert page.index("Pinned") < page.index(f'href="/chat/{pinned}"') < page.index(
        "Recent") < page.index(f'href="/chat/{other}"')
    assert "Knead it well." in page and "Roses need sun." in page
    assert "Unpin" in page and f"/api/v1/conversations/{other}/export?format=markdown" in page

    found = (await ann.client.get("/chat", params={"q": "plant"}, headers=HTML)).text
    assert f'href="/chat/{pinned}"' in found and f'href="/chat/{other}"' not in found
    assert "You: Plant &lt;b&gt;roses&lt;/b&gt;" in found  # the match, escaped
    nothing = (await ann.client.get("/chat", params={"q": "volcano"}, headers=HTML)).text
    assert "Nothing found" in nothing and "volcano" in nothing


async def test_the_chat_page_lists_the_other_chats_beside_it(ann, bob, fake_llm):
    here = await chat_with(ann, fake_llm, "Here", "Reply here", title="This chat")
    there = await chat_with(ann, fake_llm, "There", "Reply there", title="That chat")
    theirs = await chat_with(bob, fake_llm, "Bob's words", "Bob's reply", title="Bob's chat")
    page = (await ann.client.get(f"/chat/{here}", headers=HTML)).text
    sidebar = page[page.index("data-chat-sidebar"):page.index("</aside>")]
    assert f'href="/chat/{here}" aria-current="page"' in sidebar
    assert f'href="/chat/{there}"' in sidebar and "Reply there" in sidebar
    assert theirs not in page and "Bob&#39;s chat" not in page
