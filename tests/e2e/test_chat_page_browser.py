"""The chat page's behaviour in a real browser, on a desktop and on a phone: a reopened chat
shows its latest message, a pending reply shows who is typing and for how long, code blocks get
a Copy button, messages show safe Markdown, an edit can be cancelled, and the keyboard
shortcuts (with their dialog) and toast confirmations work."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewPage, WatchedPage, message_box
from tests.e2e.test_chat_browser import (
    REPLY_LIMIT_MS,
    STOP_AT_FIRST_TOKEN,
    create_persona,
    new_member_with_trial_credits,
)

pytestmark = pytest.mark.e2e

SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
CODE = "print('hello from the code block')"
LONG_MESSAGE = "\n\n".join([*(f"Line {n} of a long message." for n in range(1, 41)),
                            f"```\n{CODE}\n```"])
LAST_MESSAGE = "Say **hi** in one word."


def open_page(new_page: NewPage, size: tuple[int, int], **options: Any) -> WatchedPage:
    if size == PHONE:
        options.update(is_mobile=True, has_touch=True)
    return new_page(*size, **options)


def start_chat(page: Page) -> str:
    persona_id = create_persona(page)
    page.goto(f"/chat/new?persona={persona_id}")
    page.get_by_role("button", name="Start the chat").click()
    expect(page).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))
    return page.url


def send_and_stop_at_first_token(page: Page, text: str) -> None:
    transcript = page.locator("[data-transcript]")
    count = transcript.locator(".message:not(.provisional)").count()
    box = message_box(page, "Ada")
    page.evaluate(STOP_AT_FIRST_TOKEN)
    box.fill(text)
    box.press("Enter")
    expect(transcript.locator(".message:not(.provisional)")).to_have_count(
        count + 2, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".provisional")).to_have_count(0)


@pytest.fixture(scope="module")
def long_chat(browser: Browser, live_server: str) -> Iterator[dict[str, Any]]:
    """A member's chat with two exchanges, the first a long message ending in a code block;
    `state` is the member's signed-in browser state."""
    context = browser.new_context(viewport={"width": DESKTOP[0], "height": DESKTOP[1]},
                                  base_url=live_server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    new_member_with_trial_credits(page)
    url = start_chat(page)
    send_and_stop_at_first_token(page, LONG_MESSAGE)
    send_and_stop_at_first_token(page, LAST_MESSAGE)
    yield {"url": url, "state": context.storage_state()}
    context.close()


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@SIZES
def test_a_reopened_long_chat_shows_its_latest_message(new_page: NewPage, long_chat,
                                                       size) -> None:
    watched = open_page(new_page, size, storage_state=long_chat["state"])
    page = watched.page
    page.goto(long_chat["url"])
    message_box(page, "Ada")
    messages = page.locator("[data-transcript] .message")
    expect(messages).to_have_count(4)
    expect(messages.last).to_be_in_viewport()
    expect(messages.first.get_by_text("Line 1 of a long message.", exact=True)
           ).not_to_be_in_viewport()
    expect(page.locator("#chat-heading")).not_to_be_in_viewport()
    no_horizontal_scroll(page)
    assert watched.problems == []


@SIZES
def test_a_pending_reply_shows_typing_with_elapsed_seconds(new_page: NewPage, long_chat,
                                                           size) -> None:
    watched = open_page(new_page, size, storage_state=long_chat["state"])
    page = watched.page
    page.clock.install()
    page.route(re.compile(r"/messages$"), lambda route: None)  # the reply never starts
    page.goto(long_chat["url"])
    box = message_box(page, "Ada")
    box.fill("Are you there?")
    box.press("Enter")
    indicator = page.locator(".provisional.assistant").get_by_role("status")
    expect(indicator).to_have_text(re.compile(r"^Ada is typing… 0s$"))
    page.clock.run_for("00:03")
    expect(indicator).to_have_text(re.compile(r"^Ada is typing… ([3-9]|\d\d+)s$"))
    no_horizontal_scroll(page)


@SIZES
def test_code_blocks_have_a_keyboard_copy_button(new_page: NewPage, long_chat, size) -> None:
    watched = open_page(new_page, size, storage_state=long_chat["state"],
                        permissions=["clipboard-read", "clipboard-write"])
    page = watched.page
    page.goto(long_chat["url"])
    message_box(page, "Ada")
    block = page.locator("[data-transcript] .code-block")
    expect(block).to_have_count(1)
    expect(block.locator("pre")).to_have_text(CODE + "\n")
    button = block.get_by_role("button", name="Copy code")
    button.focus()
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(block.get_by_role("button", name="Copied")).to_be_visible()
    expect(page.locator("[data-toasts]")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()").strip() == CODE
    no_horizontal_scroll(page)
    assert watched.problems == []


def expect_edit_mode_left(page: Page, box: Locator, cancel: Locator) -> None:
    expect(box).to_have_value("")
    expect(cancel).to_be_hidden()
    expect(page.get_by_role("button", name="Send")).to_be_visible()


@SIZES
def test_edit_mode_cancels_with_its_button_or_esc(new_page: NewPage, long_chat, size) -> None:
    watched = open_page(new_page, size, storage_state=long_chat["state"])
    page = watched.page
    page.goto(long_chat["url"])
    box = message_box(page, "Ada")
    cancel = page.get_by_role("button", name="Cancel")
    expect(cancel).to_be_hidden()
    last_user = page.locator("[data-transcript] .message.user").last
    expect(last_user.locator("strong")).to_have_text("hi")  # shown as Markdown

    last_user.get_by_role("button", name="Edit").click()
    expect(box).to_have_value(LAST_MESSAGE)  # the text as written, not as shown
    expect(page.get_by_role("button", name="Save and resend")).to_be_visible()
    cancel.click()
    expect_edit_mode_left(page, box, cancel)

    box.focus()
    box.press("ArrowUp")  # in an empty box: edit the last message
    expect(box).to_have_value(LAST_MESSAGE)
    expect(cancel).to_be_visible()
    box.press("Escape")
    expect_edit_mode_left(page, box, cancel)
    no_horizontal_scroll(page)
    assert watched.problems == []


@SIZES
def test_question_mark_shows_the_shortcuts_dialog(new_page: NewPage, long_chat, size) -> None:
    watched = open_page(new_page, size, storage_state=long_chat["state"])
    page = watched.page
    page.goto(long_chat["url"])
    box = message_box(page, "Ada")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    box.press("?")  # typed into the message box, not a shortcut there
    expect(box).to_have_value("?")
    expect(dialog).to_be_hidden()
    box.fill("")

    page.locator("#chat-heading").click()
    page.keyboard.press("?")
    expect(dialog).to_be_visible()
    for shortcut in ("Send the message", "Edit your last message", "Stop the reply",
                     "Cancel the edit", "Show these shortcuts"):
        expect(dialog).to_contain_text(shortcut)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("?")
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    no_horizontal_scroll(page)
    assert watched.problems == []


ESC_AT_FIRST_TOKEN = """() => {
  window.__atFirstToken = null;
  const transcript = document.querySelector("[data-transcript]");
  const box = document.querySelector("[data-composer] textarea");
  const observer = new MutationObserver(() => {
    const text = transcript.querySelector(".provisional.assistant .plain-text");
    if (text && text.textContent) {
      observer.disconnect();
      window.__atFirstToken = {typing: !!transcript.querySelector(".typing-indicator")};
      box.dispatchEvent(new KeyboardEvent("keydown", {key: "Escape", bubbles: true}));
    }
  });
  observer.observe(transcript, {subtree: true, childList: true, characterData: true});
}"""


@SIZES
def test_keyboard_send_stop_edit_and_delete_with_toasts(new_page: NewPage, size) -> None:
    watched = open_page(new_page, size)
    page = watched.page
    new_member_with_trial_credits(page)
    start_chat(page)
    transcript = page.locator("[data-transcript]")
    toasts = page.locator("[data-toasts]")
    box = message_box(page, "Ada")

    page.evaluate(ESC_AT_FIRST_TOKEN)
    box.fill("**Write** a very long story about the sea. <script>window.__xss = 1</script>"
             "<img src=x onerror=\"window.__xss = 2\">")
    box.press("Control+Enter")
    sent = transcript.locator(".message.user").last
    expect(sent.locator("strong")).to_have_text("Write", timeout=REPLY_LIMIT_MS)
    expect(sent).to_contain_text("<script>window.__xss = 1</script>")  # shown as text
    expect(transcript.locator("img, script")).to_have_count(0)
    expect(toasts).to_contain_text("Reply stopped", timeout=REPLY_LIMIT_MS)  # Esc stopped it
    assert page.evaluate("window.__atFirstToken") == {"typing": False}
    expect(transcript.locator(".provisional")).to_have_count(0, timeout=REPLY_LIMIT_MS)
    reply = transcript.locator(".message.assistant").last
    expect(reply).to_have_class(re.compile(r"status-stopped"))
    assert page.evaluate("window.__xss") is None

    box.press("ArrowUp")
    expect(box).to_have_value(re.compile(r"^\*\*Write\*\* a very long story"))
    page.evaluate(STOP_AT_FIRST_TOKEN)
    box.fill("Say hello.")
    box.press("Meta+Enter")
    expect(toasts).to_contain_text("Edit saved", timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".provisional")).to_have_count(0, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".message")).to_have_count(2)
    expect(transcript.locator(".message.user")).to_have_text(re.compile("Say hello."))

    page.once("dialog", lambda dialog: dialog.accept())
    transcript.locator(".message.assistant").get_by_role("button", name="Delete").click()
    expect(toasts).to_contain_text("Message deleted")
    expect(transcript.locator(".message")).to_have_count(1)
    no_horizontal_scroll(page)
    assert watched.problems == []
