"""Every page a signed-up administrator can reach, on a 390 px phone: none scrolls sideways,
and neither does the `index.html` of their data export."""

import io
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import two_factor
from tests.e2e.conftest import PHONE, NewPage
from tests.e2e.mailbox import confirm_email, live_data_dir
from tests.e2e.test_accounts_browser import log_in, sign_up, unique_email
from tests.e2e.test_admin_browser import csrf_header, no_sideways_scroll
from tests.e2e.test_billing_browser import buy_pack, make_admin

pytestmark = pytest.mark.e2e

PUBLIC_PAGES = ("/", "/pricing", "/explore", "/privacy", "/cookies", "/security", "/terms",
                "/contact")
MEMBER_PAGES = ("/personas", "/personas/new", "/personas/favourites", "/chat", "/rooms",
                "/rooms/new", "/clips", "/billing", "/account", "/settings/privacy")
ADMIN_PAGES = ("/admin", "/admin/moderation?status=all", "/admin/inbox", "/admin/users",
               "/admin/fraud", "/admin/errors", "/admin/billing", "/admin/privacy/requests",
               "/admin/usage", "/admin/outbox")


ONE_LINE_DAYS = """[...document.querySelectorAll(".usage-days td.when")].every(cell => {
  const range = document.createRange();
  range.selectNodeContents(cell);
  return range.getClientRects().length === 1;
})"""


def make_public_persona(page: Page) -> tuple[str, str]:
    created = page.request.post("/api/v1/personas", headers=csrf_header(page), data={
        "name": "Marguerite Fontaine-Delacroix", "tagline": "Talks about very long words",
        "traits": ["curious", "antidisestablishmentarian"], "greeting": "Bonjour !",
        "visibility": "public"})
    assert created.status == 201, created.text()
    persona = created.json()["persona"]
    return persona["id"], persona["share_id"]


def start_conversation(page: Page, persona_id: str) -> str:
    started = page.request.post("/api/v1/conversations", headers=csrf_header(page),
                                data={"persona_id": persona_id})
    assert started.status == 201, started.text()
    return started.json()["conversation"]["id"]


def report(page: Page, share_id: str) -> None:
    sent = page.request.post(f"/api/v1/public/personas/{share_id}/report",
                             headers=csrf_header(page), data={"reason": "checking the queue"})
    assert sent.status == 202, sent.text()


def export_index(page: Page) -> str:
    """The `index.html` of a fresh export, made from the privacy centre."""
    page.goto("/settings/privacy")
    page.get_by_role("button", name="Export my data").click()
    download = page.locator("[data-export-progress]").get_by_role("link",
                                                                  name="Download the ZIP")
    expect(download).to_be_visible(timeout=20_000)
    archive = page.request.get(download.get_attribute("href"))
    assert archive.status == 200
    return zipfile.ZipFile(io.BytesIO(archive.body())).read("index.html").decode()


def sideways_overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def widths_over(page: Page, paths: list[str]) -> dict[str, int]:
    """How far each page that scrolls sideways is wider than the phone."""
    over = {}
    for path in paths:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        if sideways_overflow(page) > 0:
            over[path] = sideways_overflow(page)
    return over


def test_every_page_fits_a_phone(new_page: NewPage,
                                 tmp_path_factory: pytest.TempPathFactory) -> None:
    watched = new_page(*PHONE)
    page = watched.page
    email = unique_email("phone")
    data_dir = live_data_dir(tmp_path_factory)
    sign_up(page, email, name="Pat")
    confirm_email(page, email, data_dir)
    order_id = buy_pack(page)
    persona_id, share_id = make_public_persona(page)
    conversation_id = start_conversation(page, persona_id)
    report(page, share_id)
    make_admin(email, data_dir)
    log_in(page, email)  # changing the role signed them out
    expect(page).to_have_url(re.compile(r"/account$"))
    two_factor.turn_on(page, email)  # which the admin area requires
    me = page.request.get("/api/v1/auth/me").json()["user"]["id"]
    page.get_by_role("button", name="Menu").click()
    main_menu = page.get_by_role("navigation", name="Main")
    expect(main_menu.get_by_role("link", name="Admin", exact=True)).to_be_visible()

    page.goto("/admin/moderation?status=all")
    flag_page = page.locator("a[href^='/admin/moderation/']", has_text="Details").first
    paths = [*PUBLIC_PAGES, *MEMBER_PAGES, f"/personas/{persona_id}",
             f"/personas/{persona_id}/edit", f"/p/{share_id}", f"/chat/{conversation_id}",
             f"/billing/orders/{order_id}/return", *ADMIN_PAGES, f"/admin/users/{me}",
             f"/admin/billing/orders/{order_id}", flag_page.get_attribute("href")]
    assert widths_over(page, paths) == {}

    page.goto(f"/admin/billing/orders/{order_id}")
    created = page.locator(".facts time").first
    expect(created).not_to_contain_text("UTC")  # shown in the reader's time zone
    expect(created).to_have_attribute("title", re.compile(r" UTC$"))
    page.goto("/admin/usage?days=30")
    assert page.evaluate(ONE_LINE_DAYS), "a day in the usage table wraps"

    index = export_index(page)
    page.goto("about:blank")  # as opened from the unzipped folder: without the site's CSP
    page.set_content(index)
    no_sideways_scroll(page)
    assert watched.problems == []
