"""The model registry: which models are enabled by the settings, and how ids resolve."""

import json
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


LIGHT = LLMSettings(local_models=["smollm2-135m"])


async def test_without_keys_only_the_local_models_are_enabled_qwen_first(http):
    registry = build_llm_registry(LLMSettings(), http=http)  # checks Qwen's file, loads nothing
    assert ids(registry) == ["local:qwen2.5-1.5b", "local:smollm2-135m"]
    assert registry.default_model().id == "local:qwen2.5-1.5b"
    provider, info = registry.resolve(None)
    assert isinstance(provider.inner, LocalProvider) and info.context_window == 4096
    assert registry.local() is provider.inner  # preloading and /healthz reach it
    assert registry.resolve("local:smollm2-135m")[0] is provider  # one provider, two models
    assert registry.resolve("local:smollm2-135m")[1].context_window == 2048
    # (hosts are shared per process and configuration: another test may have loaded one)
    statuses = registry.local_status()
    assert set(statuses) == {"local:qwen2.5-1.5b", "local:smollm2-135m"}
    assert set(statuses.values()) <= {"not loaded", "ready"}


async def test_the_light_model_alone_is_the_default_when_qwen_is_left_out(http):
    registry = build_llm_registry(LIGHT, http=http)
    assert ids(registry) == ["local:smollm2-135m"]
    assert registry.default_model().id == "local:smollm2-135m"


def test_no_local_model_at_all_is_refused():
    with pytest.raises(ValidationError, match="at least one local model"):
        LLMSettings(local_models=[])


async def test_a_missing_or_damaged_qwen_file_refuses_the_start(http, tmp_path: Path):
    from clonechats.providers.llm.local_catalog import QWEN_FILE
    from clonechats.providers.llm.model_files import marker_path
    from clonechats.providers.llm.registry import LocalModelMissing

    empty = LLMSettings(local_models_dir=tmp_path)
    with pytest.raises(LocalModelMissing, match=r"qwen2\.5-1\.5b.*missing.*make run"):
        build_llm_registry(empty, http=http)
    fake = tmp_path / QWEN_FILE.file_name
    with fake.open("wb") as handle:  # the right size (sparse), never verified
        handle.truncate(QWEN_FILE.size)
    with pytest.raises(LocalModelMissing, match="never verified"):
        build_llm_registry(empty, http=http)
    marker_path(fake).write_text(json.dumps({"sha256": QWEN_FILE.sha256,
                                             "size": QWEN_FILE.size, "mtime_ns": 1}))
    with pytest.raises(LocalModelMissing, match="changed since it was verified"):
        build_llm_registry(empty, http=http)
    with fake.open("r+b") as handle:
        handle.truncate(1000)
    with pytest.raises(LocalModelMissing, match="1,000 bytes"):
        build_llm_registry(empty, http=http)


async def test_a_vendor_key_enables_that_vendors_models(http):
    settings = LLMSettings(openai_api_key="sk-x", openai_models=["gpt-4o-mini", {
        "name": "gpt-4.1", "context_window": 1000000, "label": "GPT-4.1"}],
        google_api_key="   ")
    registry = build_llm_registry(settings, http=http)
    assert ids(registry) == ["local:qwen2.5-1.5b", "local:smollm2-135m", "openai:gpt-4o-mini",
                             "openai:gpt-4.1"]
    provider, info = registry.resolve("openai:gpt-4.1")
    assert isinstance(provider.inner, OpenAIProvider)  # behind its circuit breaker
    assert (info.context_window, info.label) == (1000000, "GPT-4.1")
    assert registry.resolve("openai:gpt-4o-mini")[1].context_window == 8192  # plain name


@pytest.mark.parametrize("model_id", ["openai:gpt-4o-mini", "anthropic:claude-haiku-4-5",
                                      "local:other", "local:qwen2.5-1.5b", "nonsense"])
async def test_unknown_or_disabled_models_are_a_422(http, model_id):
    registry = build_llm_registry(LIGHT, http=http)
    with pytest.raises(AppError) as refused:
        registry.resolve(model_id)
    assert (refused.value.status, refused.value.code) == (422, "model_unavailable")


def test_the_default_model_must_be_enabled():
    with pytest.raises(ValidationError, match="not an enabled model"):
        LLMSettings(default_model="openai:gpt-4o-mini")
    settings = LLMSettings(default_model="anthropic:claude-haiku-4-5", anthropic_api_key="k")
    assert settings.enabled_models == ["local:qwen2.5-1.5b", "local:smollm2-135m",
                                       "anthropic:claude-haiku-4-5"]


def test_keys_and_model_lists_come_from_the_environment(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CLONECHATS_LLM__GOOGLE_API_KEY", "AIza-env")
    monkeypatch.setenv("CLONECHATS_LLM__GOOGLE_MODELS", '["gemini-2.5-pro"]')
    monkeypatch.setenv("CLONECHATS_LLM__LOCAL_CONTEXT_WINDOW", "4096")
    settings = Settings(_env_file=None, data_dir=tmp_path)
    assert settings.llm.enabled_models == ["local:qwen2.5-1.5b", "local:smollm2-135m",
                                           "google:gemini-2.5-pro"]
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
        local_model_path=tmp_path / "operator-model.gguf", local_model_name="house-model",
        local_models=["smollm2-135m"], local_preload=False))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        registry = app.state.ctx.llm
        provider, info = registry.resolve(None)
        assert info.id == "local:house-model"
        assert registry.local_status()["local:house-model"] == "not loaded"
        # The file is only looked for at the first use, and its absence is reported then.
        with pytest.raises(ProviderUnavailable, match=r"operator-model\.gguf"):
            await provider.count_tokens(model=info.id, messages=[ChatMessage("user", "hi")])


def test_the_local_repeat_penalty_comes_from_settings():
    import httpx

    from clonechats.providers.llm.registry import build_llm_registry
    from clonechats.settings import LLMSettings

    registry = build_llm_registry(LLMSettings(local_repeat_penalty=1.5,
                                              local_models=["smollm2-135m"]),
                                  http=httpx.AsyncClient())
    provider, _model = registry.resolve(None)
    assert provider.repeat_penalty == 1.5


async def test_the_default_local_model_loads_in_the_background_at_start(tmp_path: Path):
    """With preloading on, /healthz says "loading" then "ready" without any reply asked for.
    (The light model stands in for Qwen: the mechanism is the same.)"""
    import asyncio

    from clonechats.app import create_app
    from clonechats.providers.llm.local import LocalModelHost

    settings = make_settings(tmp_path / "data", llm=LLMSettings(
        local_models=["smollm2-135m"], local_preload=True, local_context_window=1024))
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        provider = app.state.ctx.llm.local()
        host = provider.hosts["local:smollm2-135m"]
        assert isinstance(host, LocalModelHost)
        assert host.status in ("loading", "ready")
        await asyncio.wrap_future(host._preloading)  # the load ran on the model's own thread
        assert host.status == "ready"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            health = (await http.get("/healthz")).json()
        assert health == {"status": "ok", "database": "ok",
                          "models": {"local:smollm2-135m": "ready"}}
