"""Video settings and registry: local by default, fal only with a key, webhooks only on https."""

import httpx
import pytest
from pydantic import ValidationError

from clonechats.providers.video.fal import FalVideoProvider
from clonechats.providers.video.local import LocalVideoProvider
from clonechats.providers.video.registry import build_video_provider
from clonechats.settings import Settings, VideoSettings


async def test_the_default_is_the_local_renderer() -> None:
    async with httpx.AsyncClient() as http:
        provider = build_video_provider(VideoSettings(), http=http, public_url="http://x")
    assert isinstance(provider, LocalVideoProvider)


def test_fal_needs_a_key() -> None:
    with pytest.raises(ValidationError, match="CLONECHATS_VIDEO__FAL_API_KEY"):
        VideoSettings(provider="fal")


def test_fal_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLONECHATS_VIDEO__PROVIDER", "fal")
    monkeypatch.setenv("CLONECHATS_VIDEO__FAL_API_KEY", "key-id:secret")
    monkeypatch.setenv("CLONECHATS_VIDEO__FAL_MODEL", "fal-ai/bytedance/omnihuman")
    settings = Settings(_env_file=None)
    assert settings.video.provider == "fal"
    assert settings.video.fal_model == "fal-ai/bytedance/omnihuman"


@pytest.mark.parametrize(("public_url", "webhook"), [
    ("https://chat.example.com", "https://chat.example.com/api/v1/webhooks/fal"),
    ("http://127.0.0.1:8000", None),
])
async def test_fal_is_built_with_a_webhook_only_on_https(public_url: str,
                                                         webhook: str | None) -> None:
    settings = VideoSettings(provider="fal", fal_api_key="key-id:secret")
    async with httpx.AsyncClient() as http:
        provider = build_video_provider(settings, http=http, public_url=public_url)
    assert isinstance(provider, FalVideoProvider)
    assert provider._webhook_url == webhook


def test_the_privacy_policy_names_fal_only_when_it_renders() -> None:
    from clonechats.privacy.policies import processors

    plain = Settings(_env_file=None)
    with_fal = Settings(_env_file=None, video=VideoSettings(provider="fal",
                                                            fal_api_key="key-id:secret"))
    assert "fal.ai" not in [p.name for p in processors(plain)]
    [fal] = [p for p in processors(with_fal) if p.name == "fal.ai"]
    assert "voice clip" in fal.data_received and "image" in fal.data_received
