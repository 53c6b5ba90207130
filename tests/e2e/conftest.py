"""Browser tests: a real server process and Debian's Chromium driven by Playwright.

Fixtures for every e2e module:
- `live_server`: the base URL of `clonechats serve --dev` running in a subprocess on a free
  loopback port, with a data directory of its own (one server for the whole session).
- `browser`: headless Chromium (`/usr/bin/chromium`), launched once per test module.
- `new_page(width=, height=, **context_options)`: a page in a fresh browser context (its own
  cookies) whose console errors, uncaught exceptions and failed requests are collected in
  `.problems`; `page` is one such page at a desktop size.

Playwright's own browser download is never used: the tests need the system Chromium
(`apt-get install chromium`, which `make test` does when it is missing).
"""

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    expect,
    sync_playwright,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_LIMIT_S = 60.0
DESKTOP = (1280, 800)
PHONE = (390, 844)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


WELCOME_CREDITS = 0
"""New accounts on the test server start with no credits, so a fresh account meets the
paywall and a purchase shows exactly what it bought."""


def server_environment(data_dir: Path) -> dict[str, str]:
    """The caller's environment without CLONECHATS_* settings, plus what the test server needs."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLONECHATS_")}
    env.update({
        "CLONECHATS_DATA_DIR": str(data_dir),
        "CLONECHATS_DEV_MODE": "1",
        "CLONECHATS_LOG_JSON": "1",
        "CLONECHATS_ACCOUNTS__WELCOME_CREDITS": str(WELCOME_CREDITS),
        # every browser test comes from 127.0.0.1, and several modules start a trial
        "CLONECHATS_ACCOUNTS__TRIALS_PER_ADDRESS_PER_DAY": "100",
        # The light local model (98 MB, loaded in the background at start-up), not the 1.5B.
        "CLONECHATS_LLM__LOCAL_MODELS": '["smollm2-135m"]',
    })
    return env


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_LIMIT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"the server did not become ready:\n{log_path.read_text()}")


SERVER_LOGS: list[Path] = []
"""Every test server's log, so a failing browser test's report can show what the server saw."""
LOG_LINES_ON_FAILURE = 40


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        for log_path in SERVER_LOGS:
            with contextlib.suppress(OSError):
                tail = log_path.read_text(errors="replace").splitlines()[-LOG_LINES_ON_FAILURE:]
                report.sections.append((f"server log {log_path}", "\n".join(tail)))
    return report


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("live-server")
    data_dir = root / "data"
    log_path = root / "server.log"
    SERVER_LOGS.append(log_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "clonechats", "serve", "--host", "127.0.0.1",
             "--port", str(port), "--data-dir", str(data_dir), "--dev"],
            stdout=log, stderr=subprocess.STDOUT, env=server_environment(data_dir), cwd=root,
        )
        try:
            wait_until_ready(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: while Playwright's sync API is running it leaves its event loop
    # marked as running in this thread, which would stop the async tests of later modules.
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs it "
                    "(or: apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class WatchedPage:
    """A page and everything that went wrong on it: console errors, uncaught exceptions and
    requests that failed outright."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def watch(self) -> "WatchedPage":
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"exception: {error}"))
        self.page.on("requestfailed", self._on_request_failed)
        return self

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text} ({message.location.get('url')})")

    def _on_request_failed(self, request: Request) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # leaving a page cancels what it was still fetching (the icon, say)
        self.problems.append(f"request failed: {request.url} {request.failure}")


NewPage = Callable[..., WatchedPage]


@pytest.fixture
def new_page(browser: Browser, live_server: str) -> Iterator[NewPage]:
    contexts = []

    def open_page(width: int = DESKTOP[0], height: int = DESKTOP[1],
                  **context_options: Any) -> WatchedPage:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      base_url=live_server, **context_options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return WatchedPage(context.new_page()).watch()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: NewPage) -> WatchedPage:
    return new_page(*DESKTOP)


def message_box(page: Page, persona_name: str) -> Locator:
    """The chat page's message box, once the page's script has bound its handlers (before
    that, Enter would only add a new line)."""
    expect(page.locator("[data-chat][data-ready]")).to_be_attached()
    return page.get_by_label(f"Message to {persona_name}")
