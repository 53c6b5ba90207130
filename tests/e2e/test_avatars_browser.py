"""Persona avatars in a real browser, on a phone: the uploaded picture loads on the persona
cards, the persona page and the chat list, and a reply that streams in live carries it from its
first token to the server-rendered message that replaces it."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import PHONE, NewPage, message_box
from tests.e2e.test_chat_browser import csrf_header, new_member_with_trial_credits
from tests.media.samples import image_bytes

pytestmark = pytest.mark.e2e

REPLY_LIMIT_MS = 120_000  # first use loads the model, the moderator and the mood classifier
WATCH_LIVE_AVATAR = """() => {
  window.__liveAvatars = [];
  const transcript = document.querySelector("[data-transcript]");
  new MutationObserver(() => {
    const live = transcript.querySelector(".provisional.assistant");
    if (live) window.__liveAvatars.push(live.querySelector("img.avatar")?.alt || "");
  }).observe(transcript, {subtree: true, childList: true, characterData: true});
}"""


def expect_loaded_avatar(scope: Locator, name: str) -> None:
    image = scope.get_by_role("img", name=f"Avatar of {name}").first
    expect(image).to_be_visible()
    expect(image).to_have_attribute("src", re.compile(r"^/media/[0-9a-f]{24}$"))
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")


def assert_no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_the_avatar_follows_the_persona_into_a_live_chat(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True)
    page = watched.page
    new_member_with_trial_credits(page)
    created = page.request.post("/api/v1/personas", headers=csrf_header(page), data={
        "name": "Ada", "greeting": "Hello! Ask me anything.", "sliders": {"verbosity": 20}})
    assert created.status == 201, created.text()
    persona_id = created.json()["persona"]["id"]
    uploaded = page.request.post(f"/api/v1/personas/{persona_id}/avatar",
                                 headers=csrf_header(page), multipart={"file": {
                                     "name": "ada.png", "mimeType": "image/png",
                                     "buffer": image_bytes("PNG", (200, 200))}})
    assert uploaded.status == 201, uploaded.text()

    for path in ("/personas", f"/personas/{persona_id}"):
        page.goto(path)
        expect_loaded_avatar(page.locator("main"), "Ada")
        assert_no_horizontal_scroll(page)

    page.goto(f"/chat/new?persona={persona_id}")
    page.get_by_role("button", name="Start the chat").click()
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))
    expect_loaded_avatar(page.locator(".greeting"), "Ada")
    page.evaluate(WATCH_LIVE_AVATAR)
    box = message_box(page, "Ada")
    box.fill("Say hello.")
    box.press("Enter")
    transcript = page.locator("[data-transcript]")
    reply = transcript.locator(".message.assistant.status-complete")
    expect(reply).to_have_count(1, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".provisional")).to_have_count(0)
    live = page.evaluate("window.__liveAvatars")
    assert live and set(live) == {"Avatar of Ada"}, live  # there from the very first token
    expect_loaded_avatar(reply, "Ada")
    expect(transcript.locator(".message.user img.avatar")).to_have_count(0)
    assert_no_horizontal_scroll(page)

    page.goto("/chat")
    expect_loaded_avatar(page.locator(".conversation-list"), "Ada")
    assert_no_horizontal_scroll(page)
    assert watched.problems == []
