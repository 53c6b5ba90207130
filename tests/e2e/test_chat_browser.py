"""Chat in a real browser against the real default model (SmolLM2, on the test server): a new
visitor tries the product, signs up (keeping the trial's credits), creates a persona, starts a
chat from the persona page, watches the reply stream in token by token, and sees the balance go
down by what the reply was charged."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, NewPage, WatchedPage, message_box

pytestmark = pytest.mark.e2e

PASSWORD = "violet kettle harbour lamp"
REPLY_LIMIT_MS = 120_000  # first use loads the model, the moderator and the mood classifier
WATCH_STREAM = """() => {
  window.__streamLengths = [];
  const transcript = document.querySelector("[data-transcript]");
  new MutationObserver(() => {
    const text = transcript.querySelector(".provisional.assistant .plain-text");
    if (text) window.__streamLengths.push(text.textContent.length);
  }).observe(transcript, {subtree: true, childList: true, characterData: true});
}"""


STOP_AT_FIRST_TOKEN = """() => {
  const transcript = document.querySelector("[data-transcript]");
  const observer = new MutationObserver(() => {
    const text = transcript.querySelector(".provisional.assistant .plain-text");
    const stop = document.querySelector("[data-stop]");
    if (text && text.textContent && stop && !stop.hidden) {
      observer.disconnect();
      stop.click();
    }
  });
  observer.observe(transcript, {subtree: true, childList: true, characterData: true});
}"""


def csrf_header(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrf_token")
    return {"X-CSRF-Token": token}


def new_member_with_trial_credits(page: Page) -> int:
    """Start a free trial, then sign up from it (the account keeps the trial's credits)."""
    page.goto("/")
    assert page.request.post("/api/v1/auth/trial").status == 201
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(f"chat-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    me = page.request.get("/api/v1/auth/me").json()["user"]
    assert me["credits"] > 0
    return me["credits"]


def create_persona(page: Page) -> str:
    response = page.request.post("/api/v1/personas", headers=csrf_header(page), data={
        "name": "Ada", "traits": ["helpful", "precise"], "greeting": "Hello! Ask me anything.",
        "sliders": {"verbosity": 20}, "visibility": "private"})
    assert response.status == 201, response.text()
    return response.json()["persona"]["id"]


def test_a_new_user_chats_with_the_local_model(page: WatchedPage) -> None:
    browser_page = page.page
    credits = new_member_with_trial_credits(browser_page)
    persona_id = create_persona(browser_page)

    browser_page.goto(f"/personas/{persona_id}")
    browser_page.get_by_text("Start a chat", exact=True).click()
    expect(browser_page).to_have_url(re.compile(r"/chat/(new\?persona=|[0-9a-f]{24}$)"))
    if "/chat/new" in browser_page.url:  # the persona page links to the start page
        browser_page.get_by_role("button", name="Start the chat").click()
    expect(browser_page).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))
    expect(browser_page.get_by_text("Hello! Ask me anything.")).to_be_visible()
    balance = browser_page.locator("[data-balance]")
    expect(balance).to_have_text(f"{credits} credits")

    browser_page.evaluate(WATCH_STREAM)
    box = message_box(browser_page, "Ada")
    box.fill("What is the capital of France?")
    with browser_page.expect_response(re.compile(r"/messages$"),
                                      timeout=REPLY_LIMIT_MS) as streamed:
        box.press("Enter")
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    expect(browser_page.get_by_role("button", name="Stop")).to_be_visible()

    transcript = browser_page.locator("[data-transcript]")
    reply = transcript.locator(".message.assistant.status-complete")
    expect(reply).to_have_count(1, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".provisional")).to_have_count(0)
    expect(browser_page.get_by_role("button", name="Send")).to_be_visible()
    lengths = browser_page.evaluate("window.__streamLengths")
    assert len({n for n in lengths if n > 0}) >= 2, lengths  # the text grew token by token

    user_message = transcript.locator(".message.user")
    expect(user_message).to_contain_text("What is the capital of France?")
    reply_id = reply.get_attribute("data-message-id")
    conversation_id = browser_page.url.rsplit("/", 1)[1]
    stored = browser_page.request.get(
        f"/api/v1/conversations/{conversation_id}/messages/{reply_id}").json()["message"]
    assert stored["status"] == "complete" and stored["model"] == "local:smollm2-135m"
    assert stored["text"].strip()
    assert stored["credits_charged"] >= 1
    expect(reply.locator("[data-message-body]")).to_contain_text(stored["text"].split()[0])
    expect(balance).to_have_text(f"{credits - stored['credits_charged']} credits")
    assert browser_page.request.get("/api/v1/auth/me").json()["user"]["credits"] == (
        credits - stored["credits_charged"])
    expect(reply.get_by_role("button", name="Regenerate")).to_be_visible()
    expect(user_message.get_by_role("button", name="Edit")).to_be_visible()
    assert page.problems == []


