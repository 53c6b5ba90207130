"""Translation chat pages: the start form's option, and a transcript showing both sides."""

import re

import pytest

from clonechats.chat.translation.form import preferred_languages
from clonechats.providers.translation.registry import TranslationRegistry
from tests.chat.test_translation_chat import SPANISH, Switchable, translation_chat

HTML = {"Accept": "text/html"}


@pytest.fixture
def switchable(ctx) -> Switchable:
    translator = Switchable()
    ctx.translation = TranslationRegistry([translator])
    return translator


def test_accept_language_orders_by_quality() -> None:
    assert preferred_languages("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5") == [
        "fr", "en", "de"]
    assert preferred_languages("en;q=0.2, es-MX") == ["es", "en"]
    assert preferred_languages("") == []


async def test_the_start_form_offers_translation_with_the_languages_served(ann, fake_llm,
                                                                          switchable):
    persona = await ann.persona(name="Ada")
    page = await ann.client.get(f"/chat/new?persona={persona['_id']}",
                                headers={**HTML, "Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})
    assert 'name="translation_mode"' in page.text
    assert '<option value="es" selected>Español (Spanish)</option>' in page.text
    assert '<option value="en" selected>English</option>' in page.text
    assert 'value="fr"' not in page.text  # fr→en only: not served both ways
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    started = await ann.client.post("/chat/new", data={
        "persona_id": persona["_id"], "csrf_token": token, "translation_mode": "on",
        "user_language": "es", "persona_language": "en"})
    assert started.status_code == 303
    view = await ann.client.get(started.headers["location"], headers=HTML)
    assert "you write and read Spanish; Ada reads and writes English" in view.text
    assert 'src="/static/js/chat-translation.js' in view.text
    assert "Spanish ⇄ English" in (await ann.client.get("/chat", headers=HTML)).text

    refused = await ann.client.post("/chat/new", data={
        "persona_id": persona["_id"], "csrf_token": token, "translation_mode": "on",
        "user_language": "es", "persona_language": "hi"}, headers=HTML)
    assert refused.status_code == 422 and "Hindi" in refused.text
    plain = await ann.client.post("/chat/new", data={"persona_id": persona["_id"],
                                                     "csrf_token": token})
    view = await ann.client.get(plain.headers["location"], headers=HTML)
    assert "chat-translation.js" not in view.text and "data-showing" not in view.text


async def test_the_transcript_carries_both_sides_showing_the_readers_language(ann, fake_llm,
                                                                             switchable):
    conversation = await translation_chat(ann, (await ann.persona(name="Ada"))["_id"])
    fake_llm.enqueue(["Hello **friend**."])
    await ann.say(conversation["id"], SPANISH, stream="false")

    page = (await ann.client.get(f"/chat/{conversation['id']}", headers=HTML)).text

    user, reply = re.findall(r'<li class="message .*?</li>', page, flags=re.S)
    assert 'data-showing="original"' in user and SPANISH in user
    assert f"&lt;en&gt; {SPANISH}" in user and "Show translation" in user
    assert 'data-showing="translation"' in reply and "Show original" in reply
    assert "&lt;es&gt; Hello <strong>friend</strong>." in reply  # rendered like the original
    assert "Translated from English into Spanish" in reply
    tail = (await ann.client.get(f"/chat/{conversation['id']}/tail", headers=HTML)).text
    assert tail.count("data-translation-body") == 2


async def test_offline_the_start_form_offers_apertiums_languages(ann, fake_llm):
    persona = await ann.persona(name="Ada")
    page = await ann.client.get(f"/chat/new?persona={persona['_id']}", headers=HTML)
    assert page.status_code == 200
    if not (await ann.client.get("/api/v1/translation/languages")).json()["pairs"]:
        pytest.skip("no translator installed here")
    assert 'name="translation_mode"' in page.text
    assert re.findall(r'<option value="(\w+)"', page.text)[:3] == ["en", "es", "fr"]
