"""Personas in a real browser: create one with sliders and traits, watch the instructions
preview follow the sliders, share it, open the link as an anonymous visitor, and find it on
Explore on a phone."""

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, NewPage, WatchedPage
from tests.e2e.mailbox import confirm_email, live_data_dir

pytestmark = pytest.mark.e2e

PASSWORD = "violet kettle harbour lamp"


def sign_up(page: Page) -> str:
    email = f"persona-{uuid.uuid4().hex[:10]}@example.com"
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    return email


def create_persona(page: Page, name: str) -> None:
    page.get_by_role("link", name="Personas", exact=True).click()
    expect(page.get_by_role("heading", name="No personas yet")).to_be_visible()
    page.get_by_role("link", name="New persona").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Tagline (optional)").fill("Poet of numbers")
    traits = page.get_by_label("Traits", exact=True)
    traits.fill("curious")
    traits.press("Enter")
    traits.fill("kind,")
    expect(page.get_by_role("list", name="Traits added").locator("li")).to_have_count(2)

    preview = page.locator("#instructions-preview")
    warmth = page.get_by_label("Warmth")
    expect(preview).to_contain_text("Warmth (50/100): Be friendly")
    warmth.focus()
    warmth.press("End")
    expect(page.locator("#slider-warmth-value")).to_have_text("100")
    expect(preview).to_contain_text("Warmth (100/100): Be warm and affectionate")
    expect(preview).to_contain_text("Personality traits: curious, kind.")
    warmth.press("Home")
    expect(preview).to_contain_text("Warmth (0/100): Be reserved and matter-of-fact")
    verbosity = page.get_by_label("Reply length")
    verbosity.focus()
    verbosity.press("End")
    expect(preview).to_contain_text("Reply length (100/100): Give long, detailed replies")

    page.get_by_role("button", name="Create persona").click()
    expect(page).to_have_url(re.compile(r"/personas/[0-9a-f]{24}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def explore_on_a_phone(page: Page, name: str) -> None:
    """Explore's card for `name`: its avatar, a tag link that filters, and a Chat button
    reached by keyboard; nothing scrolls sideways."""
    page.goto("/explore")
    card = page.locator(".explore-card").filter(has_text=name)
    expect(card.get_by_role("img", name=f"Avatar of {name}")).to_be_visible()
    expect(card.locator(".chat-count")).to_have_text("0 chats")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    card.get_by_role("link", name="kind", exact=True).click()
    expect(page).to_have_url(re.compile(r"/explore\?tag=kind$"))
    expect(page.locator(".active-filter")).to_contain_text("Tagged kind")
    chat = page.locator(".explore-card").filter(has_text=name).get_by_role(
        "link", name=f"Chat with {name}")
    chat.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/new\?persona=[0-9a-f]{24}$"))
    expect(page.get_by_role("button", name="Try it free")).to_be_visible()


def test_create_tune_share_and_open_anonymously(page: WatchedPage, new_page: NewPage,
                                                tmp_path_factory: pytest.TempPathFactory) -> None:
    owner = page.page
    name = "Ada <Lovelace>"
    email = sign_up(owner)
    confirm_email(owner, email, live_data_dir(tmp_path_factory))  # sharing needs it
    create_persona(owner, name)
    expect(owner.locator(".slider-summary")).to_contain_text("Be reserved and matter-of-fact")

    owner.get_by_role("button", name="Make public and share").click()
    link = owner.locator("#share-link")
    expect(link).to_be_visible()
    share_path = link.get_attribute("href")
    assert share_path and re.fullmatch(r"/p/[A-Za-z0-9_-]{22}", share_path)  # 128 bits
    expect(owner.locator("#share-url")).to_have_value(re.compile(re.escape(share_path) + "$"))

    visitor = new_page()
    visitor.page.goto(share_path)
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text(name)
    expect(visitor.page.get_by_text("Poet of numbers")).to_be_visible()
    sign_up_link = visitor.page.get_by_role("link", name="Sign up", exact=True).last
    expect(sign_up_link).to_have_attribute("href", f"/signup?next={share_path}")
    expect(visitor.page.get_by_role("button", name="Try it free")).to_be_visible()
    expect(visitor.page.get_by_role("link", name="Start a chat")).to_have_count(0)
    visitor.page.wait_for_load_state("networkidle")

    phone = new_page(*PHONE, is_mobile=True, has_touch=True)
    phone.page.goto(share_path)
    expect(phone.page.get_by_role("button", name="Try it free")).to_be_visible()
    expect(phone.page.get_by_role("img", name=f"Avatar of {name}")).to_have_text("AL")
    explore_on_a_phone(phone.page, name)

    owner.goto("/explore")
    expect(owner.get_by_role("link", name=name, exact=True)).to_have_attribute("href", share_path)
    owner.wait_for_load_state("networkidle")
    assert page.problems == [] and visitor.problems == [] and phone.problems == []


def test_validation_errors_are_shown_beside_the_form(page: WatchedPage) -> None:
    browser_page = page.page
    sign_up(browser_page)
    browser_page.goto("/personas/new")
    browser_page.get_by_label("Name").fill("Ada")
    traits = browser_page.get_by_label("Traits", exact=True)
    traits.fill("x" * 31)
    traits.press("Enter")
    browser_page.get_by_role("button", name="Create persona").click()
    alert = browser_page.locator("#persona-form [role=alert]")
    expect(alert).to_contain_text("each trait must be 1 to 30 characters long")
    expect(traits).to_have_attribute("aria-invalid", "true")
    expect(browser_page).to_have_url(re.compile(r"/personas/new$"))
    refused = re.compile(r"status of 422 .*/api/v1/personas(/preview-instructions)?\)$")
    assert [problem for problem in page.problems if not refused.search(problem)] == []


def test_trying_it_free_says_the_trial_started_and_its_credits(
        page: WatchedPage, new_page: NewPage, tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.e2e.test_chat_browser import csrf_header

    owner = page.page
    confirm_email(owner, sign_up(owner), live_data_dir(tmp_path_factory))
    created = owner.request.post("/api/v1/personas", headers=csrf_header(owner), data={
        "name": "Ada", "traits": ["curious"], "visibility": "public"})
    assert created.status == 201, created.text()
    persona_id = created.json()["persona"]["id"]
    shared = owner.request.post(f"/api/v1/personas/{persona_id}/share",
                                headers=csrf_header(owner))
    assert shared.status == 200, shared.text()

    visitor = new_page(*PHONE, is_mobile=True, has_touch=True)
    visitor.page.goto(f"/p/{shared.json()['share_id']}")
    visitor.page.get_by_role("button", name="Try it free").click()
    flash = visitor.page.get_by_role("status").filter(has_text="free trial has started")
    expect(flash).to_have_text("Your free trial has started with 20 credits to spend on chats.")
    expect(visitor.page.get_by_role("button", name="Try it free")).to_have_count(0)
    visitor.page.reload()
    expect(visitor.page.get_by_role("heading", level=1)).to_have_text("Ada")
    expect(flash).to_have_count(0)
    assert page.problems == [] and visitor.problems == []
