"""Moderator registry: the `moderation.provider` setting's slug -> a factory.

Building a moderator is cheap and loads no model: the offline classifiers load on the first
check. The vendor moderator is built with an offline one to fall back on.
"""

from collections.abc import Callable

import httpx

from clonechats.providers.moderation.base import Moderator
from clonechats.providers.moderation.local import LocalModerator
from clonechats.providers.moderation.openai import OpenAIModerator
from clonechats.settings import ModerationSettings

Factory = Callable[..., Moderator]


def _local(settings: ModerationSettings, *, http: httpx.AsyncClient) -> LocalModerator:
    return LocalModerator(offensive_threshold=settings.offensive_threshold,
                          offensive_needs_target=settings.offensive_needs_target,
                          languages=settings.languages, categories=settings.categories,
                          sexual_min_severity=settings.sexual_min_severity)


def _openai(settings: ModerationSettings, *, http: httpx.AsyncClient) -> OpenAIModerator:
    if settings.openai_api_key is None:
        raise ValueError("moderation.provider 'openai' needs moderation.openai_api_key")
    return OpenAIModerator(api_key=settings.openai_api_key.get_secret_value(), http=http,
                           fallback=_local(settings, http=http),
                           base_url=settings.openai_base_url, model=settings.openai_model,
                           minors_threshold=settings.openai_minors_threshold,
                           timeout_seconds=settings.openai_timeout_seconds,
                           max_retries=settings.openai_max_retries)


PROVIDERS: dict[str, Factory] = {
    "local": _local,
    "openai": _openai,
}


def build_moderator(settings: ModerationSettings, *, http: httpx.AsyncClient) -> Moderator:
    try:
        factory = PROVIDERS[settings.provider]
    except KeyError:
        raise ValueError(f"unknown moderation provider {settings.provider!r}") from None
    return factory(settings, http=http)
