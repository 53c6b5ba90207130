"""The language-model registry: every enabled model, by its "provider:name" id.

Built once per process from `LLMSettings` (`build_llm_registry`), cheaply: no model loads here
(`preload()` starts loading the default local model in the background, and the others load on
first use), but every enabled packaged local model's file is checked (size and its verified
marker, no hashing), and a missing or damaged one refuses the start with `LocalModelMissing`
saying how to install it. The local provider is always present; a vendor is present only
when its API key is set, with the models the operator listed for it. `resolve()` turns a
persona's model id (or None, for the default) into the provider and model to call, and refuses
anything not enabled with a 422 `model_unavailable`, and a provider whose circuit is open
(`breaker.py`) with a quick 503 `provider_circuit_open`.
"""

import asyncio
from collections.abc import Callable

import httpx

from clonechats.errors import AppError
from clonechats.providers.llm import local_catalog
from clonechats.providers.llm.anthropic import AnthropicProvider
from clonechats.providers.llm.base import LLMProvider, ModelInfo
from clonechats.providers.llm.breaker import CircuitBreaker, GuardedProvider
from clonechats.providers.llm.google import GoogleProvider
from clonechats.providers.llm.local import LocalProvider
from clonechats.providers.llm.openai import OpenAIProvider
from clonechats.providers.llm.vendor_http import HTTPOptions, Sleep, VendorAdapter
from clonechats.settings import LLMModelSpec, LLMSettings, Settings

VENDORS: dict[str, type[VendorAdapter]] = {
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
    "google": GoogleProvider,
}


class ModelUnavailable(AppError):
    code = "model_unavailable"
    status = 422
    message = "That model is not available on this server."


class LocalModelMissing(ValueError):
    """An enabled packaged local model cannot run: its file is missing or damaged."""


class LLMRegistry:
    def __init__(self, providers: list[LLMProvider], *, default_model: str,
                 breaker: CircuitBreaker | None = None) -> None:
        self.breaker = breaker or CircuitBreaker()
        providers = [GuardedProvider(provider, self.breaker) for provider in providers]
        self._providers = {provider.name: provider for provider in providers}
        self._models: dict[str, tuple[LLMProvider, ModelInfo]] = {}
        for provider in providers:
            for info in provider.models():
                self._models[info.id] = (provider, info)
        if default_model not in self._models:
            raise ValueError(f"default model {default_model!r} is not enabled")
        self._default = default_model

    def enabled_models(self) -> list[ModelInfo]:
        return [info for _, info in self._models.values()]

    def default_model(self) -> ModelInfo:
        return self._models[self._default][1]

    def provider(self, name: str) -> LLMProvider | None:
        return self._providers.get(name)

    def resolve(self, model_id: str | None) -> tuple[LLMProvider, ModelInfo]:
        """The provider and model for `model_id` (None: the default model)."""
        found = self._models.get(model_id or self._default)
        if found is None:
            raise ModelUnavailable(details={"model": model_id})
        self.breaker.check(found[0].name)  # 503 at once while that provider's circuit is open
        return found

    def is_enabled(self, model_id: str) -> bool:
        return model_id in self._models

    def local(self) -> LocalProvider | None:
        provider = getattr(self._providers.get("local"), "inner", None)  # behind its breaker
        return provider if isinstance(provider, LocalProvider) else None

    def preload(self) -> None:
        """Start loading the default model in the background, if it is a local one."""
        local = self.local()
        if local is not None and self._default.startswith("local:"):
            local.preload(self._default)

    def local_status(self) -> dict[str, str]:
        """Each local model's state: "ready", "loading", "failed" or "not loaded"."""
        local = self.local()
        return {} if local is None else {info.id: local.status(info.id)
                                         for info in local.models()}


def _model_infos(vendor: str, specs: list[LLMModelSpec]) -> list[ModelInfo]:
    return [ModelInfo(id=f"{vendor}:{spec.name}", provider=vendor,
                      context_window=spec.context_window, label=spec.label or spec.name)
            for spec in specs]


def local_specs(llm: LLMSettings) -> list[local_catalog.LocalModelSpec]:
    """The enabled local models; raises LocalModelMissing for a packaged one that cannot run."""
    custom = llm.custom_local_name
    specs = []
    problems = []
    for name in llm.local_models:
        if name == custom:
            continue
        spec = local_catalog.CATALOG[name]
        found = local_catalog.unusable(spec, llm.models_dir)
        if found is not None:
            problems.append(found)
        specs.append(spec)
    if problems:
        raise LocalModelMissing("Cannot start: " + " | ".join(problems) + ". Or leave that "
                                "model out with CLONECHATS_LLM__LOCAL_MODELS (for example "
                                "'[\"smollm2-135m\"]').")
    if custom and llm.local_model_path is not None:
        specs.append(local_catalog.custom_spec(custom, llm.local_model_label or custom,
                                               llm.local_model_path,
                                               llm.local_context_window or 2048))
    return specs


def build_llm_registry(settings: Settings | LLMSettings, *, http: httpx.AsyncClient,
                       sleep: Sleep = asyncio.sleep) -> LLMRegistry:
    """The registry for the app's settings (or their `llm` part). Loads no model."""
    llm = settings.llm if isinstance(settings, Settings) else settings
    providers: list[LLMProvider] = [LocalProvider(
        models=local_specs(llm), models_dir=llm.models_dir,
        context_window=llm.local_context_window, threads=llm.local_threads,
        batch_threads=llm.local_batch_threads, max_waiting=llm.local_max_waiting,
        repeat_penalty=llm.local_repeat_penalty,
        cache_bytes=llm.local_prefix_cache_mb * 1024 * 1024
        if llm.local_prefix_cache_mb else 0)]
    options = HTTPOptions(connect_timeout_seconds=llm.connect_timeout_seconds,
                          request_timeout_seconds=llm.request_timeout_seconds,
                          max_retries=llm.max_retries,
                          retry_backoff_seconds=llm.retry_backoff_seconds,
                          max_retry_wait_seconds=llm.max_retry_wait_seconds)
    for vendor in llm.vendors_enabled:
        adapter: Callable[..., VendorAdapter] = VENDORS[vendor]
        key = getattr(llm, f"{vendor}_api_key")
        providers.append(adapter(
            api_key=key.get_secret_value().strip(), base_url=getattr(llm, f"{vendor}_base_url"),
            models=_model_infos(vendor, getattr(llm, f"{vendor}_models")), http=http,
            options=options, sleep=sleep))
    breaker = CircuitBreaker(failures_to_open=llm.breaker_failures,
                             open_seconds=llm.breaker_open_seconds)
    if llm.default_model is None:  # LLMSettings fills it in from the enabled models
        raise ValueError("llm.default_model is not set")
    return LLMRegistry(providers, default_model=llm.default_model, breaker=breaker)
