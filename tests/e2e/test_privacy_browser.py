"""Privacy Settings in a real browser: consent, an export with its progress bar, deletion."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.test_accounts_browser import PASSWORD, sign_up, unique_email

pytestmark = pytest.mark.e2e

TEXT_BESIDE_CHECKBOX = """label => {
  const box = label.querySelector("input").getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(label.lastChild);
  const text = range.getClientRects()[0];
  return text.left >= box.right && text.top < box.bottom && text.bottom > box.top;
}"""


def test_export_with_progress_then_delete_the_account(page: WatchedPage) -> None:
    browser_page = page.page
    sign_up(browser_page, unique_email("privacy"), name="Pia")
    browser_page.get_by_role("link", name="Privacy and data").click()
    expect(browser_page).to_have_url(re.compile(r"/settings/privacy$"))

    analytics = browser_page.locator("#analytics")
    checkbox = analytics.get_by_label("Help improve the service with anonymous usage counts")
    analytics.get_by_text("Help improve the service with anonymous usage counts").click()
    expect(checkbox).to_be_checked()  # the label toggles its checkbox
    assert analytics.locator("label.checkbox").evaluate(TEXT_BESIDE_CHECKBOX)
    analytics.get_by_role("button", name="Save").click()
    expect(analytics.get_by_role("status")).to_have_text("Saved: analytics are on.")
    browser_page.reload()
    expect(checkbox).to_be_checked()
    expect(analytics.get_by_text("Analytics turned on")).to_be_visible()

    browser_page.get_by_role("button", name="Export my data").click()
    panel = browser_page.locator("[data-export-progress]")
    expect(panel).to_be_visible()
    download = panel.get_by_role("link", name="Download the ZIP")
    expect(download).to_be_visible(timeout=20_000)
    expect(browser_page.locator("#export-bar")).to_have_attribute("value", "100")
    with browser_page.expect_download() as fetched:
        download.click()
    assert fetched.value.suggested_filename.startswith("clonechats-export-")

    browser_page.get_by_label("Your password, to confirm").fill(PASSWORD)
    browser_page.once("dialog", lambda dialog: dialog.accept())
    browser_page.get_by_role("button", name="Delete my account").click()
    expect(browser_page).to_have_url(re.compile(r"/$"))
    expect(browser_page.get_by_role("link", name="Log in")).to_be_visible()
    assert page.problems == []
