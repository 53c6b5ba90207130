"""The LLM translator's strict prompt, and the registry: who is built, in what order, and
falling back from one translator to the next."""

import httpx
import pytest

from clonechats.providers.errors import ProviderRejected, ProviderUnavailable
from clonechats.providers.llm.registry import LLMRegistry, build_llm_registry
from clonechats.providers.translation.base import LanguagePair, TranslationResult
from clonechats.providers.translation.llm import LLMTranslator
from clonechats.providers.translation.registry import (
    TranslationRegistry,
    build_translation_registry,
)
from clonechats.settings import LLMSettings, TranslationSettings
from tests.contracts.test_translation_providers import APERTIUM, VENDOR_MODEL
from tests.fakes.llm import FakeLLMProvider


def vendor() -> FakeLLMProvider:
    return FakeLLMProvider(name="vendor", models=[VENDOR_MODEL])


def translator(fake: FakeLLMProvider) -> LLMTranslator:
    return LLMTranslator(provider=fake, model_id=VENDOR_MODEL.id, label="Vendor",
                         languages=["en", "es"])


async def test_the_prompt_is_strict_and_quotes_the_text() -> None:
    fake = vendor()
    fake.enqueue(["<text>Hola, ¿qué hora es?</text>"])
    result = await translator(fake).translate("Hello, what time is it?", source="en",
                                              target="es")
    assert result.text == "Hola, ¿qué hora es?"  # echoed tags are dropped
    [call] = fake.history
    system, user = call["messages"]
    assert "from English to Spanish" in system.content
    assert "do not answer" in system.content
    assert user.content == "<text>\nHello, what time is it?\n</text>"
    assert call["temperature"] == 0.0


async def test_a_cut_off_or_empty_translation_is_unavailable() -> None:
    fake = vendor()
    fake.enqueue(["Hola"], finish_reason="length")
    fake.enqueue(["  "])
    with pytest.raises(ProviderUnavailable):
        await translator(fake).translate("Hello there", source="en", target="es")
    with pytest.raises(ProviderUnavailable):
        await translator(fake).translate("Hello there", source="en", target="es")


def test_the_local_model_is_refused() -> None:
    local = FakeLLMProvider(name="local")
    with pytest.raises(ValueError, match="local model"):
        LLMTranslator(provider=local, model_id="local:smollm2-135m", label="x", languages=["en"])
    with pytest.raises(ValueError, match="vendor model"):
        TranslationSettings(llm_model="local:smollm2-135m")


async def test_only_a_vendor_model_makes_an_llm_translator() -> None:
    async with httpx.AsyncClient() as http:
        local_only = build_llm_registry(LLMSettings(), http=http)
        built = build_translation_registry(TranslationSettings(providers=["llm"]), http=http,
                                           llm=local_only)
        assert built.translators() == []
        with_vendor = LLMRegistry([vendor()], default_model=VENDOR_MODEL.id)
        built = build_translation_registry(TranslationSettings(providers=["llm"]), http=http,
                                           llm=with_vendor)
        assert [t.name for t in built.translators()] == ["llm"]


async def test_deepl_needs_its_key_and_order_follows_the_setting() -> None:
    async with httpx.AsyncClient() as http:
        names = [t.name for t in build_translation_registry(
            TranslationSettings(), http=http, llm=None).translators()]
        assert "deepl" not in names
        settings = TranslationSettings(providers=["local", "deepl"], deepl_api_key="k:fx")
        names = [t.name for t in build_translation_registry(settings, http=http,
                                                            llm=None).translators()]
        assert names == (["local", "deepl"] if APERTIUM else ["deepl"])


class Scripted:
    """A translator that serves en→es and fails or answers as told."""

    def __init__(self, name: str, *, fails: bool = False) -> None:
        self.name, self.label, self.fails, self.calls = name, name, fails, 0

    def pairs(self) -> list[LanguagePair]:
        return [LanguagePair("en", "es")]

    async def translate(self, text: str, *, source: str, target: str) -> TranslationResult:
        self.calls += 1
        if self.fails:
            raise ProviderUnavailable("down", provider=self.name)
        return TranslationResult(text=f"{self.name}:{text}", source=source, target=target,
                                 provider=self.name)


async def test_the_next_translator_takes_over_when_one_fails() -> None:
    down, up = Scripted("first", fails=True), Scripted("second")
    registry = TranslationRegistry([down, up])
    result = await registry.translate("Hi", source="en", target="es")
    assert (result.text, down.calls, up.calls) == ("second:Hi", 1, 1)


async def test_when_all_fail_the_error_says_so_and_unserved_pairs_are_rejected() -> None:
    registry = TranslationRegistry([Scripted("a", fails=True), Scripted("b", fails=True)])
    with pytest.raises(ProviderUnavailable):
        await registry.translate("Hi", source="en", target="es")
    with pytest.raises(ProviderRejected):
        await registry.translate("Hi", source="es", target="en")
    assert registry.serves("en-US", "es") and not registry.serves("es", "en")
