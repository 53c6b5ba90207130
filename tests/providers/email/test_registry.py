"""Choosing the email provider from settings, and the settings that refuse a bad choice."""

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from clonechats.clock import Clock
from clonechats.context import open_context
from clonechats.providers.email.base import EmailMessage
from clonechats.providers.email.outbox import OutboxEmailProvider
from clonechats.providers.email.registry import build_email_provider
from clonechats.providers.email.resend import ResendEmailProvider
from clonechats.settings import EmailSettings, Settings
from tests.conftest import make_settings
from tests.fakes.resend import API_KEY, BASE_URL, FakeResend


def test_outbox_is_the_default() -> None:
    assert Settings(_env_file=None).email.provider == "outbox"


def test_resend_without_a_key_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValidationError, match=r"needs email\.resend_api_key"):
        EmailSettings(provider="resend")
    with pytest.raises(ValidationError, match=r"needs email\.resend_api_key"):
        EmailSettings(provider="resend", resend_api_key=" ")


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(ValidationError):
        EmailSettings(provider="carrier-pigeon")


def test_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLONECHATS_EMAIL__PROVIDER", "resend")
    monkeypatch.setenv("CLONECHATS_EMAIL__RESEND_API_KEY", API_KEY)
    monkeypatch.setenv("CLONECHATS_EMAIL__TIMEOUT_SECONDS", "3")

    email = Settings(_env_file=None).email
    assert email.provider == "resend"
    assert email.resend_api_key is not None
    assert email.resend_api_key.get_secret_value() == API_KEY
    assert email.timeout_seconds == 3
    assert API_KEY not in repr(email)


async def test_registry_builds_resend_that_uses_the_configured_url() -> None:
    fake = FakeResend()
    settings = EmailSettings(provider="resend", resend_api_key=API_KEY, resend_base_url=BASE_URL,
                             from_address="Clone Chats <no-reply@mail.example.com>")
    async with fake.client() as http:
        provider = build_email_provider(settings, db=None, http=http, clock=Clock())
        assert isinstance(provider, ResendEmailProvider)
        await provider.send(EmailMessage(to="ada@example.com", subject="Hi", text="Hi",
                                         idempotency_key="k"))
    assert fake.sent[0]["from"] == "Clone Chats <no-reply@mail.example.com>"


async def test_context_opens_the_configured_provider(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", email=EmailSettings(
        provider="resend", resend_api_key=API_KEY))
    ctx = await open_context(settings)
    try:
        assert isinstance(ctx.email, ResendEmailProvider)
        assert isinstance(ctx.http, httpx.AsyncClient)
    finally:
        await ctx.close()
    assert ctx.http.is_closed

    ctx = await open_context(make_settings(tmp_path / "data"))
    try:
        assert isinstance(ctx.email, OutboxEmailProvider)
    finally:
        await ctx.close()
