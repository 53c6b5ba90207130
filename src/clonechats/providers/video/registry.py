"""Video provider registry: the `video.provider` setting's slug -> a factory building it."""

from collections.abc import Callable

import httpx

from clonechats.clock import Clock
from clonechats.providers.video.base import VideoProvider
from clonechats.providers.video.fal import FalVideoProvider
from clonechats.providers.video.fal_webhooks import FalWebhookVerifier
from clonechats.providers.video.local import LocalVideoProvider
from clonechats.settings import VideoSettings

Factory = Callable[..., VideoProvider]
WEBHOOK_PATH = "/api/v1/webhooks/fal"


def _local(settings: VideoSettings, *, http: httpx.AsyncClient,
           public_url: str) -> VideoProvider:
    return LocalVideoProvider(size=settings.size, fps=settings.fps,
                              threads=settings.encoder_threads,
                              concurrency=settings.local_concurrency)


def _fal(settings: VideoSettings, *, http: httpx.AsyncClient, public_url: str) -> VideoProvider:
    if settings.fal_api_key is None:
        raise ValueError("video.provider 'fal' needs video.fal_api_key")
    webhook = None
    if settings.fal_webhooks and public_url.startswith("https://"):
        webhook = public_url.rstrip("/") + WEBHOOK_PATH
    return FalVideoProvider(api_key=settings.fal_api_key.get_secret_value(),
                            model_id=settings.fal_model, http=http,
                            queue_url=settings.fal_queue_url, prompt=settings.fal_prompt,
                            extra_input=settings.fal_extra_input, webhook_url=webhook,
                            media_ttl_seconds=settings.fal_media_ttl_seconds,
                            timeout_seconds=settings.timeout_seconds,
                            max_download_bytes=settings.max_download_bytes)


PROVIDERS: dict[str, Factory] = {
    "local": _local,
    "fal": _fal,
}


def build_video_provider(settings: VideoSettings, *, http: httpx.AsyncClient,
                         public_url: str) -> VideoProvider:
    try:
        factory = PROVIDERS[settings.provider]
    except KeyError:
        raise ValueError(f"unknown video provider {settings.provider!r}") from None
    return factory(settings, http=http, public_url=public_url)


def build_fal_webhooks(settings: VideoSettings, *, http: httpx.AsyncClient,
                       clock: Clock) -> FalWebhookVerifier | None:
    """The webhook verifier when fal.ai renders; None otherwise (the route answers 404)."""
    if settings.provider != "fal":
        return None
    return FalWebhookVerifier(http=http, clock=clock, jwks_url=settings.fal_jwks_url,
                              user_id=settings.fal_user_id,
                              timeout_seconds=settings.timeout_seconds)
