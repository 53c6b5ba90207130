"""The header's theme switch in a real browser: a member turns the page dark from the header
with the keyboard, it changes at once and stays dark after a reload and on other pages, and
the account page's Appearance form agrees; it fits a phone's header; visitors have none."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, NewPage
from tests.e2e.test_accounts_browser import log_in, sign_up, unique_email
from tests.e2e.test_appearance_browser import DARK_BG, LIGHT_BG, look, no_horizontal_scroll

pytestmark = pytest.mark.e2e

THEME_SWITCH = re.compile(r"^Theme: ")


def theme_switch(page: Page):
    return page.locator(".site-header").get_by_role("button", name=THEME_SWITCH)


def press_switch(page: Page) -> None:
    """Press the switch from the keyboard and wait for the theme to be saved."""
    with page.expect_response(lambda r: r.url.endswith("/api/v1/account/appearance")
                              and r.request.method == "PATCH") as saved:
        theme_switch(page).focus()
        page.keyboard.press("Enter")
    assert saved.value.status == 200


def test_a_member_turns_the_site_dark_from_the_header(new_page: NewPage) -> None:
    watched = new_page(color_scheme="light")
    page = watched.page
    sign_up(page, unique_email("switch"))
    switch = theme_switch(page)
    expect(switch).to_have_accessible_name("Theme: System")
    assert look(page)["background"] == LIGHT_BG

    press_switch(page)
    expect(switch).to_have_accessible_name("Theme: Light")
    press_switch(page)
    expect(switch).to_have_accessible_name("Theme: Dark")
    assert look(page)["theme"] == "dark" and look(page)["background"] == DARK_BG  # no reload
    appearance = page.get_by_role("region", name="Appearance")
    expect(appearance.get_by_label("Dark")).to_be_checked()

    page.reload()
    assert look(page)["background"] == DARK_BG
    expect(appearance.get_by_label("Dark")).to_be_checked()
    expect(theme_switch(page)).to_have_accessible_name("Theme: Dark")
    page.goto("/personas")
    assert look(page)["theme"] == "dark" and look(page)["background"] == DARK_BG
    expect(theme_switch(page)).to_have_accessible_name("Theme: Dark")

    press_switch(page)  # back to following the device
    expect(theme_switch(page)).to_have_accessible_name("Theme: System")
    assert look(page)["background"] == LIGHT_BG
    page.goto("/account")
    expect(page.get_by_role("region", name="Appearance").get_by_label(
        "System (follow this device)")).to_be_checked()
    assert watched.problems == []


def test_the_switch_fits_a_phone_header_and_visitors_have_none(new_page: NewPage) -> None:
    email = unique_email("phone-switch")
    sign_up(new_page(color_scheme="light").page, email)
    watched = new_page(*PHONE, is_mobile=True, has_touch=True, color_scheme="light")
    page = watched.page
    page.goto("/")
    expect(page.locator("[data-theme-switch]")).to_have_count(0)  # not even rendered
    log_in(page, email)
    expect(page).to_have_url(re.compile(r"/account$"))
    page.goto("/")
    switch = theme_switch(page)
    expect(switch).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_visible()
    header_top = page.locator(".brand").bounding_box()["y"]
    assert abs(switch.bounding_box()["y"] - header_top) < 20  # beside the brand, not wrapped
    no_horizontal_scroll(page)
    with page.expect_response(lambda r: r.url.endswith("/api/v1/account/appearance")):
        switch.tap()
    expect(switch).to_have_accessible_name("Theme: Light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    no_horizontal_scroll(page)
    assert watched.problems == []


def test_a_theme_that_cannot_be_saved_goes_back_and_says_so(new_page: NewPage) -> None:
    watched = new_page(color_scheme="light")
    page = watched.page
    sign_up(page, unique_email("switch-fails"))
    page.route("**/api/v1/account/appearance", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": {"code": "unavailable", "message": "Try later."}}'))
    with page.expect_response(lambda r: r.url.endswith("/api/v1/account/appearance")):
        theme_switch(page).click()
    expect(page.locator("[data-theme-status]")).to_have_text(
        "Could not save the theme. Try again.")
    expect(theme_switch(page)).to_have_accessible_name("Theme: System")
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    page.unroute("**/api/v1/account/appearance")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "system")
    assert [p for p in watched.problems if "503" not in p] == []
