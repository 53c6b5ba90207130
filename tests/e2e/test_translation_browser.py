"""A translation chat in a real browser: a Spanish speaker starts one from the start page with
an English persona, chats with the real local model through Apertium, and switches each
message, then the whole conversation, between originals and translations (also on a phone)."""

import re

import pytest
from playwright.sync_api import expect

from tests.contracts.test_translation_providers import APERTIUM
from tests.e2e.conftest import PHONE, NewPage, message_box
from tests.e2e.test_chat_browser import (
    REPLY_LIMIT_MS,
    create_persona,
    new_member_with_trial_credits,
)

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not APERTIUM, reason="Apertium is not installed")]

SPANISH = "Hola, ¿puedes ayudarme a planear un viaje a Madrid?"


def test_switching_between_originals_and_translations(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True,
                       extra_http_headers={"Accept-Language": "es-ES,es;q=0.9"})
    browser = watched.page
    new_member_with_trial_credits(browser)
    persona_id = create_persona(browser)

    browser.goto(f"/chat/new?persona={persona_id}")
    browser.get_by_role("checkbox", name=re.compile("Translation chat")).check()
    expect(browser.get_by_label("Your language", exact=True)).to_have_value("es")
    expect(browser.get_by_label("Ada's language")).to_have_value("en")
    browser.get_by_role("button", name="Start the chat").click()
    expect(browser).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))
    expect(browser.get_by_text("you write and read Spanish")).to_be_visible()

    box = message_box(browser, "Ada")
    box.fill(SPANISH)
    box.press("Enter")
    transcript = browser.locator("[data-transcript]")
    reply = transcript.locator(".message.assistant:not(.provisional)")
    expect(reply).to_have_count(1, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".provisional")).to_have_count(0)
    user = transcript.locator(".message.user")

    conversation_id = browser.url.rsplit("/", 1)[1]
    stored = browser.request.get(f"/api/v1/conversations/{conversation_id}/messages").json()
    asked, answered = stored["items"]
    assert answered["status"] in ("complete", "stopped") and answered["translation"], answered
    assert asked["text"] == SPANISH and asked["translation"]["provider"] == "local"
    assert "Madrid" in asked["translation"]["text"] and asked["translation"]["language"] == "en"
    # The reply is translated into Spanish; when the small model answered in another language,
    # detection flags it, and translates from that language when a translator serves it.
    assert answered["translation"]["language"] == "es", answered
    if answered["language_flag"]:
        assert answered["language"] in (answered["language_flag"]["detected"], "en"), answered
    else:
        assert answered["language"] == "en", answered

    # Each side shows in the reader's language: the user's own words, the reply's translation.
    original, translation = user.locator("[data-message-body]"), user.locator(
        "[data-translation-body]")
    expect(original).to_be_visible()
    expect(original).to_contain_text(SPANISH)
    expect(translation).to_be_hidden()
    expect(reply.locator("[data-translation-body]")).to_be_visible()
    expect(reply.locator("[data-message-body]")).to_be_hidden()

    user.get_by_role("button", name="Show translation").click()
    expect(translation).to_be_visible()
    expect(translation).to_contain_text(asked["translation"]["text"].split()[0])
    expect(original).to_be_hidden()
    expect(user.get_by_role("button", name="Show original")).to_be_visible()
    reply.get_by_role("button", name="Show original").click()
    expect(reply.locator("[data-message-body]")).to_be_visible()
    expect(reply.locator("[data-translation-body]")).to_be_hidden()

    browser.get_by_label("Originals", exact=True).check()
    expect(original).to_be_visible()
    expect(reply.locator("[data-message-body]")).to_be_visible()
    browser.get_by_label("Translations", exact=True).check()
    expect(translation).to_be_visible()
    expect(reply.locator("[data-translation-body]")).to_be_visible()
    browser.get_by_label("In Spanish", exact=True).check()
    expect(original).to_be_visible()
    expect(reply.locator("[data-translation-body]")).to_be_visible()

    width = browser.evaluate("document.documentElement.scrollWidth")
    assert width <= browser.viewport_size["width"]
    assert watched.problems == []
