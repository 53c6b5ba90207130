"""Chat pages: list, conversation, the tail fragment, and starting a chat from a form."""

import re

from tests.chat.conftest import new_client, parse_sse

HTML = {"Accept": "text/html"}


async def test_signed_out_visitors_are_sent_to_log_in(client, fake_llm):
    for path in ("/chat", "/chat/abc"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


async def test_new_chat_page_offers_sign_up_login_or_trial_to_visitors(app, bob):
    public = await bob.persona(name="Open Book", visibility="public", share_id="open1")
    private = await bob.persona(name="Hidden Diary")
    async with new_client(app) as visitor:
        page = await visitor.get(f"/chat/new?persona={public['_id']}", headers=HTML)
        assert page.status_code == 200
        assert "Open Book" in page.text and "/api/v1/auth/trial" in page.text
        assert "/signup?next=%2Fchat%2Fnew%3Fpersona%3D" in page.text
        hidden = await visitor.get(f"/chat/new?persona={private['_id']}", headers=HTML)
        assert hidden.status_code == 200 and "Hidden Diary" not in hidden.text


async def test_start_a_chat_with_the_form_then_see_it_listed(ann, fake_llm):
    persona = await ann.persona(name="Ada", greeting="Well met, traveller.")
    page = await ann.client.get(f"/chat/new?persona={persona['_id']}", headers=HTML)
    assert page.status_code == 200 and 'action="/chat/new"' in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    without_token = await ann.client.post("/chat/new", data={"persona_id": persona["_id"]})
    assert without_token.status_code == 403
    started = await ann.client.post("/chat/new", data={"persona_id": persona["_id"],
                                                       "csrf_token": token})
    assert started.status_code == 303
    location = started.headers["location"]
    assert re.fullmatch(r"/chat/[0-9a-f]{24}", location)

    view = await ann.client.get(location, headers=HTML)
    assert view.status_code == 200
    assert "Well met, traveller." in view.text  # the greeting, in the empty state
    assert "100 credits" in view.text
    assert 'src="/static/js/chat.js' in view.text
    listed = await ann.client.get("/chat", headers=HTML)
    assert location in listed.text and "Ada" in listed.text


async def test_transcript_shows_safe_html_moods_and_statuses(ann, fake_llm, ctx):
    persona = await ann.persona(name="Ada")
    conversation = await ann.conversation(persona["_id"])
    fake_llm.enqueue(["**Hi** <script>alert(1)</script> [x](javascript:alert(1))"])
    await ann.say(conversation["id"], "<b>Hello</b> & welcome", stream="false")
    fake_llm.enqueue(["Half", " a", " reply"], fail_after=1)
    await ann.say(conversation["id"], "Next", stream="false")
    await ctx.mood_backlog.wait_idle()

    page = await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)

    assert page.status_code == 200
    assert "<strong>Hi</strong>" in page.text
    assert "<script>alert" not in page.text and 'href="javascript' not in page.text
    assert "&lt;b&gt;Hello&lt;/b&gt; &amp; welcome" in page.text
    assert 'class="badge mood' in page.text
    assert "Failed" in page.text and "Retry" in page.text
    assert page.text.count('data-action="edit"') == 2  # each message sent can be edited
    assert page.text.count('data-action="regenerate"') == 1

    tail = await ann.client.get(f"/chat/{conversation['id']}/tail?count=2", headers=HTML)
    assert tail.status_code == 200
    assert tail.text.count("data-message-id=") == 2 and "Half" in tail.text


async def test_the_stream_names_its_reply_for_the_stop_button(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona())["_id"])
    response = await ann.say(conversation["id"], "Hello")
    assert response.headers["x-message-id"] == parse_sse(response.text)[-1][1]["message_id"]


async def test_a_neutral_mood_gets_the_neutral_badge_whatever_its_blended_valence(ann, ctx,
                                                                                fake_llm):
    conversation = await ann.conversation((await ann.persona(name="Ada"))["_id"])
    fake_llm.enqueue(["The meeting is at three."])
    await ann.say(conversation["id"], "When is it?", stream="false")
    await ctx.db["messages"].update_many({"conversation_id": conversation["id"]},
                                         {"$set": {"mood": {"label": "neutral",
                                                            "valence": -0.3}}})
    page = (await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)).text
    assert 'class="badge mood mood-neutral"' in page
    assert "mood-negative" not in page and "mood-frustrated" not in page


def test_every_mood_label_has_its_own_badge_style():
    from clonechats.chat.mood import LABELS
    from clonechats.web.templates import STATIC_DIR, TEMPLATE_DIR

    styles = (STATIC_DIR / "css" / "chat.css").read_text()
    parts = (TEMPLATE_DIR / "chat" / "_parts.html").read_text()
    rules = {label: re.search(rf"\.badge\.mood-{label} \{{([^}}]+)\}}", styles) for label in LABELS}
    assert all(rules.values()), [label for label, rule in rules.items() if not rule]
    assert len({rule.group(1) for rule in rules.values()}) == len(LABELS)
    assert all(f'"{label}"' in parts for label in LABELS)


async def test_user_messages_show_the_same_safe_markdown_as_replies(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona(name="Ada"))["_id"])
    fake_llm.enqueue(["Noted."])
    await ann.say(conversation["id"], "**bold** and `code`\n\n```\nx < 1\n```\n\n"
                  "<script>alert(1)</script> <img src=x onerror=alert(2)> "
                  "[x](javascript:alert(3))", stream="false")

    for path in (f"/chat/{conversation['id']}", f"/chat/{conversation['id']}/tail?count=2"):
        page = await ann.client.get(path, headers=HTML)
        assert page.status_code == 200
        user_part = page.text.split('data-role="user"', 1)[1].split('data-role="assistant"')[0]
        assert "<strong>bold</strong>" in user_part and "<code>code</code>" in user_part
        assert "<pre><code>x &lt; 1\n</code></pre>" in user_part
        assert "<script>alert" not in user_part and "<img" not in user_part
        assert 'href="javascript' not in user_part
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in user_part  # shown as text


async def test_a_cut_reply_shows_the_mark_and_continue_and_replies_offer_edit(ann, fake_llm):
    conversation = await ann.conversation((await ann.persona(name="Ada"))["_id"])
    fake_llm.enqueue(["Whole."])
    first = (await ann.say(conversation["id"], "One", stream="false")).json()["message"]
    await ann.send("PATCH", f"/api/v1/conversations/{conversation['id']}/messages/{first['id']}",
                   json={"text": "Whole, rewritten."})
    fake_llm.enqueue(["Half", " way"], finish_reason="length")
    cut = (await ann.say(conversation["id"], "Two", stream="false")).json()["message"]

    for path in (f"/chat/{conversation['id']}", f"/chat/{conversation['id']}/tail?count=2"):
        page = await ann.client.get(path, headers=HTML)
        assert page.status_code == 200
        assert "Cut at the length limit." in page.text
        assert page.text.count('data-action="continue"') == 1
    page = await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)
    assert page.text.count('data-action="edit-reply"') == 2
    assert page.text.count("data-edited") == 1 and "Whole, rewritten." in page.text

    fake_llm.enqueue([" there."])
    await ann.send("POST", f"/api/v1/conversations/{conversation['id']}/messages/{cut['id']}"
                           "/continue", params={"stream": "false"})
    page = await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)
    assert "Cut at the length limit." not in page.text and 'data-action="continue"' not in page.text
    assert "Half way there." in page.text
