"""The admin console in a real browser, on a desktop and on a 390 px phone: the dashboard's
charts, range picker and CSV link, an error group after a forced error, and the moderation
queue where a reported public persona is hidden (its public link then 404s)."""

import datetime
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import two_factor
from tests.e2e.conftest import DESKTOP, PHONE, NewPage
from tests.e2e.mailbox import confirm_email
from tests.e2e.test_accounts_browser import log_in, sign_up
from tests.e2e.test_billing_browser import live_data_dir, make_admin

pytestmark = pytest.mark.e2e


def csrf_header(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrf_token")
    return {"X-CSRF-Token": token}


def no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.evaluate("window.innerWidth")
    assert width <= viewport, f"{page.url} scrolls sideways: {width} > {viewport}"


@pytest.fixture(scope="module")
def admin_email(browser, live_server, tmp_path_factory) -> str:
    """An administrator of the live server (signed up, promoted with the CLI, then with
    two-factor turned on, which the admin area requires)."""
    email = f"admin-{uuid.uuid4().hex[:10]}@example.com"
    context = browser.new_context(base_url=live_server)
    sign_up(context.new_page(), email)
    context.close()
    make_admin(email, live_data_dir(tmp_path_factory))
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    log_in(page, email)  # the admin area asks for two-factor first
    expect(page).to_have_url(re.compile(r"/account$"))
    two_factor.turn_on(page, email)
    context.close()
    return email


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_dashboard_shows_charts_and_an_error_group(new_page: NewPage, admin_email: str,
                                                       size: tuple[int, int]) -> None:
    watched = new_page(*size)
    page = watched.page
    log_in(page, admin_email)
    expect(page).to_have_url(re.compile(r"/account$"))
    if size == PHONE:
        page.get_by_role("button", name="Menu").click()
    page.get_by_role("link", name="Admin", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible()
    expect(page.locator(".chart-grid svg[role=img]")).to_have_count(13)
    expect(page.get_by_role("img", name="Generations per day")).to_be_visible()
    no_sideways_scroll(page)

    probe = page.request.post("/api/v1/admin/errors/probe", headers=csrf_header(page))
    assert probe.status == 500
    page.reload()
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    errors_bar = page.locator(f"#chart-errors rect[data-day='{today}']")
    assert float(errors_bar.get_attribute("data-value")) >= 1
    page.get_by_role("link", name="All error groups").click()
    expect(page.locator(".error-group").first).to_contain_text("ErrorProbe")
    expect(page.locator(".error-group").first).to_contain_text("/api/v1/admin/errors/probe")
    no_sideways_scroll(page)

    page.goto("/admin")
    start = (datetime.date.fromisoformat(today) - datetime.timedelta(days=2)).isoformat()
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("To", exact=True).fill(today)
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"start={start}&end={today}"))
    expect(page.locator(".range-summary")).to_contain_text(f"{start} to {today} · 3 days")
    csv_href = page.get_by_role("link", name="Download CSV").get_attribute("href")
    csv = page.request.get(csv_href)
    assert csv.status == 200 and csv.text().startswith("day,generations,")
    assert len(csv.text().strip().split("\n")) == 4
    no_sideways_scroll(page)
    assert watched.problems == []


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_reported_persona_is_hidden_from_the_queue(new_page: NewPage, admin_email: str,
                                                     size: tuple[int, int],
                                                     tmp_path_factory) -> None:
    owner = new_page(*size).page
    owner_email = f"owner-{uuid.uuid4().hex[:10]}@example.com"
    sign_up(owner, owner_email)
    confirm_email(owner, owner_email, live_data_dir(tmp_path_factory))  # sharing needs it
    name = f"Grim {uuid.uuid4().hex[:6]}"
    created = owner.request.post("/api/v1/personas", headers=csrf_header(owner), data={
        "name": name, "traits": ["rude"], "visibility": "public"})
    assert created.status == 201, created.text()
    share_id = created.json()["persona"]["share_id"]
    assert share_id

    visitor_watch = new_page(*size)
    visitor = visitor_watch.page
    visitor.goto(f"/p/{share_id}")
    expect(visitor.get_by_role("heading", name=name, exact=True)).to_be_visible()
    visitor.get_by_text("Report this persona").click()
    visitor.get_by_label("What is wrong with it?").fill("It insults everyone who talks to it")
    visitor.get_by_role("button", name="Send report").click()
    expect(visitor.get_by_role("status")).to_contain_text("A moderator will look")
    no_sideways_scroll(visitor)

    admin_watch = new_page(*size)
    admin = admin_watch.page
    log_in(admin, admin_email)
    expect(admin).to_have_url(re.compile(r"/account$"))
    admin.goto("/admin/moderation")
    item = admin.locator(".queue-item", has_text=f"Persona “{name}”")
    expect(item).to_be_visible()
    expect(item).to_contain_text("It insults everyone who talks to it")
    no_sideways_scroll(admin)
    item.get_by_label("Note for the audit log").fill("abusive persona")
    admin.once("dialog", lambda dialog: dialog.accept())
    item.get_by_role("button", name="Hide").click()
    expect(admin.locator(".queue-item", has_text=f"Persona “{name}”")).to_have_count(0)

    response = visitor.goto(f"/p/{share_id}")
    assert response is not None and response.status == 404
    assert admin_watch.problems == []
    assert [p for p in visitor_watch.problems if "404" not in p] == []


def test_every_admin_page_fits_a_phone(new_page: NewPage, admin_email: str) -> None:
    watched = new_page(*PHONE)
    page = watched.page
    log_in(page, admin_email)
    expect(page).to_have_url(re.compile(r"/account$"))
    page.goto("/contact")
    no_sideways_scroll(page)
    me = page.request.get("/api/v1/auth/me").json()["user"]["id"]
    for path in ("/admin", "/admin/moderation?status=all", "/admin/inbox", "/admin/users",
                 f"/admin/users/{me}", "/admin/fraud", "/admin/errors", "/admin/billing",
                 "/admin/privacy/requests", "/admin/usage"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        no_sideways_scroll(page)
    assert watched.problems == []
