"""Billing in a real browser through the sandbox: buy a pack, see the credits once, then an
administrator refunds it and the ledger balances; a subscriber changes plan for next month."""

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import two_factor
from tests.e2e.conftest import WELCOME_CREDITS, NewPage, WatchedPage, server_environment
from tests.e2e.mailbox import confirm_email, live_data_dir
from tests.e2e.test_accounts_browser import log_in, sign_up

pytestmark = pytest.mark.e2e

PACK_CREDITS = 200
WELCOME = WELCOME_CREDITS
AFTER_PURCHASE = str(WELCOME + PACK_CREDITS)


def test_buy_a_pack_through_the_sandbox_and_see_the_credits_once(
        page: WatchedPage, tmp_path_factory: pytest.TempPathFactory) -> None:
    browser = page.page
    email = f"buyer-{uuid.uuid4().hex[:10]}@example.com"
    sign_up(browser, email, name="Bea")
    browser.goto("/pricing")
    expect(browser.get_by_text("Confirm your email address to buy")).to_be_visible()
    confirm_email(browser, email, live_data_dir(tmp_path_factory))

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
    expect(browser.locator(".balance")).to_have_text(f"{AFTER_PURCHASE} credits")

    browser.get_by_role("link", name="Go to billing").click()
    expect(browser).to_have_url(re.compile(r"/billing$"))
    expect(browser.locator(".balance")).to_have_attribute("data-balance", AFTER_PURCHASE)
    # The sandbox's webhook is delivered by a background job meanwhile: still one grant.
    browser.wait_for_timeout(2500)
    browser.reload()
    expect(browser.locator(".balance")).to_have_attribute("data-balance", AFTER_PURCHASE)
    expect(browser.locator(".ledger-entry")).to_have_count(1 + (WELCOME > 0))
    expect(browser.locator(".ledger-entry .delta", has_text="+200")).to_have_count(1)
    expect(browser.locator("table.orders tbody tr")).to_have_count(1)
    expect(browser.locator("table.orders")).to_contain_text("Paid")
    assert page.problems == []


def buy_pack(browser: Page) -> str:
    browser.goto("/pricing")
    browser.get_by_role("button", name="Buy 200 credits").click()
    browser.get_by_role("button", name="Pay ₹99.00").click()
    expect(browser.get_by_role("heading", name="Paid")).to_be_visible()
    match = re.search(r"/billing/orders/(ord_[0-9a-f]{24})/return$", browser.url)
    assert match
    return match.group(1)


def make_admin(email: str, data_dir: Path) -> None:
    env = {**server_environment(data_dir), "PATH": os.environ.get("PATH", "")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and command
        [sys.executable, "-m", "clonechats", "admin", "set-role", email, "admin",
         "--data-dir", str(data_dir)], env=env, capture_output=True, text=True, timeout=60,
        check=False)
    assert done.returncode == 0, done.stderr


def test_an_admin_refunds_a_pack_and_the_ledger_balances(
        new_page: NewPage, live_server: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    buyer = new_page()
    buyer_email = f"refundee-{uuid.uuid4().hex[:10]}@example.com"
    sign_up(buyer.page, buyer_email)
    confirm_email(buyer.page, buyer_email, live_data_dir(tmp_path_factory))
    order_id = buy_pack(buyer.page)

    admin = new_page()
    admin_email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    sign_up(admin.page, admin_email)
    make_admin(admin_email, live_data_dir(tmp_path_factory))
    log_in(admin.page, admin_email)  # changing the role signed the admin out
    expect(admin.page).to_have_url(re.compile(r"/account$"))
    two_factor.turn_on(admin.page, admin_email)  # which the admin area requires
    admin.page.goto("/admin/billing")
    expect(admin.page.locator(".ledger-check")).to_be_visible()
    admin.page.locator(f"a[href='/admin/billing/orders/{order_id}']").click()
    expect(admin.page.locator(".order-status")).to_have_text("paid")
    admin.page.once("dialog", lambda dialog: dialog.accept())
    admin.page.get_by_label("Reason").fill("asked by the buyer")
    admin.page.get_by_role("button", name="Refund").click()
    expect(admin.page.locator(".order-status")).to_have_text("refunded")
    admin.page.goto("/admin/billing")
    expect(admin.page.locator(".ledger-check")).to_contain_text("every balance equals")

    buyer.page.goto("/billing")
    expect(buyer.page.locator(".balance")).to_have_attribute("data-balance", str(WELCOME))
    expect(buyer.page.locator(".ledger-entry[data-kind='refund'] .delta")).to_have_text("-200")
    expect(buyer.page.locator("table.orders")).to_contain_text("Refunded")
    assert buyer.problems == [] and admin.problems == []


def test_a_subscriber_changes_plan_for_next_month_and_changes_their_mind(
        page: WatchedPage, tmp_path_factory: pytest.TempPathFactory) -> None:
    browser = page.page
    email = f"plan-{uuid.uuid4().hex[:10]}@example.com"
    sign_up(browser, email, name="Pat")
    confirm_email(browser, email, live_data_dir(tmp_path_factory))
    browser.goto("/pricing")
    browser.get_by_role("button", name="Subscribe to Plus").click()
    browser.get_by_role("button", name="Pay ₹299.00").click()
    expect(browser.get_by_role("heading", name="Paid")).to_be_visible()

    browser.goto("/billing")
    expect(browser.get_by_text(re.compile(r"Your Plus plan renews on"))).to_be_visible()
    change = browser.get_by_role("form", name="Change plan")
    change.get_by_label("New plan").select_option("pro")
    with browser.expect_navigation():  # saved, the page reloads itself
        change.get_by_role("button", name="Change at the end of the month").click()
    expect(browser.locator("[data-plan-change]")).to_contain_text("changes to Pro on")
    expect(browser.locator(".plan-tier")).to_have_text("Plus")  # this month stays as paid
    with browser.expect_navigation():
        browser.get_by_role("button", name="Stay on Plus").click()
    expect(browser.get_by_text(re.compile(r"Your Plus plan renews on"))).to_be_visible()
    expect(browser.locator("[data-plan-change]")).to_have_count(0)
    assert page.problems == []
