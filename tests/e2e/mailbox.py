"""Reading the live server's queued emails from its database, as a person reads their inbox.

The test server runs in its own process on the embedded engine; a second client on the same
files may read them (writes are serialised across processes by the engine's lock).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import server_environment

READ_LINK = """
import asyncio, re, sys
from pathlib import Path
from clonechats.storage import connect

async def main(data_dir, to, path):
    connection = await connect(None, data_dir=Path(data_dir))
    jobs = await connection.db.jobs.find({"kind": "email.send", "payload.to": to}).to_list()
    await connection.close()
    for job in sorted(jobs, key=lambda j: j["created_at"], reverse=True):
        found = re.search(re.escape(path) + r"[?]token=([A-Za-z0-9_-]+)", job["payload"]["text"])
        if found:
            print(found.group(1))
            return
    sys.exit("no such email")

asyncio.run(main(*sys.argv[1:]))
"""


def live_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The live server's data directory (the `live_server` fixture's first temporary folder)."""
    data_dir = tmp_path_factory.getbasetemp() / "live-server0" / "data"
    assert data_dir.is_dir()
    return data_dir


def link_token(email: str, path: str, data_dir: Path) -> str:
    env = {**server_environment(data_dir), "PATH": os.environ.get("PATH", "")}
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", READ_LINK, str(data_dir), email, path], env=env,
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    return token


def confirm_email(page: Page, email: str, data_dir: Path) -> None:
    """Open the confirmation link emailed at sign-up and press the button (buying and sharing
    need a confirmed address)."""
    page.goto(f"/verify-email?token={link_token(email, '/verify-email', data_dir)}")
    page.get_by_role("button", name="Confirm my email").click()
    expect(page.get_by_text("your email address is confirmed")).to_be_visible()
