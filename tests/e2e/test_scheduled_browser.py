"""Scheduled messages in a real browser, on the test server with its real job runner and the
default local model: schedule a message a few seconds ahead from the chat page's "Send later"
control, see it pending in the scheduled strip, then see it delivered and answered in the
transcript. On a phone: the control fits the screen, works from the keyboard, its quick pick
fills tomorrow 9:00 in the browser's time zone, and a pending item can be cancelled."""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, NewPage, message_box

pytestmark = pytest.mark.e2e

PASSWORD = "violet kettle harbour lamp"
ZONE = "Europe/London"
REPLY_LIMIT_MS = 150_000  # the server may load the local model, moderator first


def csrf_header(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrf_token")
    return {"X-CSRF-Token": token}


def member_in_a_chat(page: Page) -> str:
    """A new member with a trial's credits, chatting with a new persona; returns the chat id."""
    page.goto("/")
    assert page.request.post("/api/v1/auth/trial").status == 201
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(f"later-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    persona = page.request.post("/api/v1/personas", headers=csrf_header(page), data={
        "name": "Ada", "traits": ["helpful"], "sliders": {"verbosity": 20},
        "visibility": "private"})
    assert persona.status == 201, persona.text()
    conversation = page.request.post("/api/v1/conversations", headers=csrf_header(page), data={
        "persona_id": persona.json()["persona"]["id"]})
    assert conversation.status == 201, conversation.text()
    conversation_id = conversation.json()["conversation"]["id"]
    page.goto(f"/chat/{conversation_id}")
    return conversation_id


def test_schedule_see_it_pending_then_delivered(new_page: NewPage) -> None:
    watched = new_page(timezone_id=ZONE)
    page = watched.page
    member_in_a_chat(page)
    message_box(page, "Ada").fill("Good morning, Ada. Say hello.")
    page.get_by_text("Send later…").click()
    expect(page.get_by_label("Time zone")).to_have_value(ZONE)  # from the browser
    due = datetime.now(ZoneInfo(ZONE)) + timedelta(seconds=8)
    page.get_by_label("Date", exact=True).fill(due.strftime("%Y-%m-%d"))
    page.get_by_label("Time", exact=True).fill(due.strftime("%H:%M:%S"))
    page.get_by_role("button", name="Schedule").click()

    strip = page.locator("[data-scheduled-strip]")
    pending = strip.locator(".scheduled-item")
    expect(pending).to_have_count(1)
    expect(pending).to_contain_text("Pending")
    expect(pending).to_contain_text("Good morning, Ada. Say hello.")
    expect(pending).to_contain_text(f"({ZONE})")
    expect(message_box(page, "Ada")).to_have_value("")

    transcript = page.locator("[data-transcript]")
    expect(transcript.locator(".message.assistant.status-complete")).to_have_count(
        1, timeout=REPLY_LIMIT_MS)
    expect(transcript.locator(".message.user")).to_contain_text("Good morning, Ada.")
    expect(transcript.locator(".scheduled-badge").first).to_be_visible()
    expect(strip.locator(".scheduled-item")).to_have_count(0)
    delivered = page.request.get("/api/v1/scheduled?status=delivered").json()["items"]
    assert len(delivered) == 1 and len(delivered[0]["message_ids"]) == 2
    assert watched.problems == []


def test_on_a_phone_the_control_fits_works_by_keyboard_and_cancels(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True, timezone_id="Asia/Tokyo")
    page = watched.page
    member_in_a_chat(page)
    message_box(page, "Ada").fill("Remind me about the plan")
    summary = page.get_by_text("Send later…")
    summary.focus()
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Tomorrow 9:00").click()
    tomorrow = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=1)
    expect(page.get_by_label("Date", exact=True)).to_have_value(tomorrow.isoformat())
    expect(page.get_by_label("Time", exact=True)).to_have_value("09:00")
    page.get_by_label("Ask now; Ada’s answer arrives then").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    page.get_by_role("button", name="Schedule").focus()
    page.keyboard.press("Enter")

    item = page.locator("[data-scheduled-strip] .scheduled-item")
    expect(item).to_contain_text("Ada answers at")
    expect(item).to_contain_text("09:00 (Asia/Tokyo)")
    expect(page.locator("[data-transcript] .message.user")).to_contain_text("Remind me")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]

    page.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Cancel the scheduled message").click()
    expect(item).to_have_count(0)
    cancelled = page.request.get("/api/v1/scheduled?status=cancelled").json()["items"]
    assert len(cancelled) == 1 and cancelled[0]["text"] == ""
    assert watched.problems == []
