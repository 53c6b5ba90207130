"""Shared fixtures: an app on a fresh embedded database, an async client, a movable clock.

Jobs do not run in the background during tests: call `run_jobs()` to run what is due, so every
test decides when work happens.

With `CLONECHATS_TEST_ENGINE=mongodb` every app these fixtures build runs on MongoDB (the server
`tests.mongodb_server` provides, a fresh database per test, dropped afterwards) instead of the
embedded engine: `make test` runs the app's cross-domain tests a second time that way.
"""

import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from clonechats.app import create_app
from clonechats.clock import FrozenClock
from clonechats.context import AppContext
from clonechats.jobs.runner import JobRunner
from clonechats.settings import AccountSettings, JobSettings, LLMSettings, Settings
from tests import mongodb_server, s3_server
from tests.factories import log_in, make_user

TEST_SECRET = "test-secret-" + "x" * 40
ENGINE_VARIABLE = "CLONECHATS_TEST_ENGINE"


def engine_overrides(data_dir: Path) -> dict[str, object]:
    """Settings that put a test app on the engine `CLONECHATS_TEST_ENGINE` names. On MongoDB the
    database is named after the data directory, so apps that share one (a restart) share it."""
    engine = os.environ.get(ENGINE_VARIABLE, "embedded").strip() or "embedded"
    if engine == "embedded":
        return {}
    if engine != "mongodb":
        raise pytest.UsageError(f"{ENGINE_VARIABLE} must be 'embedded' or 'mongodb'")
    return {"database_url": mongodb_server.url(),
            "database_name": "clonechats_test_"
                             + hashlib.sha256(str(data_dir).encode()).hexdigest()[:16]}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    mongodb_server.stop()
    s3_server.stop()
TEST_LLM = LLMSettings(local_models=["smollm2-135m"], local_preload=False)
FAST_HASHING = AccountSettings(bcrypt_rounds=4)
"""bcrypt at cost 4, the least it takes (dev mode only), for the packages whose tests sign
people in: `make_settings(..., accounts=FAST_HASHING)`."""


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": data_dir,
        "dev_mode": True,
        "secret_key": TEST_SECRET,
        "log_json": False,
        "jobs": JobSettings(run_in_server=False, backoff_base_seconds=1.0),
        **engine_overrides(data_dir),
        # The light local model, loaded only when a test uses it: apps build quickly. Tests
        # about the 1.5B model say so in their names (tests/providers/llm/test_qwen.py).
        "llm": TEST_LLM,
    }
    values.update(overrides)
    # Each section is copied: a test that changes its app's settings changes only its own, not
    # a shared section such as FAST_HASHING that a later test in the same worker starts from.
    copied = {key: value.model_copy(deep=True) if isinstance(value, BaseModel) else value
              for key, value in values.items()}
    return Settings(_env_file=None, **copied)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application
    if settings.uses_mongodb:
        await mongodb_server.drop_database(settings.database_url, settings.database_name)


@pytest.fixture
def ctx(app: FastAPI) -> AppContext:
    return app.state.ctx


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def run_jobs(ctx: AppContext) -> Callable[[], Awaitable[int]]:
    """Run every due job to completion, as a worker would; returns how many ran."""
    runner = JobRunner(db=ctx.db, registry=ctx.jobs, context=ctx, clock=ctx.clock,
                       settings=ctx.settings.jobs, owner="test-runner")
    return runner.run_until_idle


@pytest.fixture
async def admin(ctx: AppContext, client: httpx.AsyncClient) -> dict[str, Any]:
    """The admin's user document; `client` is signed in as this admin."""
    user = await make_user(ctx, email="admin@example.com", role="admin")
    assert (await log_in(client, email="admin@example.com")).status_code == 200
    return user
