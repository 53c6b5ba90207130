"""Billing test fixtures: fast password hashing, a buyer signed in, and the Cashfree fake."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clonechats.providers.payments.registry import build_payment_providers
from clonechats.settings import BillingSettings, Settings
from tests.conftest import FAST_HASHING, make_settings
from tests.fakes.cashfree import APP_ID, SECRET, FakeCashfree


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING)


def cashfree_settings(tmp_path: Path, **billing: Any) -> Settings:
    return make_settings(tmp_path / "data", accounts=FAST_HASHING,
                         public_url="https://chats.example.com",
                         billing=BillingSettings(provider="cashfree", cashfree_app_id=APP_ID,
                                                 cashfree_secret_key=SECRET, **billing))


@pytest.fixture
def fake_cashfree() -> FakeCashfree:
    return FakeCashfree()


@pytest.fixture
async def use_cashfree_fake(ctx: Any, fake_cashfree: FakeCashfree) -> AsyncIterator[FakeCashfree]:
    """Point the app's Cashfree provider at the fake (tests whose settings choose Cashfree)."""
    async with fake_cashfree.client() as http:
        ctx.payments = build_payment_providers(ctx.settings.billing, db=ctx.db, http=http,
                                               clock=ctx.clock, server_secret=ctx.secret)
        yield fake_cashfree


@pytest.fixture
async def second_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def webhook_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The provider's side: no cookies, no session."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
