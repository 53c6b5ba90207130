"""The model registry: which models are enabled by the settings, and how ids resolve."""

from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from clonechats.errors import AppError
from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.llm.base import ChatMessage
from clonechats.providers.llm.local import LocalProvider
from clonechats.providers.llm.openai import OpenAIProvider
from clonechats.providers.llm.registry import build_llm_registry
from clonechats.settings import LLMModelSpec, LLMSettings, Settings
from tests.conftest import make_settings


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def ids(registry) -> list[str]:
    return [info.id for info in registry.enabled_models()]


async def test_without_keys_only_the_local_model_is_enabled(http):
    registry = build_llm_registry(LLMSettings(), http=http)
    assert ids(registry) == ["local:smollm2-135m"]
    assert registry.default_model().id == "local:smollm2-135m"
    provider, info = registry.resolve(None)
    assert isinstance(provider.inner, LocalProvider) and info.context_window == 2048


async def test_a_vendor_key_enables_that_vendors_models(http):
    settings = LLMSettings(openai_api_key="sk-x", openai_models=["gpt-4o-mini", {
        "name": "gpt-4.1", "context_window": 1000000, "label": "GPT-4.1"}],
        google_api_key="   ")
    registry = build_llm_registry(settings, http=http)
    assert ids(registry) == ["local:smollm2-135m", "openai:gpt-4o-mini", "openai:gpt-4.1"]
    provider, info = registry.resolve("openai:gpt-4.1")
    assert isinstance(provider.inner, OpenAIProvider)  # behind its circuit breaker
    assert (info.context_window, info.label) == (1000000, "GPT-4.1")
    assert registry.resolve("openai:gpt-4o-mini")[1].context_window == 8192  # plain name


@pytest.mark.parametrize("model_id", ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5",
                                      "local:other", "nonsense"])
async def test_unknown_or_disabled_models_are_a_422(http, model_id):
    registry = build_llm_registry(LLMSettings(), http=http)
    with pytest.raises(AppError) as refused:
        registry.resolve(model_id)
    assert (refused.value.status, refused.value.code) == (422, "model_unavailable")


def test_the_default_model_must_be_enabled():
    with pytest.raises(ValidationError, match="not an enabled model"):
        LLMSettings(default_model="openai:gpt-4o-mini")
    settings = LLMSettings(default_model="anthropic:claude-haiku-4-5", anthropic_api_key="k")
    assert settings.enabled_models == ["local:smollm2-135m", "anthropic:claude-haiku-4-5"]


def test_keys_and_model_lists_come_from_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CLONECHATS_LLM__GOOGLE_API_KEY", "AIza-env")
    monkeypatch.setenv("CLONECHATS_LLM__GOOGLE_MODELS", '["gemini-2.5-pro"]')
    monkeypatch.setenv("CLONECHATS_LLM__LOCAL_CONTEXT_WINDOW", "4096")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.llm.enabled_models == ["local:smollm2-135m", "google:gemini-2.5-pro"]
    assert settings.llm.local_context_window == 4096
    assert settings.llm.google_api_key.get_secret_value() == "AIza-env"
    assert "AIza-env" not in repr(settings.llm)


def test_model_names_are_checked():
    assert LLMModelSpec.model_validate("claude-haiku-4-5").name == "claude-haiku-4-5"
    with pytest.raises(ValidationError):
        LLMModelSpec.model_validate("../etc/passwd?x=1")
    with pytest.raises(ValidationError):
        LLMSettings(local_model_name="Bad Name")


async def test_the_app_context_has_a_registry_that_loads_nothing_at_start(tmp_path: Path):
    from clonechats.app import create_app

    settings = make_settings(tmp_path / "data", llm=LLMSettings(
        local_model_path=tmp_path / "operator-model.gguf", local_model_name="house-model"))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        registry = app.state.ctx.llm
        provider, info = registry.resolve(None)
        assert info.id == "local:house-model"
        # The file is only looked for at the first use, and its absence is reported then.
        with pytest.raises(ProviderUnavailable, match=r"operator-model\.gguf"):
            await provider.count_tokens(model=info.id, messages=[ChatMessage("user", "hi")])


def test_the_local_repeat_penalty_comes_from_settings():
    import httpx

    from clonechats.providers.llm.registry import build_llm_registry
    from clonechats.settings import LLMSettings

    registry = build_llm_registry(LLMSettings(local_repeat_penalty=1.5),
                                  http=httpx.AsyncClient())
    provider, _model = registry.resolve(None)
    assert provider.repeat_penalty == 1.5
