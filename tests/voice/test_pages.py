"""The voice parts of the pages: Play and the microphone in the chat, the voice call page, the
persona editor's voice card."""

from tests.voice.conftest import reply_message


async def test_chat_page_offers_play_microphone_and_a_call(ann, fake_llm):
    message = await reply_message(ann, fake_llm, ["Hello there."])
    page = await ann.client.get(f"/chat/{message['conversation_id']}")
    assert page.status_code == 200
    html = page.text
    assert 'data-action="play"' in html and "data-mic" in html and "data-speak-replies" in html
    assert f'/chat/{message["conversation_id"]}/call' in html
    assert "/static/js/voice-chat.js" in html
    assert html.count('data-action="play"') == 1  # on the persona's reply, not on "Hi!"


async def test_call_page_is_the_owners_only(ann, bob, fake_llm):
    message = await reply_message(ann, fake_llm, ["Hello there."])
    path = f"/chat/{message['conversation_id']}/call"
    page = await ann.client.get(path)
    assert page.status_code == 200
    assert "Voice call with Ada" in page.text and "data-call-state" in page.text
    assert "espeak-ng" in page.text  # the voice it will hear is named
    assert (await bob.client.get(path)).status_code == 404
    await ann.send("POST", "/api/v1/auth/logout")
    assert (await ann.client.get(path)).status_code in (303, 307)


async def test_persona_editor_has_the_voice_card_with_the_offline_note(ann):
    persona = await ann.persona(voice={"voice_id": "local:espeak-fr-f", "rate": 1.5})
    page = await ann.client.get(f"/personas/{persona['_id']}/edit")
    assert page.status_code == 200
    assert 'data-voice-id="local:espeak-fr-f"' in page.text
    assert "No voice is cloned on this server" in page.text
    assert "/static/js/voice-settings.js" in page.text


async def test_clips_page_lists_only_my_clips_with_keep_and_delete(ann, bob, fake_llm):
    empty = await ann.client.get("/clips")
    assert empty.status_code == 200 and "No clips yet" in empty.text
    message = await reply_message(ann, fake_llm, ["Hello there."])
    clip = (await ann.send("POST", f"/api/v1/messages/{message['id']}/speech")).json()["clip"]
    page = await ann.client.get("/clips")
    assert f'src="{clip["url"]}"' in page.text and "Hello there." in page.text
    assert f'data-api="/api/v1/clips/{clip["id"]}" data-method="PATCH"' in page.text
    assert clip["url"] not in (await bob.client.get("/clips")).text
    kept = await ann.send("PATCH", f"/api/v1/clips/{clip['id']}", json={"saved": "true"})
    assert kept.json()["clip"]["saved"] is True  # what the page's form sends
    assert "Stop keeping" in (await ann.client.get("/clips")).text
