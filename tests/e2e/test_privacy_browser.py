"""Privacy Settings in a real browser: consent, an export with its progress bar, deletion."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.test_accounts_browser import PASSWORD, problems_besides, sign_up, unique_email
from tests.e2e.test_chat_browser import csrf_header

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


def test_nothing_is_reported_before_consent_nor_for_an_error_page(page: WatchedPage) -> None:
    browser_page = page.page
    reported: list[dict] = []
    browser_page.on("request", lambda request: reported.append(request.post_data_json)
                    if request.url.endswith("/api/v1/privacy/analytics/event") else None)
    sign_up(browser_page, unique_email("counted"), name="Cal")
    browser_page.wait_for_load_state("networkidle")  # the account page's own check is done
    with browser_page.expect_response(re.compile(r"/api/v1/privacy/analytics$")) as state:
        browser_page.goto("/personas")
    assert state.value.json() == {"counting": False}
    with browser_page.expect_response(re.compile(r"/api/v1/privacy/analytics$")):
        browser_page.goto("/settings/privacy")
    assert reported == []

    opted = browser_page.request.patch("/api/v1/privacy/settings", data={"analytics_opt_in": True},
                                       headers=csrf_header(browser_page))
    assert opted.status == 200, opted.text()
    with browser_page.expect_response(re.compile(r"/api/v1/privacy/analytics$")) as state:
        browser_page.goto("/no-such-page")
    assert state.value.json() == {"counting": True}
    with browser_page.expect_response(re.compile(r"/analytics/event$")) as counted:
        browser_page.goto("/personas")
    assert counted.value.status == 200 and counted.value.json() == {"counted": True}
    assert reported == [{"kind": "page", "name": "/personas"}]
    assert problems_besides(page, 404, "/no-such-page") == []
