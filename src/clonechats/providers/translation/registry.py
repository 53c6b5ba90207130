"""The translators this server has, in the order they are tried, and what they serve together.

Built once per process from `TranslationSettings` (`build_translation_registry`), cheaply:
nothing is loaded or called. `translation.providers` names the order; a translator is present
only when it can work: `deepl` with its API key, `llm` with an enabled vendor model (never the
local model), `local` with Apertium and its language data installed.

`translate()` tries every translator serving the pair, in order, and moves on when one fails;
when all fail the last error is raised (a `ProviderError`), so a caller can tell the user that
the translation is unavailable right now.
"""

import logging
from dataclasses import dataclass

import httpx

from clonechats.providers.errors import ProviderError, ProviderRejected
from clonechats.providers.llm.registry import LLMRegistry
from clonechats.providers.translation.base import (
    LanguagePair,
    TranslationResult,
    Translator,
    find_pair,
)
from clonechats.providers.translation.deepl import DeepLTranslator
from clonechats.providers.translation.languages import english_name, primary
from clonechats.providers.translation.llm import LOCAL_PROVIDER, LLMTranslator
from clonechats.providers.translation.local import ApertiumTranslator
from clonechats.settings import TranslationSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Offer:
    """One translator serving one pair (through `via`, when it pivots)."""

    translator: Translator
    via: str | None


class TranslationRegistry:
    def __init__(self, translators: list[Translator]) -> None:
        self._translators = list(translators)

    def translators(self) -> list[Translator]:
        return list(self._translators)

    def offers(self, source: str, target: str) -> list[Offer]:
        """Who serves `source` → `target`, in the order they are tried."""
        found = []
        for translator in self._translators:
            pair = find_pair(translator, source, target)
            if pair is not None:
                found.append(Offer(translator, pair.via))
        return found

    def serves(self, source: str, target: str) -> bool:
        return bool(self.offers(source, target))

    def pairs(self) -> dict[tuple[str, str], list[Offer]]:
        """Every pair any translator serves, with its offers in order."""
        table: dict[tuple[str, str], list[Offer]] = {}
        for translator in self._translators:
            for pair in translator.pairs():
                table.setdefault((pair.source, pair.target), []).append(
                    Offer(translator, pair.via))
        return table

    async def translate(self, text: str, *, source: str, target: str) -> TranslationResult:
        offers = self.offers(source, target)
        if not offers:
            raise ProviderRejected(f"no translator serves {english_name(source)} to "
                                   f"{english_name(target)}", provider="translation",
                                   code="unsupported_pair")
        last: ProviderError | None = None
        for offer in offers:
            try:
                return await offer.translator.translate(text, source=source, target=target)
            except ProviderError as exc:
                log.warning("translator failed", extra={
                    "provider": offer.translator.name, "error": str(exc),
                    "source": primary(source), "target": primary(target)})
                last = exc
        assert last is not None
        raise last


def _llm_translator(settings: TranslationSettings, llm: LLMRegistry | None) -> Translator | None:
    if llm is None:
        return None
    vendor_models = [info for info in llm.enabled_models() if info.provider != LOCAL_PROVIDER]
    if settings.llm_model:
        vendor_models = [info for info in vendor_models if info.id == settings.llm_model]
        if not vendor_models:
            log.warning("translation.llm_model is not an enabled vendor model",
                        extra={"model": settings.llm_model})
    if not vendor_models:
        return None
    info = vendor_models[0]
    provider, _ = llm.resolve(info.id)
    return LLMTranslator(provider=provider, model_id=info.id, label=info.label,
                         languages=settings.llm_languages, max_chars=settings.max_chars)


def build_translation_registry(settings: TranslationSettings, *, http: httpx.AsyncClient,
                               llm: LLMRegistry | None) -> TranslationRegistry:
    translators: list[Translator] = []
    for name in settings.providers:
        if name == "deepl" and settings.deepl_api_key is not None:
            key = settings.deepl_api_key.get_secret_value().strip()
            if key:
                translators.append(DeepLTranslator(
                    api_key=key, http=http, base_url=settings.deepl_base_url,
                    timeout_seconds=settings.timeout_seconds,
                    max_retries=settings.deepl_max_retries, max_chars=settings.max_chars))
        elif name == "llm":
            found = _llm_translator(settings, llm)
            if found is not None:
                translators.append(found)
        elif name == "local":
            local = ApertiumTranslator(command=settings.apertium_command,
                                       modes_dir=settings.apertium_modes_dir,
                                       timeout_seconds=settings.timeout_seconds,
                                       max_chars=settings.max_chars,
                                       max_concurrent=settings.apertium_max_concurrent)
            if local.pairs():
                translators.append(local)
            else:
                log.info("Apertium is not installed: no offline translation")
    return TranslationRegistry(translators)


__all__ = ["LanguagePair", "Offer", "TranslationRegistry", "build_translation_registry"]
