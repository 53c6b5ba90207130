"""Branches in a real browser, on a desktop and on a phone: editing an earlier message forks the
chat there, and ‹ › on that message switches between its versions, each with the chat that
followed it."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import NewPage, message_box
from tests.e2e.test_chat_browser import (
    REPLY_LIMIT_MS,
    STOP_AT_FIRST_TOKEN,
    new_member_with_trial_credits,
)
from tests.e2e.test_chat_page_browser import (
    SIZES,
    no_horizontal_scroll,
    open_page,
    send_and_stop_at_first_token,
    start_chat,
)

pytestmark = pytest.mark.e2e


@SIZES
def test_an_earlier_edit_forks_and_versions_switch_branches(new_page: NewPage, size) -> None:
    watched = open_page(new_page, size)
    page = watched.page
    new_member_with_trial_credits(page)
    start_chat(page)
    send_and_stop_at_first_token(page, "Tell me about lighthouses.")
    send_and_stop_at_first_token(page, "And about the sea?")
    transcript = page.locator("[data-transcript]")
    messages = transcript.locator(".message")
    expect(messages).to_have_count(4)

    first = transcript.locator(".message.user").first
    first.get_by_role("button", name="Edit").click()
    box = message_box(page, "Ada")
    expect(box).to_have_value("Tell me about lighthouses.")
    box.fill("Tell me about mountains.")
    page.evaluate(STOP_AT_FIRST_TOKEN)
    box.press("Enter")
    expect(transcript.locator(".provisional")).to_have_count(0, timeout=REPLY_LIMIT_MS)
    expect(page.locator("[data-toasts]")).to_contain_text("New branch started")
    expect(messages).to_have_count(2)
    versions = transcript.get_by_role("group", name="Versions of this message")
    expect(versions).to_contain_text("2 / 2")
    expect(messages.first).to_contain_text("Tell me about mountains.")

    versions.get_by_role("button", name="Previous version").click()
    expect(page).to_have_url(re.compile(r"#message-[0-9a-f]{24}$"))
    expect(messages).to_have_count(4)
    expect(messages.first).to_contain_text("Tell me about lighthouses.")
    expect(messages.nth(2)).to_contain_text("And about the sea?")
    expect(versions).to_contain_text("1 / 2")
    expect(messages.first).to_be_in_viewport()
    no_horizontal_scroll(page)

    versions.get_by_role("button", name="Next version").click()
    expect(messages).to_have_count(2)
    expect(messages.first).to_contain_text("Tell me about mountains.")
    expect(versions).to_contain_text("2 / 2")
    assert watched.problems == []
