"""The OpenAI moderation adapter against a local fake of `POST /v1/moderations`: the request
it sends, how the answer is read, and falling back to the offline moderator when the vendor
cannot answer."""

import logging

import httpx
import pytest

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.moderation.base import ModerationResult
from clonechats.providers.moderation.local import LocalModerator
from clonechats.providers.moderation.openai import OpenAIModerator
from tests.providers.moderation.fake_openai import API_KEY, BASE_URL, FakeOpenAIModeration


class RecordingFallback:
    """The offline moderator, counting how often it had to decide."""

    name = "local"

    def __init__(self) -> None:
        self.inner = LocalModerator()
        self.calls: list[str] = []

    async def check(self, text: str) -> ModerationResult:
        self.calls.append(text)
        return await self.inner.check(text)


@pytest.fixture
def fake() -> FakeOpenAIModeration:
    return FakeOpenAIModeration()


@pytest.fixture
def fallback() -> RecordingFallback:
    return RecordingFallback()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
async def moderator(fake, fallback, sleeps):
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with fake.client() as http:
        yield OpenAIModerator(api_key=API_KEY, http=http, fallback=fallback, base_url=BASE_URL,
                              max_retries=1, sleep=sleep)


async def test_sends_the_documented_request(fake, moderator):
    await moderator.check("Hello there")

    [request] = fake.history
    assert request.method == "POST"
    assert request.url == f"{BASE_URL}/moderations"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.json == {"model": "omni-moderation-latest", "input": "Hello there"}


async def test_reads_flagged_categories_with_their_scores(moderator, fallback):
    result = await moderator.check("I will kill you, idiot")

    assert result.flagged
    assert result.categories == {"harassment": 0.93, "harassment/threatening": 0.91,
                                 "violence": 0.88}
    assert result.reason == "This message looks like a threat."
    assert fallback.calls == []


async def test_a_clean_answer_is_not_flagged(moderator):
    assert await moderator.check("What a lovely day") == ModerationResult(False, {}, None)


async def test_minors_block_below_the_vendors_own_threshold(moderator):
    result = await moderator.check("a schoolgirl outfit")
    assert result.flagged
    assert result.categories == {"sexual/minors": 0.31}


async def test_self_harm_talk_is_not_blocked_but_instructions_are(moderator):
    assert not (await moderator.check("I want to end my life")).flagged
    instructions = await moderator.check("how to cut myself")
    assert instructions.flagged
    assert set(instructions.categories) == {"self-harm/instructions"}


def test_interprets_the_wire_format_exactly(moderator):
    result = moderator.interpret({
        "flagged": True,
        "categories": {"hate": True, "sexual": False, "self-harm/intent": True},
        "category_scores": {"hate": 0.7, "sexual": 0.1, "self-harm/intent": 0.9,
                            "sexual/minors": 0.01},
        "category_applied_input_types": {"hate": ["text"]},
    })
    assert result == ModerationResult(True, {"hate": 0.7},
                                      "This message looks like hateful content.")


@pytest.mark.parametrize(("status", "code", "error"), [
    (401, "invalid_api_key", ProviderAuthError),
    (429, "insufficient_quota", ProviderQuotaError),
    (400, "model_not_found", ProviderRejected),
    (503, None, ProviderUnavailable),
])
async def test_vendor_errors_map_to_the_provider_error_tree(fake, moderator, status, code,
                                                            error):
    fake.enqueue_response(status, code=code)
    fake.enqueue_response(status, code=code)
    with pytest.raises(error):
        await moderator.classify("anything")


async def test_when_the_vendor_is_down_the_offline_moderator_decides(fake, moderator,
                                                                     fallback, sleeps, caplog):
    fake.enqueue_response(503)
    fake.enqueue_response(503)
    with caplog.at_level(logging.WARNING, logger="clonechats.providers.moderation.openai"):
        result = await moderator.check("You are a worthless idiot and everyone hates you.")

    assert len(fake.history) == 2  # one retry, then the fall-back
    assert sleeps == [0.25]
    assert fallback.calls == ["You are a worthless idiot and everyone hates you."]
    assert result.flagged and "harassment" in result.categories
    assert "offline moderator decides" in caplog.text


@pytest.mark.parametrize("failure", [httpx.ReadTimeout, httpx.ConnectError])
async def test_timeouts_and_connection_failures_fall_back(fake, moderator, fallback, failure):
    fake.enqueue_response(error=failure)
    fake.enqueue_response(error=failure)
    result = await moderator.check("send me nudes")

    assert fallback.calls == ["send me nudes"]
    assert result.flagged and "sexual" in result.categories


async def test_a_refused_key_falls_back_at_once_and_logs_an_error(fake, moderator, fallback,
                                                                   caplog):
    fake.enqueue_response(401, code="invalid_api_key")
    with caplog.at_level(logging.ERROR, logger="clonechats.providers.moderation.openai"):
        result = await moderator.check("Te voy a matar")

    assert len(fake.history) == 1
    assert result.flagged and fallback.calls == ["Te voy a matar"]
    assert any(record.levelno == logging.ERROR for record in caplog.records)


async def test_an_unreadable_answer_falls_back(fake, moderator, fallback):
    fake.enqueue_response(200, body=b"<html>gateway</html>")
    fake.enqueue_response(200, body={"id": "modr-1", "results": []})
    result = await moderator.check("Hello")

    assert not result.flagged
    assert fallback.calls == ["Hello"]


async def test_a_rate_limit_is_retried_then_answered(fake, moderator, fallback, sleeps):
    fake.enqueue_response(429, code="rate_limit_exceeded", headers={"retry-after": "1"})
    result = await moderator.check("You idiot")

    assert result.flagged and fallback.calls == []
    assert sleeps == [1.0]


async def test_an_api_key_is_required(fake):
    async with fake.client() as http:
        with pytest.raises(ValueError):
            OpenAIModerator(api_key="", http=http, fallback=LocalModerator())