def test_out_of_credits_shows_the_paywall_on_a_phone(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True)
    browser_page = watched.page
    browser_page.goto("/signup")
    email = f"broke-{uuid.uuid4().hex[:10]}@example.com"
    browser_page.get_by_label("Email", exact=True).fill(email)
    browser_page.get_by_label("Password", exact=True).fill(PASSWORD)
    browser_page.get_by_label("Date of birth").fill("1990-04-02")
    browser_page.get_by_role("button", name="Create account").click()
    expect(browser_page).to_have_url(re.compile(r"/account$"))
    persona_id = create_persona(browser_page)
    browser_page.goto(f"/chat/new?persona={persona_id}")
    browser_page.get_by_role("button", name="Start the chat").click()
    expect(browser_page).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))

    box = message_box(browser_page, "Ada")
    box.fill("Hello?")
    browser_page.get_by_role("button", name="Send").click()

    paywall = browser_page.get_by_role("alert").filter(has_text="out of credits")
    expect(paywall).to_be_visible()
    expect(paywall.get_by_role("link", name="See prices and buy credits")).to_have_attribute(
        "href", "/pricing")
    expect(box).to_have_value("Hello?")  # kept, ready to send again
    expect(browser_page.locator("[data-transcript] .message")).to_have_count(0)
    width = browser_page.evaluate("document.documentElement.scrollWidth")
    assert width <= browser_page.viewport_size["width"]
    problems = [p for p in watched.problems if "402" not in p]
    assert problems == []


def test_stop_regenerate_choose_edit_and_copy(new_page: NewPage) -> None:
    watched = new_page(permissions=["clipboard-read", "clipboard-write"])
    browser_page = watched.page
    credits = new_member_with_trial_credits(browser_page)
    persona_id = create_persona(browser_page)
    browser_page.goto(f"/chat/new?persona={persona_id}")
    browser_page.get_by_role("button", name="Start the chat").click()
    expect(browser_page).to_have_url(re.compile(r"/chat/[0-9a-f]{24}$"))
    transcript = browser_page.locator("[data-transcript]")
    box = message_box(browser_page, "Ada")
    expect(transcript).to_be_attached()  # the chat page has loaded before the observer starts

    browser_page.evaluate(STOP_AT_FIRST_TOKEN)
    box.fill("Write a very long story about a lighthouse keeper and the sea.")
    box.press("Enter")
    stopped = transcript.locator(".message.assistant:not(.provisional)")
    expect(stopped).to_have_class(re.compile(r"status-(stopped|complete)"),
                                  timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".provisional")).to_have_count(0)

    stopped.get_by_role("button", name="Copy").click()
    expect(stopped.get_by_role("button", name="Copied")).to_be_visible()
    copied = browser_page.evaluate("navigator.clipboard.readText()")
    assert copied.strip() and copied.split()[0] in stopped.inner_text()

    first_id = stopped.get_attribute("data-message-id")
    stopped.get_by_role("button", name="Regenerate").click()
    expect(transcript.locator(f'[data-message-id="{first_id}"]')).to_have_count(
        0, timeout=REPLY_LIMIT_MS)  # replaced once the new reply has ended
    expect(transcript.locator(".provisional")).to_have_count(0)
    expect(transcript.locator(".message")).to_have_count(2)
    expect(transcript.locator(".message.assistant")).to_have_class(
        re.compile(r"status-(complete|stopped)"))
    second_id = transcript.locator(".message.assistant").get_attribute("data-message-id")

    # the first reply was kept: ‹ shows it again, → (outside the message box) the second
    others = transcript.get_by_role("group", name="Other replies")
    expect(others).to_contain_text("2 / 2")
    others.get_by_role("button", name="Previous reply").click()
    expect(transcript.locator(f'[data-message-id="{first_id}"]')).to_be_visible()
    expect(transcript.locator(".message")).to_have_count(2)
    expect(others).to_contain_text("1 / 2")
    browser_page.keyboard.press("ArrowRight")
    expect(transcript.locator(f'[data-message-id="{second_id}"]')).to_be_visible()
    expect(transcript.locator(".message")).to_have_count(2)

    transcript.locator(".message.user").get_by_role("button", name="Edit").click()
    expect(box).to_have_value("Write a very long story about a lighthouse keeper and the sea.")
    box.fill("Say hello in one word.")
    box.press("Enter")
    expect(transcript.locator(".provisional")).to_have_count(0, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".message")).to_have_count(2)
    expect(transcript.locator(".message.user")).to_contain_text("Say hello in one word.")
    expect(transcript.locator(".message.assistant")).to_have_class(
        re.compile(r"status-(complete|stopped)"))
    me = browser_page.request.get("/api/v1/auth/me").json()["user"]
    assert me["credits"] < credits
    expect(browser_page.locator("[data-balance]")).to_have_text(f"{me['credits']} credits")
    assert watched.problems == []
