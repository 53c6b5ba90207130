"""A paid pack's receipt in a real browser: reached from the order, readable on a desktop and a
phone without sideways scrolling, printed black on white without the site's navigation."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, WatchedPage
from tests.e2e.mailbox import confirm_email, live_data_dir
from tests.e2e.test_accounts_browser import sign_up, unique_email
from tests.e2e.test_billing_browser import buy_pack

pytestmark = pytest.mark.e2e

WHITE, BLACK = "rgb(255, 255, 255)", "rgb(0, 0, 0)"


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_a_bought_pack_has_a_print_ready_receipt(
        page: WatchedPage, tmp_path_factory: pytest.TempPathFactory) -> None:
    browser = page.page
    email = unique_email("receipt")
    sign_up(browser, email, name="Bea")
    confirm_email(browser, email, live_data_dir(tmp_path_factory))
    order_id = buy_pack(browser)

    browser.get_by_role("link", name="View receipt").click()
    expect(browser).to_have_url(re.compile(rf"/billing/orders/{order_id}/receipt$"))
    receipt = browser.get_by_role("article", name="Receipt")
    expect(receipt.locator(".receipt-number")).to_have_text(
        "R-" + order_id.removeprefix("ord_").upper())
    expect(receipt.locator(".receipt-buyer")).to_have_text(email)
    expect(receipt.locator(".receipt-total")).to_have_text("₹99.00")
    expect(receipt).to_contain_text("200 credits")
    expect(receipt.locator(".receipt-date time")).not_to_contain_text("UTC")  # local time
    assert sideways_overflow(browser) <= 0

    browser.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    receipt.get_by_role("button", name="Print or save as PDF").click()
    expect(browser.locator("body")).to_have_attribute("data-printed", "yes")

    browser.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
    browser.reload()
    expect(receipt.locator(".receipt-total")).to_have_text("₹99.00")
    assert sideways_overflow(browser) <= 0

    browser.set_viewport_size({"width": DESKTOP[0], "height": DESKTOP[1]})
    browser.emulate_media(media="print")
    expect(browser.locator(".site-header")).to_be_hidden()
    expect(browser.locator(".site-footer")).to_be_hidden()
    expect(receipt.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
    expect(receipt.locator(".receipt-total")).to_be_visible()
    colours = browser.evaluate("""() => ({
      background: getComputedStyle(document.body).backgroundColor,
      text: getComputedStyle(document.querySelector('.receipt')).color,
    })""")
    assert colours == {"background": WHITE, "text": BLACK}
    browser.emulate_media(media="screen")
    expect(browser.locator(".site-header")).to_be_visible()

    browser.goto("/billing")
    browser.locator("table.orders").get_by_role("link", name="Receipt").click()
    expect(browser).to_have_url(re.compile(rf"/billing/orders/{order_id}/receipt$"))
    assert page.problems == []
