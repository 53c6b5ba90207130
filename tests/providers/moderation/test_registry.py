"""Settings pick the moderator; the app context carries it."""

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from clonechats.providers.moderation.local import LocalModerator
from clonechats.providers.moderation.openai import OpenAIModerator
from clonechats.providers.moderation.registry import build_moderator
from clonechats.settings import ModerationSettings


async def test_local_is_the_default():
    async with httpx.AsyncClient() as http:
        assert isinstance(build_moderator(ModerationSettings(), http=http), LocalModerator)


async def test_openai_is_built_with_its_key_and_settings():
    settings = ModerationSettings(provider="openai", openai_api_key=SecretStr("sk-x"),
                                  offensive_threshold=0.95)
    async with httpx.AsyncClient() as http:
        moderator = build_moderator(settings, http=http)
    assert isinstance(moderator, OpenAIModerator)


def test_openai_without_a_key_is_refused():
    with pytest.raises(ValidationError, match="openai_api_key"):
        ModerationSettings(provider="openai")
    with pytest.raises(ValidationError):
        ModerationSettings(provider="vendorx")


def test_unknown_categories_and_languages_are_refused():
    with pytest.raises(ValidationError):
        ModerationSettings(categories=["violence"])
    with pytest.raises(ValidationError):
        ModerationSettings(languages=["xx"])


def test_the_context_carries_the_configured_moderator(ctx):
    assert isinstance(ctx.moderation, LocalModerator)
