"""A debate in a real browser: the owner sets it up with the form, shares it and starts it; a
second browser context (a visitor on a phone, through the share link) watches it live; both
see it run to its summary. The server's model is `FakeOpenAI` over loopback HTTP, for speed
(`tests/fakes/openai_loopback.py`); everything else is the real server."""

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import (
    PHONE,
    NewPage,
    free_port,
    server_environment,
    wait_until_ready,
)
from tests.fakes.openai_loopback import LoopbackOpenAI

pytestmark = pytest.mark.e2e

PASSWORD = "violet kettle harbour lamp"
DEBATE_LIMIT_MS = 90_000
LIVE_TURN = """() => {
  const text = document.querySelector(".turn-persona [data-turn-text]");
  const status = document.querySelector("[data-room-status]");
  return Boolean(text && text.textContent.trim()) && status.textContent.trim() === "Live";
}"""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This module's own server, its model the loopback OpenAI fake, accounts with credits."""
    root = tmp_path_factory.mktemp("rooms-server")
    data_dir, log_path = root / "data", root / "server.log"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with LoopbackOpenAI(chunk_delay=0.15) as fake, log_path.open("wb") as log:
        env = {**server_environment(data_dir), **fake.environment(),
               "CLONECHATS_ACCOUNTS__WELCOME_CREDITS": "5000", "CLONECHATS_PUBLIC_URL": url,
               "CLONECHATS_JOBS__POLL_SECONDS": "0.1",
               "CLONECHATS_ROOMS__VIEWER_POLL_SECONDS": "0.1"}
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "clonechats", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--data-dir", str(data_dir), "--dev"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
        try:
            wait_until_ready(url, process, Path(log_path))
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def csrf_header(page: Page) -> dict[str, str]:
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrf_token")
    return {"X-CSRF-Token": token}


def sign_up(page: Page) -> None:
    page.goto("/signup")
    page.get_by_label("Email", exact=True).fill(f"debate-{uuid.uuid4().hex[:10]}@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Date of birth").fill("1990-04-02")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/account$"))


def persona(page: Page, name: str, tagline: str) -> None:
    response = page.request.post("/api/v1/personas", headers=csrf_header(page), data={
        "name": name, "tagline": tagline, "traits": ["direct"], "sliders": {},
        "visibility": "private"})
    assert response.status == 201, response.text()


def test_a_debate_runs_to_its_summary_while_a_visitor_watches(new_page: NewPage) -> None:
    owner_view = new_page()
    owner = owner_view.page
    sign_up(owner)
    owner.goto("/rooms")
    expect(owner.get_by_text("No debates yet")).to_be_visible()
    persona(owner, "Ada", "A careful logician")
    persona(owner, "Bo", "A bold optimist")

    owner.get_by_role("link", name="New debate").click()
    owner.get_by_label("Topic").fill("Should cities ban cars?")
    owner.get_by_label("Ada").check()
    owner.get_by_label("Bo").check()
    owner.get_by_label("Rounds").fill("2")
    owner.get_by_role("button", name="Create debate").click()
    # the first moderation check loads the offline classifiers
    expect(owner).to_have_url(re.compile(r"/rooms/[0-9a-f]{24}$"), timeout=60_000)
    expect(owner.get_by_role("heading", name="Should cities ban cars?")).to_be_visible()

    owner.get_by_text("Share or delete").click()
    owner.get_by_role("button", name="Create a share link").click()
    share_url = owner.get_by_label("Share link")
    expect(share_url).to_have_value(re.compile(r"/r/[A-Za-z0-9_-]+$"))

    visitor_view = new_page(*PHONE, is_mobile=True, has_touch=True)
    visitor = visitor_view.page
    visitor.goto(share_url.input_value())
    expect(visitor.get_by_role("heading", name="Should cities ban cars?")).to_be_visible()
    expect(visitor.locator("[data-room-status]")).to_have_text("Ready to start")

    owner.get_by_role("button", name="Start the debate").click()
    # the visitor sees a speaker's words arrive while the debate is still live
    visitor.wait_for_function(LIVE_TURN, timeout=DEBATE_LIMIT_MS)

    for page in (owner, visitor):
        summary = page.locator("[data-summary]")
        expect(summary).to_be_visible(timeout=DEBATE_LIMIT_MS)
        expect(page.locator("[data-room-status]")).to_have_text("Finished")
        turns = page.locator("[data-transcript] .turn-persona")
        expect(turns).to_have_count(4)
        order = page.locator("[data-speakers] .speaker-name").all_inner_texts()
        assert sorted(order) == ["Ada", "Bo"]
        assert turns.locator(".turn-speaker").all_inner_texts() == order * 2
        expect(page.locator("[data-transcript] .turn-moderator").first).to_contain_text(
            "Welcome to this debate")
    owner_texts = owner.locator("[data-transcript] [data-turn-text]").all_inner_texts()
    visitor_texts = visitor.locator("[data-transcript] [data-turn-text]").all_inner_texts()
    assert owner_texts == visitor_texts
    assert int(owner.locator("[data-room-cost]").inner_text()) > 0
    assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
    assert "@example.com" not in visitor.content()

    owner.get_by_role("button", name="Ask for a verdict").click()
    expect(owner.locator("[data-verdict]")).to_be_visible(timeout=DEBATE_LIMIT_MS)
    assert owner_view.problems == [] and visitor_view.problems == []
