"""Account pages in a real browser: sign up, settings, API keys, sign out and in, and errors."""

import re
import uuid
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import two_factor
from tests.e2e.conftest import PHONE, NewPage, WatchedPage

pytestmark = pytest.mark.e2e

PASSWORD = "violet kettle harbour lamp"
ADULT_BIRTH_DATE = "1990-04-02"


def problems_besides(watched: WatchedPage, status: int, path: str) -> list[str]:
    """The page's problems, less Chromium's console line for an error answer the test expects."""
    expected = re.compile(rf"status of {status} .*{re.escape(path)}\)$")
    return [problem for problem in watched.problems if not expected.search(problem)]


def unique_email(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:10]}@example.com"


def years_ago(years: int) -> str:
    today = date.today()
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    return date(today.year - years, today.month, day).isoformat()


def sign_up(page: Page, email: str, *, name: str = "", birth_date: str = ADULT_BIRTH_DATE,
            guardian_email: str | None = None) -> None:
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(email)
    if name:
        page.get_by_label("Display name").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill(birth_date)
    if guardian_email is not None:
        page.get_by_label("Parent or guardian's email").fill(guardian_email)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def log_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in", exact=True).click()
    two_factor.answer_code_step(page, email)


def test_adult_signs_up_and_manages_the_account(page: WatchedPage, new_page: NewPage) -> None:
    browser_page = page.page
    email = unique_email("adult")
    browser_page.goto("/signup")
    guardian = browser_page.get_by_label("Parent or guardian's email")
    browser_page.get_by_label("Date of birth").fill(ADULT_BIRTH_DATE)
    expect(guardian).to_be_hidden()
    sign_up(browser_page, email, name="Ann")
    expect(browser_page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(browser_page.locator(".settings-header")).to_contain_text(email)

    name_field = browser_page.get_by_label("Display name", exact=True)
    expect(name_field).to_have_value("Ann")
    name_field.fill("Ann <Brooks>")
    browser_page.get_by_role("button", name="Save", exact=True).click()
    expect(browser_page.get_by_role("status")).to_have_text("Your display name has been saved.")
    expect(browser_page.locator(".account-name")).to_have_text("Ann <Brooks>")

    expect(browser_page.get_by_text("You have no API keys")).to_be_visible()
    browser_page.get_by_label("Name for a new key").fill("Laptop script")
    browser_page.get_by_role("button", name="Create key").click()
    key_field = browser_page.locator("#new-key-value")
    expect(key_field).to_be_visible()
    expect(key_field).to_have_value(re.compile(r"^cck_.{20,}"))
    expect(key_field).to_be_focused()
    expect(browser_page.locator("#new-key")).to_contain_text("shown only this once")
    expect(browser_page.get_by_text("You have no API keys")).to_be_hidden()
    key = key_field.input_value()
    browser_page.get_by_role("link", name="Done, I saved it").click()
    browser_page.reload()
    expect(browser_page.get_by_role("list", name="Your API keys")).to_contain_text("Laptop script")
    assert key not in browser_page.content()
    expect(browser_page.locator("#new-key")).to_be_hidden()

    browser_page.get_by_role("button", name="Log out").first.click()
    expect(browser_page).to_have_url(re.compile(r"/$"))
    expect(browser_page.get_by_role("link", name="Log in")).to_be_visible()

    log_in(browser_page, email)
    expect(browser_page).to_have_url(re.compile(r"/account$"))
    other = new_page()
    log_in(other.page, email)
    expect(other.page).to_have_url(re.compile(r"/account$"))

    browser_page.reload()
    devices = browser_page.get_by_role("list", name="Signed-in devices").locator("li")
    expect(devices).to_have_count(2)
    current = browser_page.locator("li.item.current")
    expect(current).to_have_count(1)
    expect(current).to_contain_text("This device")
    expect(current).to_have_attribute("aria-current", "true")

    browser_page.once("dialog", lambda dialog: dialog.accept())
    browser_page.get_by_role("button", name=re.compile("Sign out all other devices")).click()
    expect(browser_page.get_by_role("status")).to_have_text(
        "Every other device has been signed out.")
    expect(devices).to_have_count(1)
    other.page.goto("/account")
    expect(other.page).to_have_url(re.compile(r"/login\?next=%2Faccount$"))

    assert page.problems == []
    assert other.problems == []


def test_minor_sign_up_reveals_the_guardian_field(page: WatchedPage) -> None:
    browser_page = page.page
    browser_page.goto("/signup")
    birth_date = browser_page.get_by_label("Date of birth")
    guardian = browser_page.get_by_label("Parent or guardian's email")
    refusal = browser_page.get_by_text("you need to be at least 13")
    expect(guardian).to_be_hidden()

    birth_date.fill(years_ago(15))
    expect(guardian).to_be_visible()
    expect(guardian).to_be_enabled()
    expect(refusal).to_be_hidden()

    birth_date.fill(years_ago(10))
    expect(guardian).to_be_hidden()
    expect(refusal).to_be_visible()

    birth_date.fill(years_ago(30))
    expect(guardian).to_be_hidden()
    expect(refusal).to_be_hidden()

    sign_up(browser_page, unique_email("teen"), birth_date=years_ago(15),
            guardian_email=unique_email("parent"))
    expect(browser_page.get_by_text("Waiting for a parent or guardian")).to_be_visible()
    assert page.problems == []


def test_under_13_is_refused_kindly(page: WatchedPage) -> None:
    browser_page = page.page
    browser_page.goto("/signup")
    browser_page.get_by_label("Email", exact=True).fill(unique_email("child"))
    browser_page.get_by_label("Password", exact=True).fill(PASSWORD)
    browser_page.get_by_label("Date of birth").fill(years_ago(11))
    browser_page.get_by_role("button", name="Create account").click()
    expect(browser_page.get_by_role("alert")).to_contain_text("at least 13")
    expect(browser_page.get_by_text("This rule protects younger children")).to_be_visible()
    expect(browser_page).to_have_url(re.compile(r"/signup$"))

    browser_page.get_by_label("Date of birth").fill(years_ago(30))
    browser_page.get_by_role("button", name="Create account").click()
    alert = browser_page.get_by_role("alert")
    expect(alert).to_contain_text("This email address can't be used to sign up for now")
    expect(alert).to_contain_text("about 24 hours")
    expect(alert).not_to_contain_text("at least 13")
    expect(browser_page.get_by_text("This rule protects younger children")).to_be_hidden()
    expect(browser_page.get_by_label("Email", exact=True)).to_have_attribute("aria-invalid", "true")
    assert problems_besides(page, 403, "/api/v1/auth/signup") == []


def test_wrong_password_is_explained_next_to_the_form(page: WatchedPage,
                                                      new_page: NewPage) -> None:
    email = unique_email("wrong")
    first = new_page()
    sign_up(first.page, email)
    browser_page = page.page
    log_in(browser_page, email, password="not the right password")
    alert = browser_page.locator("form[data-api='/api/v1/auth/login'] [role=alert]")
    expect(alert).to_have_text("The email or password is not right.")
    password = browser_page.get_by_label("Password", exact=True)
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_be_focused()
    expect(browser_page.get_by_role("button", name="Log in", exact=True)).to_be_enabled()
    password.fill(PASSWORD)
    expect(password).not_to_have_attribute("aria-invalid", "true")
    browser_page.get_by_role("button", name="Log in", exact=True).click()
    expect(browser_page).to_have_url(re.compile(r"/account$"))
    assert problems_besides(page, 401, "/api/v1/auth/login") == []
    assert first.problems == []


def test_show_password_toggle_and_weak_password_message(page: WatchedPage) -> None:
    browser_page = page.page
    browser_page.goto("/signup")
    password = browser_page.get_by_label("Password", exact=True)
    toggle = browser_page.get_by_role("button", name="Show password")
    password.fill("password")
    expect(password).to_have_attribute("type", "password")
    toggle.click()
    expect(password).to_have_attribute("type", "text")
    expect(browser_page.get_by_role("button", name="Hide password")).to_be_visible()
    browser_page.get_by_label("Email", exact=True).fill(unique_email("weak"))
    browser_page.get_by_label("Date of birth").fill(ADULT_BIRTH_DATE)
    browser_page.get_by_role("button", name="Create account").click()
    expect(browser_page.get_by_role("alert")).to_contain_text("too common")
    expect(password).to_have_attribute("aria-invalid", "true")
    assert problems_besides(page, 422, "/api/v1/auth/signup") == []


def test_trial_then_the_trial_can_sign_up(page: WatchedPage) -> None:
    browser_page = page.page
    browser_page.goto("/login")
    browser_page.get_by_role("button", name="Try without an account").click()
    expect(browser_page).to_have_url(re.compile(r"/$"))
    browser_page.get_by_role("link", name="Account").click()
    expect(browser_page.get_by_text("without an account")).to_be_visible()
    browser_page.locator(".settings").get_by_role("link", name="Sign up").click()
    expect(browser_page.get_by_text("move into your new account")).to_be_visible()
    sign_up(browser_page, unique_email("trial"))
    expect(browser_page.get_by_role("heading", name="API keys")).to_be_visible()
    assert page.problems == []


PAGES = ["/", "/signup", "/login", "/forgot-password", "/reset-password?token=nope",
         "/verify-email?token=nope", "/account", "/logout"]


def test_pages_have_no_console_errors_on_a_phone_or_a_desktop(new_page: NewPage) -> None:
    for size in [PHONE, None]:
        watched = new_page(*size, is_mobile=True, has_touch=True) if size else new_page()
        for path in PAGES:
            watched.page.goto(path)
            watched.page.wait_for_load_state("networkidle")
            width = watched.page.evaluate("document.documentElement.scrollWidth")
            assert width <= watched.page.viewport_size["width"], path
        sign_up(watched.page, unique_email("pages"))
        for path in ["/account", "/logout", "/forgot-password"]:
            watched.page.goto(path)
            watched.page.wait_for_load_state("networkidle")
            width = watched.page.evaluate("document.documentElement.scrollWidth")
            assert width <= watched.page.viewport_size["width"], path
        watched.page.goto("/forgot-password")
        watched.page.get_by_role("button", name="Send the reset link").click()
        expect(watched.page.get_by_role("status")).to_contain_text("a reset link is on its way")
        assert watched.problems == [], size


def test_two_factor_is_turned_on_and_then_asked_for_at_sign_in(page: WatchedPage,
                                                              new_page: NewPage) -> None:
    email = unique_email("two-factor")
    sign_up(page.page, email)
    two_factor.turn_on(page.page, email)
    page.page.get_by_role("link", name="Done, I saved them").click()
    expect(page.page.locator("#two-factor")).to_contain_text("On")

    other = new_page().page
    other.goto("/login?next=/settings/privacy")
    other.get_by_label("Email").fill(email)
    other.get_by_label("Password", exact=True).fill(PASSWORD)
    other.get_by_role("button", name="Log in", exact=True).click()
    expect(other).to_have_url(re.compile(r"/login/two-factor$"))
    other.get_by_label("Code", exact=True).fill("000000")
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_role("alert")).to_contain_text("That code is not right")
    other.get_by_label("Code", exact=True).fill(two_factor.AUTHENTICATORS[email].next_code())
    other.get_by_role("button", name="Continue").click()
    expect(other).to_have_url(re.compile(r"/settings/privacy$"))
