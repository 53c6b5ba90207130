"""The `clonechats` command: help, the admin jobs report, and a worker that stops cleanly."""

import asyncio
import logging
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clonechats.cli import app
from clonechats.clock import FrozenClock
from clonechats.jobs import repo
from clonechats.jobs.runner import JobRunner
from clonechats.jobs.service import JobRegistry, enqueue
from clonechats.settings import JobSettings
from clonechats.storage import apply_indexes, connect

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No CLONECHATS_* variables or .env from the machine; the logging set-up the commands do
    is undone afterwards."""
    for name in list(os.environ):
        if name.upper().startswith("CLONECHATS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("serve", "worker", "admin"):
        assert command in result.output


def test_serve_help_shows_its_options() -> None:
    result = runner.invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--data-dir", "--dev"):
        assert option in result.output


def test_module_entry_point_runs() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "clonechats", "admin", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "jobs" in completed.stdout


def test_admin_jobs_on_an_empty_data_dir_reports_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["admin", "jobs", "--data-dir", str(tmp_path / "fresh")])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == ""
    assert (tmp_path / "fresh").is_dir()


async def seed_jobs(data_dir: Path) -> str:
    """Two queued jobs and one dead-lettered one; returns the dead job's id."""
    connection = await connect(None, data_dir=data_dir)
    try:
        await apply_indexes(connection.db, repo.INDEXES)
        clock = FrozenClock()
        dead = await enqueue(connection.db, "nobody.handles", {}, clock=clock)
        jobs = JobRunner(db=connection.db, registry=JobRegistry(), context=None, clock=clock,
                         settings=JobSettings())
        await jobs.run_until_idle()
        for number in range(2):
            await enqueue(connection.db, "later.work", {"n": number}, clock=clock)
        return dead["_id"]
    finally:
        await connection.close()


def test_admin_jobs_counts_by_status_and_lists_dead_letters(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    dead_id = asyncio.run(seed_jobs(data_dir))

    result = runner.invoke(app, ["admin", "jobs", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["dead", "1"]
    assert lines[1].split() == ["queued", "2"]
    assert lines[2].startswith(f"dead {dead_id} nobody.handles: ")
    assert "UnknownJobKind" in lines[2]


def test_data_dir_can_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = tmp_path / "from-env"
    asyncio.run(seed_jobs(data_dir))
    monkeypatch.setenv("CLONECHATS_DATA_DIR", str(data_dir))
    result = runner.invoke(app, ["admin", "jobs"])
    assert result.exit_code == 0
    assert "queued" in result.stdout


WORKER_START_LIMIT_S = 120


def first_line(process: subprocess.Popen[str], within_s: float) -> str | None:
    """The first line the process writes to its stdout, or None if none came in time."""
    assert process.stdout is not None
    waiting = selectors.DefaultSelector()
    waiting.register(process.stdout, selectors.EVENT_READ)
    ready = waiting.select(timeout=within_s)
    waiting.close()
    return process.stdout.readline() if ready else None


def test_worker_starts_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("CLONECHATS_")}
    env["CLONECHATS_LOG_JSON"] = "0"
    log = tmp_path / "worker.log"
    with log.open("w") as errors:  # a file, not a pipe: nothing the worker logs can block it
        worker = subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-m", "clonechats", "worker", "--data-dir", str(tmp_path / "data")],
            stdout=subprocess.PIPE, stderr=errors, text=True, env=env, cwd=tmp_path,
        )
    try:
        line = first_line(worker, WORKER_START_LIMIT_S)
        assert line is not None, f"no start line in {WORKER_START_LIMIT_S} s:\n{log.read_text()}"
        assert line.startswith("worker ") and "job kinds" in line, (line, log.read_text())
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
        if worker.stdout is not None:
            worker.stdout.close()


def served_public_url(monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    """The public URL the app `clonechats serve ARGS` would run with."""
    import uvicorn

    import clonechats.app

    built: list[str] = []
    monkeypatch.setattr(clonechats.app, "create_app",
                        lambda settings: built.append(settings.public_url) or "app")
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    result = runner.invoke(app, ["serve", *args])
    assert result.exit_code == 0, result.output
    return built[0]


def test_serve_links_follow_the_port_it_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    assert served_public_url(monkeypatch, "--port", "9123") == "http://127.0.0.1:9123"
    assert (served_public_url(monkeypatch, "--host", "localhost", "--port", "8080")
            == "http://localhost:8080")
    assert (served_public_url(monkeypatch, "--host", "0.0.0.0", "--port", "8443")  # noqa: S104
            == "http://127.0.0.1:8443")
    assert served_public_url(monkeypatch, "--host", "::1", "--port", "81") == "http://[::1]:81"


def test_serve_keeps_a_public_url_that_was_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLONECHATS_PUBLIC_URL", "https://chats.example.com")
    assert served_public_url(monkeypatch, "--port", "9123") == "https://chats.example.com"
