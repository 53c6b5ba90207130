"""Replies cut at the length limit, and rewritten persona replies, in a real browser against
the real default model, on a desktop and on a phone: a persona whose reply-length slider is at
its shortest (28 tokens) is asked to count to a hundred, so its reply is cut; the transcript
marks it, Continue streams more text onto the same message, and Edit rewrites it in place."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewPage, message_box
from tests.e2e.test_chat_browser import REPLY_LIMIT_MS, csrf_header, new_member_with_trial_credits

pytestmark = pytest.mark.e2e

SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
CUT_NOTE = "Cut at the length limit."
ASK = ("Count from 1 to 100, writing every number in full, separated by commas. "
       "Do not skip or abbreviate any number.")
TRIES = 8  # the model samples: now and then it stops early by itself, so the reply is redone


def terse_persona(page: Page) -> str:
    response = page.request.post("/api/v1/personas", headers=csrf_header(page), data={
        "name": "Ada", "traits": ["talkative"], "greeting": "Hello! Ask me anything.",
        "sliders": {"verbosity": 0}, "visibility": "private"})
    assert response.status == 201, response.text()
    return response.json()["persona"]["id"]


def stored_reply(page: Page, conversation_id: str) -> dict:
    items = page.request.get(f"/api/v1/conversations/{conversation_id}/messages").json()["items"]
    return items[-1]


def cut_reply(page: Page, conversation_id: str) -> dict:
    """Ask for the count; Regenerate until the stored reply is cut (at most TRIES replies)."""
    box = message_box(page, "Ada")
    box.fill(ASK)
    box.press("Enter")
    chat = page.locator("[data-chat]")
    for _ in range(TRIES):
        expect(page.locator(".provisional")).to_have_count(0, timeout=REPLY_LIMIT_MS)
        expect(chat).to_have_attribute("aria-busy", "false", timeout=REPLY_LIMIT_MS)
        reply = stored_reply(page, conversation_id)
        if reply["cut"]:
            return reply
        page.locator(f'[data-message-id="{reply["id"]}"]').get_by_role(
            "button", name="Regenerate").click()
    pytest.fail(f"no reply was cut at the length limit in {TRIES} tries")


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"scrolls sideways: {width}"


@SIZES
def test_a_cut_reply_is_marked_continued_and_edited(new_page: NewPage,
                                                    size: tuple[int, int]) -> None:
    watched = new_page(*size)
    page = watched.page
    new_member_with_trial_credits(page)
    page.goto(f"/chat/new?persona={terse_persona(page)}")
    page.get_by_role("button", name="Start the chat").click()
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))
    conversation_id = page.url.rsplit("/", 1)[1]
    chat = page.locator("[data-chat]")

    cut = cut_reply(page, conversation_id)
    assert cut["status"] == "complete"
    reply = page.locator(f'[data-message-id="{cut["id"]}"]')
    expect(reply.get_by_text(CUT_NOTE)).to_be_visible()
    no_sideways_scroll(page)

    before = reply.locator("[data-message-body]").inner_text()
    reply.get_by_role("button", name="Continue").click()
    expect(chat).to_have_attribute("aria-busy", "false", timeout=REPLY_LIMIT_MS)
    continued = stored_reply(page, conversation_id)
    assert continued["id"] == cut["id"] and continued["status"] in ("complete", "stopped")
    assert continued["text"].startswith(cut["text"]) and len(continued["text"]) > len(cut["text"])
    assert continued["credits_charged"] > cut["credits_charged"]
    shown = page.locator(f'[data-message-id="{cut["id"]}"]')
    expect(shown).to_have_count(1)
    shown_text = shown.locator("[data-message-body]").inner_text()
    assert shown_text.startswith(before.rstrip()[:20]) and len(shown_text) > len(before)
    expect(shown.get_by_text(CUT_NOTE)).to_have_count(1 if continued["cut"] else 0)
    expect(page.locator("[data-chat-error]")).to_be_hidden()
    no_sideways_scroll(page)

    shown.get_by_role("button", name="Edit").click()
    editor = shown.get_by_label("Reply text")
    expect(editor).to_have_value(continued["text"].strip())
    no_sideways_scroll(page)
    editor.fill("The keeper lit the lamp, and the storm passed.")
    shown.get_by_role("button", name="Save").click()
    expect(shown.locator("[data-edited]")).to_have_text("Edited")
    expect(shown.locator("[data-message-body]")).to_have_text(
        "The keeper lit the lamp, and the storm passed.")
    assert stored_reply(page, conversation_id)["edited"] is True
    page.reload()
    expect(page.locator(f'[data-message-id="{cut["id"]}"] [data-edited]')).to_be_visible()
    assert watched.problems == []
