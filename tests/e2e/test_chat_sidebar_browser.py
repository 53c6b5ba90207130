"""The list of chats in a real browser: beside the chat on a desktop (hidden on request, which
the browser remembers), a drawer on a phone (Escape closes it), and the chats page's pin,
rename, export, delete and search."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, NewPage
from tests.e2e.test_accounts_browser import sign_up, unique_email
from tests.e2e.test_appearance_browser import no_horizontal_scroll
from tests.e2e.test_chat_browser import create_persona, csrf_header

pytestmark = pytest.mark.e2e


def chats_named(page: Page, *titles: str) -> dict[str, str]:
    """A new member's chats with one persona, titled as given: title -> id."""
    sign_up(page, unique_email("sidebar"))
    persona_id = create_persona(page)
    ids = {}
    for title in titles:
        made = page.request.post("/api/v1/conversations", headers=csrf_header(page),
                                 data={"persona_id": persona_id})
        assert made.status == 201, made.text()
        conversation_id = made.json()["conversation"]["id"]
        renamed = page.request.patch(f"/api/v1/conversations/{conversation_id}",
                                     headers=csrf_header(page), data={"title": title})
        assert renamed.status == 200, renamed.text()
        ids[title] = conversation_id
    return ids


def pin(page: Page, conversation_id: str) -> None:
    response = page.request.patch(f"/api/v1/conversations/{conversation_id}",
                                  headers=csrf_header(page), data={"pinned": True})
    assert response.status == 200, response.text()


def test_the_chats_sit_beside_the_chat_and_can_be_hidden(new_page: NewPage) -> None:
    watched = new_page()
    page = watched.page
    ids = chats_named(page, "Alpha", "Beta", "Gamma")
    pin(page, ids["Gamma"])
    page.goto(f"/chat/{ids['Alpha']}")

    sidebar = page.get_by_role("complementary", name="Your chats")
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_role("link", name="Alpha")).to_have_attribute("aria-current", "page")
    pinned = sidebar.get_by_role("list", name="Pinned")
    expect(pinned.get_by_role("link", name="Gamma")).to_be_visible()
    expect(sidebar.get_by_role("list", name="Recent").get_by_role("link")).to_have_count(2)

    toggle = page.get_by_role("button", name="Hide chats")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(sidebar).to_be_hidden()
    page.reload()  # remembered in this browser
    expect(sidebar).to_be_hidden()
    shown = page.get_by_role("button", name="Chats", exact=True)
    expect(shown).to_have_attribute("aria-expanded", "false")
    shown.click()
    expect(sidebar).to_be_visible()
    sidebar.get_by_role("link", name="Beta").click()
    expect(page).to_have_url(re.compile(f"/chat/{ids['Beta']}$"))
    expect(page.get_by_role("heading", name="Beta", level=1)).to_be_visible()
    assert watched.problems == []


def test_on_a_phone_the_chats_are_a_drawer(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True)
    page = watched.page
    ids = chats_named(page, "Alpha", "Beta")
    page.goto(f"/chat/{ids['Alpha']}")

    sidebar = page.get_by_role("complementary", name="Your chats")
    expect(sidebar).to_be_hidden()
    toggle = page.get_by_role("button", name="Chats", exact=True)
    toggle.click()
    expect(sidebar).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(sidebar.get_by_role("searchbox")).to_be_focused()
    no_horizontal_scroll(page)
    page.keyboard.press("Escape")
    expect(sidebar).to_be_hidden()
    expect(toggle).to_be_focused()

    toggle.click()
    sidebar.get_by_role("button", name=re.compile("^Close")).click()
    expect(sidebar).to_be_hidden()
    toggle.click()
    sidebar.get_by_role("link", name="Beta").click()
    expect(page).to_have_url(re.compile(f"/chat/{ids['Beta']}$"))
    no_horizontal_scroll(page)
    assert watched.problems == []


def row(page: Page, title: str):
    return page.locator("li.conversation-item").filter(
        has=page.get_by_role("link", name=title, exact=True))


def test_the_chats_page_pins_renames_exports_searches_and_deletes(new_page: NewPage) -> None:
    watched = new_page()
    page = watched.page
    chats_named(page, "Alpha", "Beta")
    page.goto("/chat")

    row(page, "Beta").get_by_role("button", name="Pin Beta").click()
    pinned = page.get_by_role("list", name="Pinned")
    expect(pinned.get_by_role("link", name="Beta")).to_be_visible()
    expect(pinned.get_by_role("button", name="Unpin Beta")).to_be_visible()

    alpha = row(page, "Alpha")
    alpha.get_by_text("More").click()
    alpha.get_by_label("Title").fill("Alpha renamed")
    alpha.get_by_role("button", name="Rename").click()
    renamed = row(page, "Alpha renamed")
    expect(renamed).to_be_visible()

    renamed.get_by_text("More").click()
    with page.expect_download() as download:
        renamed.get_by_role("link", name="Markdown").click()
    assert re.fullmatch(r"chat-alpha-renamed-\d{8}\.md", download.value.suggested_filename)

    page.get_by_role("searchbox", name="Search titles and messages").fill("renamed")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/chat\?q=renamed$"))
    expect(page.locator("li.conversation-item")).to_have_count(1)
    expect(row(page, "Alpha renamed")).to_be_visible()

    page.once("dialog", lambda dialog: dialog.accept())
    row(page, "Alpha renamed").get_by_text("More").click()
    row(page, "Alpha renamed").get_by_role("button", name="Delete chat").click()
    expect(page.get_by_role("heading", name="Nothing found")).to_be_visible()
    page.goto("/chat")
    expect(page.locator("li.conversation-item")).to_have_count(1)
    no_horizontal_scroll(page)
    assert watched.problems == []
