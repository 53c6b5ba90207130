"""The theme and text size in a real browser: a member picks Dark and Large text on the account
page, and every page is served that way from the first paint, whatever the device prefers;
a visitor's pages follow the device."""


import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, NewPage
from tests.e2e.test_accounts_browser import sign_up, unique_email

pytestmark = pytest.mark.e2e

SIZES = pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
LIGHT_BG, DARK_BG = "rgb(247, 247, 251)", "rgb(18, 18, 24)"


def open_page(new_page: NewPage, size: tuple[int, int], **options):
    if size == PHONE:
        options.update(is_mobile=True, has_touch=True)
    return new_page(*size, **options)


def look(page: Page) -> dict[str, str]:
    return page.evaluate("""() => ({
      theme: document.documentElement.dataset.theme,
      textSize: document.documentElement.dataset.textSize,
      background: getComputedStyle(document.body).backgroundColor,
      rootFont: getComputedStyle(document.documentElement).fontSize,
    })""")


def no_horizontal_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@SIZES
def test_a_members_theme_and_text_size_apply_on_every_page(new_page: NewPage, size) -> None:
    watched = open_page(new_page, size, color_scheme="light")
    page = watched.page
    sign_up(page, unique_email("look"))
    assert look(page) == {"theme": "system", "textSize": "normal", "background": LIGHT_BG,
                          "rootFont": "16px"}

    appearance = page.get_by_role("region", name="Appearance")
    appearance.get_by_label("Dark").check()
    appearance.get_by_label("Large").focus()
    page.keyboard.press("Space")
    with page.expect_navigation():
        appearance.get_by_role("button", name="Save appearance").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    chosen = {"theme": "dark", "textSize": "large", "background": DARK_BG, "rootFont": "19px"}
    assert look(page) == chosen
    expect(appearance.get_by_label("Dark")).to_be_checked()
    no_horizontal_scroll(page)

    for path in ("/", "/personas", "/chat", "/privacy"):
        served = page.request.get(path, headers={"Accept": "text/html"}).text()
        assert '<html lang="en" data-theme="dark" data-text-size="large">' in served, path
        page.goto(path)
        assert look(page) == chosen, path
        no_horizontal_scroll(page)
    assert watched.problems == []


@SIZES
def test_a_visitors_pages_follow_the_device(new_page: NewPage, size) -> None:
    for scheme, background in (("dark", DARK_BG), ("light", LIGHT_BG)):
        watched = open_page(new_page, size, color_scheme=scheme)
        page = watched.page
        page.goto("/")
        assert look(page) == {"theme": "system", "textSize": "normal",
                              "background": background, "rootFont": "16px"}
        no_horizontal_scroll(page)
        assert watched.problems == []
