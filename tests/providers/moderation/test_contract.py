"""What every moderator promises, run against each implementation (the vendor one against its
local fake)."""

from collections.abc import AsyncIterator

import pytest

from clonechats.providers.moderation.base import REASONS, ModerationResult, Moderator
from clonechats.providers.moderation.local import LocalModerator
from clonechats.providers.moderation.openai import OpenAIModerator
from tests.providers.moderation.fake_openai import API_KEY, BASE_URL, FakeOpenAIModeration

HARMFUL = "You are an idiot and I will kill you."
HARMLESS = "I need to kill this bug before the release."


@pytest.fixture(params=["local", "openai"])
async def moderator(request: pytest.FixtureRequest) -> AsyncIterator[Moderator]:
    if request.param == "local":
        yield LocalModerator()
        return
    fake = FakeOpenAIModeration()
    async with fake.client() as http:
        yield OpenAIModerator(api_key=API_KEY, http=http, fallback=LocalModerator(),
                              base_url=BASE_URL)


async def test_is_a_moderator(moderator):
    assert isinstance(moderator, Moderator)
    assert moderator.name in {"local", "openai"}


async def test_flags_harmful_text_with_scored_categories_and_a_reason(moderator):
    result = await moderator.check(HARMFUL)

    assert isinstance(result, ModerationResult)
    assert result.flagged
    assert "harassment/threatening" in result.categories
    assert all(isinstance(k, str) and 0.0 <= v <= 1.0 for k, v in result.categories.items())
    assert result.reason == REASONS["harassment/threatening"]


async def test_passes_harmless_text_with_no_categories_and_no_reason(moderator):
    assert await moderator.check(HARMLESS) == ModerationResult(False, {}, None)


async def test_empty_text_is_not_flagged(moderator):
    assert await moderator.check("") == ModerationResult(False, {}, None)


async def test_the_same_text_gets_the_same_verdict(moderator):
    assert await moderator.check(HARMFUL) == await moderator.check(HARMFUL)
