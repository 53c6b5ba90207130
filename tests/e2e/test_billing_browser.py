"""Buying a credit pack in a real browser through the sandbox: pricing, checkout, credits once."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.test_accounts_browser import sign_up

pytestmark = pytest.mark.e2e

PACK_CREDITS = "200"


def test_buy_a_pack_through_the_sandbox_and_see_the_credits_once(page: WatchedPage) -> None:
    browser = page.page
    sign_up(browser, f"buyer-{uuid.uuid4().hex[:10]}@example.com", name="Bea")

    browser.goto("/pricing")
    expect(browser.get_by_role("heading", name="Pricing")).to_be_visible()
    expect(browser.get_by_text("Test payments.")).to_be_visible()
    browser.get_by_role("button", name="Buy 200 credits").click()

    expect(browser).to_have_url(re.compile(r"/billing/sandbox/checkout/ord_[0-9a-f]{24}$"))
    expect(browser.get_by_role("heading", name="Sandbox checkout")).to_be_visible()
    expect(browser.locator(".amount")).to_have_text("₹99.00")
    browser.get_by_role("button", name="Pay ₹99.00").click()

    expect(browser).to_have_url(re.compile(r"/billing/orders/ord_[0-9a-f]{24}/return$"))
    expect(browser.get_by_role("heading", name="Paid")).to_be_visible()
    expect(browser.locator(".balance")).to_have_text(f"{PACK_CREDITS} credits")

    browser.get_by_role("link", name="Go to billing").click()
    expect(browser).to_have_url(re.compile(r"/billing$"))
    expect(browser.locator(".balance")).to_have_attribute("data-balance", PACK_CREDITS)
    # The sandbox's webhook is delivered by a background job meanwhile: still one grant.
    browser.wait_for_timeout(2500)
    browser.reload()
    expect(browser.locator(".balance")).to_have_attribute("data-balance", PACK_CREDITS)
    expect(browser.locator(".ledger-entry")).to_have_count(1)
    expect(browser.locator(".ledger-entry .delta")).to_have_text("+200")
    expect(browser.locator("table.orders tbody tr")).to_have_count(1)
    expect(browser.locator("table.orders")).to_contain_text("Paid")
    assert page.problems == []
