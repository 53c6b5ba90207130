"""What a persona learns from the chat, in a real browser on a phone-sized screen: a fact the
user states appears in the "remembers about you" panel (learnt by the server's background
job), can be pinned, learning can be switched off, and deleting the message offers to forget
what it taught."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, NewPage
from tests.e2e.test_chat_browser import create_persona, csrf_header, new_member_with_trial_credits

pytestmark = pytest.mark.e2e

JOB_LIMIT_MS = 30_000  # the server's job runner polls every second
REPLY_LIMIT_MS = 120_000  # the first reply loads the model, the moderator and the mood model


def test_the_panel_shows_pins_and_forgets_what_was_learnt(new_page: NewPage) -> None:
    watched = new_page(*PHONE)
    page = watched.page
    new_member_with_trial_credits(page)
    persona_id = create_persona(page)
    created = page.request.post("/api/v1/conversations", headers=csrf_header(page),
                                data={"persona_id": persona_id})
    conversation_id = created.json()["conversation"]["id"]
    sent = page.request.post(f"/api/v1/conversations/{conversation_id}/messages?stream=false",
                             headers=csrf_header(page), data={"text": "My dog is Biscuit."},
                             timeout=REPLY_LIMIT_MS)
    assert sent.status == 201, sent.text()

    api = f"/api/v1/personas/{persona_id}/my-memories"
    page.wait_for_function(  # the server's background job runner learns it within seconds
        """async (api) => (await (await fetch(api)).json()).items.length > 0""", arg=api,
        timeout=JOB_LIMIT_MS, polling=500)

    page.goto(f"/chat/{conversation_id}")
    panel = page.locator("[data-my-memories]")
    panel.locator("summary").click()
    memory = panel.locator(".my-memory")
    expect(memory).to_contain_text("The user's dog is Biscuit.")
    expect(panel).to_contain_text("Learnt from a chat")

    memory.get_by_role("button", name="Pin").click()
    expect(memory).to_contain_text("pinned")
    toggle = panel.get_by_label("Learn from this chat")
    expect(toggle).to_be_checked()
    with page.expect_response(re.compile(r"/my-memories/learning$")) as switched:
        toggle.uncheck()
    assert switched.value.ok
    assert page.request.get(api).json()["learning"] == {"enabled": False}

    dialogs: list[str] = []

    def accept(dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    user_message = page.locator(".message.user").first
    user_message.get_by_role("button", name="Delete").click()
    expect(page.locator(".message.user")).to_have_count(0)
    expect(memory).to_have_count(0, timeout=10_000)
    assert any("Biscuit" in text and "Forget" in text for text in dialogs), dialogs
    assert page.request.get(api).json()["items"] == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE[0], width  # nothing scrolls sideways on a phone
    assert watched.problems == []
