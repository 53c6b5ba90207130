"""Resend adapter against a local fake of its HTTP API: request shape, ids, error mapping."""

import httpx
import pytest

from clonechats.providers.email.base import EmailMessage
from clonechats.providers.email.resend import ResendEmailProvider
from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from tests.fakes.resend import API_KEY, BASE_URL, FakeResend

FROM = "Clone Chats <no-reply@mail.example.com>"


def make_message(**overrides: object) -> EmailMessage:
    values: dict[str, object] = {
        "to": "ada@example.com",
        "subject": "Confirm your email address",
        "text": "Open https://app.example.com/verify?token=abc",
        "html": "<p><a href=\"https://app.example.com/verify?token=abc\">Confirm</a></p>",
        "idempotency_key": "verification/u1/t1",
        "tags": {"template": "verification"},
    }
    values.update(overrides)
    return EmailMessage(**values)  # type: ignore[arg-type]


@pytest.fixture
def fake() -> FakeResend:
    return FakeResend()


@pytest.fixture
async def provider(fake: FakeResend):
    async with fake.client() as http:
        yield ResendEmailProvider(api_key=API_KEY, from_address=FROM, http=http,
                                  base_url=BASE_URL, timeout_seconds=5)


async def test_sends_the_documented_request_and_returns_the_id(
    fake: FakeResend, provider: ResendEmailProvider
) -> None:
    sent = await provider.send(make_message())

    [request] = fake.history
    assert request.method == "POST"
    assert request.url == f"{BASE_URL}/emails"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["idempotency-key"] == "verification/u1/t1"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {
        "from": FROM,
        "to": ["ada@example.com"],
        "subject": "Confirm your email address",
        "text": "Open https://app.example.com/verify?token=abc",
        "html": "<p><a href=\"https://app.example.com/verify?token=abc\">Confirm</a></p>",
        "tags": [{"name": "template", "value": "verification"}],
    }
    assert sent.provider_message_id == fake.sent[0]["id"]


async def test_text_only_message_sends_no_html_or_tags(
    fake: FakeResend, provider: ResendEmailProvider
) -> None:
    await provider.send(make_message(html=None, tags={}))

    assert set(fake.history[0].json) == {"from", "to", "subject", "text"}


async def test_base_url_with_trailing_slash(fake: FakeResend) -> None:
    async with fake.client() as http:
        provider = ResendEmailProvider(api_key=API_KEY, from_address=FROM, http=http,
                                       base_url=BASE_URL + "/")
        await provider.send(make_message())
    assert fake.history[0].url == f"{BASE_URL}/emails"


async def test_same_idempotency_key_sends_once(
    fake: FakeResend, provider: ResendEmailProvider
) -> None:
    first = await provider.send(make_message())
    second = await provider.send(make_message())

    assert first == second
    assert len(fake.history) == 2
    assert len(fake.sent) == 1


async def test_wrong_key_is_an_auth_error_without_the_key_in_it(fake: FakeResend) -> None:
    async with fake.client() as http:
        provider = ResendEmailProvider(api_key="re_wrong_key_value", from_address=FROM,
                                       http=http, base_url=BASE_URL)
        with pytest.raises(ProviderAuthError) as caught:
            await provider.send(make_message())
    assert caught.value.status == 401
    assert caught.value.retryable is False
    assert "re_wrong_key_value" not in str(caught.value)
    assert fake.sent == []


@pytest.mark.parametrize(
    ("status", "name", "expected", "retryable"),
    [
        (401, "missing_api_key", ProviderAuthError, False),
        (403, "invalid_api_key", ProviderAuthError, False),
        (400, "validation_error", ProviderRejected, False),
        (422, "invalid_parameter", ProviderRejected, False),
        (409, "invalid_idempotent_request", ProviderRejected, False),
        (409, "concurrent_idempotent_requests", ProviderUnavailable, True),
        (429, "rate_limit_exceeded", ProviderUnavailable, True),
        (429, "daily_quota_exceeded", ProviderQuotaError, False),
        (500, "application_error", ProviderUnavailable, True),
        (503, None, ProviderUnavailable, True),
    ],
)
async def test_error_statuses_map_to_provider_errors(
    fake: FakeResend, provider: ResendEmailProvider, status: int, name: str | None,
    expected: type[ProviderError], retryable: bool,
) -> None:
    body = {"statusCode": status, "name": name, "message": "The `to` field is invalid."}
    fake.enqueue_response(status, body if name else "upstream unavailable")

    with pytest.raises(ProviderError) as caught:
        await provider.send(make_message())

    assert type(caught.value) is expected
    assert caught.value.retryable is retryable
    assert caught.value.status == status
    assert caught.value.provider == "resend"
    if name:
        assert caught.value.code == name
        assert "The `to` field is invalid." in str(caught.value)
    assert fake.sent == []


async def test_rate_limit_carries_retry_after(
    fake: FakeResend, provider: ResendEmailProvider
) -> None:
    fake.enqueue_response(429, headers={"retry-after": "2"})

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.send(make_message())
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ConnectError])
async def test_timeouts_and_connection_failures_are_unavailable(
    fake: FakeResend, provider: ResendEmailProvider, error: type[httpx.TransportError]
) -> None:
    fake.enqueue_response(error=error)

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.send(make_message())
    assert caught.value.retryable is True


async def test_success_without_an_id_is_retryable(
    fake: FakeResend, provider: ResendEmailProvider
) -> None:
    fake.enqueue_response(200, {"object": "email"})

    with pytest.raises(ProviderUnavailable):
        await provider.send(make_message())


async def test_retry_after_a_failure_reuses_the_key_and_sends_once(
    fake: FakeResend, provider: ResendEmailProvider
) -> None:
    fake.enqueue_response(500)
    with pytest.raises(ProviderUnavailable):
        await provider.send(make_message())
    sent = await provider.send(make_message())

    assert [r.headers["idempotency-key"] for r in fake.history] == ["verification/u1/t1"] * 2
    assert [e["id"] for e in fake.sent] == [sent.provider_message_id]


async def test_refuses_an_empty_api_key(fake: FakeResend) -> None:
    async with fake.client() as http:
        with pytest.raises(ValueError, match="API key"):
            ResendEmailProvider(api_key="", from_address=FROM, http=http)
