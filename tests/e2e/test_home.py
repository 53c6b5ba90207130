"""The home page in a real browser: no console errors, and navigation on a phone and a desktop."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, NewPage, WatchedPage

pytestmark = pytest.mark.e2e

POLICY_PAGES = [("/privacy", "Privacy"), ("/cookies", "Cookies"), ("/security", "Security")]


def open_home(watched: WatchedPage) -> None:
    response = watched.page.goto("/", wait_until="load")
    assert response is not None and response.status == 200
    expect(watched.page.locator("h1")).to_have_text("Talk with personas you create")


def follow_footer_links(watched: WatchedPage) -> None:
    page = watched.page
    for href, heading in POLICY_PAGES:
        with page.expect_navigation() as navigation:
            page.locator(f".site-footer a[href='{href}']").click()
        assert navigation.value is not None and navigation.value.status == 200
        expect(page).to_have_url(re.compile(re.escape(href) + "$"))
        expect(page.locator("h1")).to_have_text(heading)
        page.go_back()
        expect(page.locator("h1")).to_have_text("Talk with personas you create")


def test_home_page_loads_without_console_errors(page: WatchedPage) -> None:
    open_home(page)
    page.page.wait_for_load_state("networkidle")
    assert page.problems == []


def test_desktop_shows_the_navigation_links_and_footer_links_load(page: WatchedPage) -> None:
    open_home(page)
    toggle = page.page.locator(".nav-toggle")
    nav = page.page.locator("#site-nav")
    expect(toggle).to_be_hidden()
    expect(nav).to_be_visible()
    links = nav.locator("a")
    assert links.count() >= 1
    for index in range(links.count()):
        expect(links.nth(index)).to_be_visible()
    expect(nav.locator("a[href='/']")).to_have_attribute("aria-current", "page")

    follow_footer_links(page)
    assert page.problems == []


def test_phone_menu_opens_closes_and_navigates(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True)
    open_home(watched)
    page = watched.page
    toggle = page.locator(".nav-toggle")
    nav = page.locator("#site-nav")

    expect(toggle).to_be_visible()
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")

    toggle.tap()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(nav.locator("a[href='/']")).to_be_visible()

    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()

    toggle.tap()
    expect(nav).to_be_visible()
    with page.expect_navigation() as navigation:
        nav.locator("a[href='/']").tap()
    assert navigation.value is not None and navigation.value.status == 200
    expect(page.locator("h1")).to_have_text("Talk with personas you create")
    expect(nav).to_be_hidden()  # a fresh page starts with the menu closed

    follow_footer_links(watched)
    assert watched.problems == []


def test_phone_layout_does_not_scroll_sideways(new_page: NewPage) -> None:
    watched = new_page(*PHONE, is_mobile=True, has_touch=True)
    for path in ["/", *(href for href, _heading in POLICY_PAGES)]:
        watched.page.goto(path)
        scroll_width = watched.page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= PHONE[0], f"{path} is wider than the phone"
    assert watched.problems == []


def test_unknown_page_shows_the_site_error_page(page: WatchedPage) -> None:
    response = page.page.goto("/no/such/page")
    assert response is not None and response.status == 404
    expect(page.page.locator("h1")).to_have_text("Page not found")
    page.page.locator("a", has_text="Back to the home page").click()
    expect(page.page.locator("h1")).to_have_text("Talk with personas you create")
    assert DESKTOP[0] > PHONE[0]
