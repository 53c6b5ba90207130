"""A chat's own settings in a real browser: set under "Chat options", shown again once the page
has reloaded, and cleared back to the defaults by emptying the fields."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import NewPage
from tests.e2e.test_chat_sidebar_browser import chats_named

pytestmark = pytest.mark.e2e


def test_a_chats_settings_are_saved_and_cleared(new_page: NewPage) -> None:
    watched = new_page()
    page = watched.page
    chat = chats_named(page, "Settings chat")["Settings chat"]
    page.goto(f"/chat/{chat}")
    page.get_by_text("Chat options").click()
    form = page.get_by_role("form", name="This chat's settings")

    form.get_by_label("Temperature").fill("1.2")
    form.get_by_label("Reply length").select_option("short")
    form.get_by_label("Name").fill("Sam")
    form.get_by_label("A few words about you").fill("I keep bees.")
    with page.expect_navigation():  # saved, the page reloads itself
        form.get_by_role("button", name="Save settings").click()
    stored = page.request.get(f"/api/v1/conversations/{chat}").json()["conversation"]
    assert stored["temperature"] == 1.2 and stored["reply_length"] == "short"
    assert stored["about_me"] == {"name": "Sam", "description": "I keep bees."}

    page.get_by_text("Chat options").click()
    expect(form.get_by_label("Temperature")).to_have_value("1.2")
    expect(form.get_by_label("Reply length")).to_have_value("short")
    expect(form.get_by_label("Name")).to_have_value("Sam")

    form.get_by_label("Temperature").fill("")
    form.get_by_label("Reply length").select_option("")
    form.get_by_label("Name").fill("")
    form.get_by_label("A few words about you").fill("")
    with page.expect_navigation():
        form.get_by_role("button", name="Save settings").click()
    stored = page.request.get(f"/api/v1/conversations/{chat}").json()["conversation"]
    assert stored["temperature"] is None and stored["reply_length"] is None
    assert stored["about_me"] is None
    assert watched.problems == []
