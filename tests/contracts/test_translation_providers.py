"""One contract for every translator: Apertium for real, the LLM translator over a scripted
vendor model, and DeepL against a fake of its HTTP API."""

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.translation.base import TranslationResult, Translator
from clonechats.providers.translation.deepl import DeepLTranslator
from clonechats.providers.translation.llm import LLMTranslator
from clonechats.providers.translation.local import DEFAULT_MODES_DIR, ApertiumTranslator
from tests.fakes.deepl import API_KEY, BASE_URL, FakeDeepL
from tests.fakes.llm import FakeLLMProvider, ModelInfo

APERTIUM = shutil.which("apertium") is not None and (DEFAULT_MODES_DIR / "eng-spa.mode").is_file()
VENDOR_MODEL = ModelInfo(id="vendor:translate-1", provider="vendor", context_window=8192,
                         label="Vendor model")
MAX_CHARS = 500
SENTENCE = "I would love to help you plan a trip to Madrid."


@dataclass
class Subject:
    translator: Translator
    calls: Any  # how many requests reached the backend so far

    def prime(self, text: str) -> None:
        """Make the next translation answer `text` (only the scripted LLM needs it)."""
        llm = getattr(self, "llm", None)
        if llm is not None:
            llm.enqueue([text[:10], text[10:]])


@pytest.fixture(params=["local", "llm", "deepl"])
async def subject(request) -> AsyncIterator[Subject]:
    if request.param == "local":
        if not APERTIUM:
            pytest.skip("Apertium is not installed (make installs apertium-eng-spa)")
        yield Subject(ApertiumTranslator(max_chars=MAX_CHARS), calls=lambda: 0)
    elif request.param == "llm":
        fake = FakeLLMProvider(name="vendor", models=[VENDOR_MODEL])
        found = Subject(LLMTranslator(provider=fake, model_id=VENDOR_MODEL.id,
                                      label="Vendor model", languages=["en", "es", "fr"],
                                      max_chars=MAX_CHARS), calls=lambda: len(fake.history))
        found.llm = fake  # type: ignore[attr-defined]
        yield found
    else:
        fake = FakeDeepL()
        async with fake.client() as http:
            yield Subject(DeepLTranslator(api_key=API_KEY, http=http, base_url=BASE_URL,
                                          max_chars=MAX_CHARS),
                          calls=lambda: len(fake.history))


async def test_it_names_itself_and_serves_english_spanish_both_ways(subject) -> None:
    translator = subject.translator
    assert isinstance(translator, Translator)
    assert translator.name and translator.label
    pairs = {(p.source, p.target) for p in translator.pairs()}
    assert {("en", "es"), ("es", "en")} <= pairs
    assert all(source != target for source, target in pairs)


async def test_a_translation_is_in_the_other_language_and_says_who_made_it(subject) -> None:
    subject.prime("Me encantaría ayudarte a planear un viaje a Madrid.")
    result = await subject.translator.translate(SENTENCE, source="en", target="es")
    assert isinstance(result, TranslationResult)
    assert result.provider == subject.translator.name
    assert (result.source, result.target) == ("en", "es")
    assert result.text and result.text != SENTENCE
    assert "Madrid" in result.text


async def test_region_subtags_are_served_by_their_language(subject) -> None:
    subject.prime("Me encantaría ayudarte a planear un viaje a Madrid.")
    result = await subject.translator.translate(SENTENCE, source="en-GB", target="es-MX")
    assert result.target == "es-MX" and result.text != SENTENCE


async def test_blank_text_translates_to_nothing_without_a_call(subject) -> None:
    result = await subject.translator.translate("  \n ", source="en", target="es")
    assert result.text == ""
    assert subject.calls() == 0


async def test_an_unserved_pair_is_rejected_before_any_call(subject) -> None:
    with pytest.raises(ProviderRejected) as raised:
        await subject.translator.translate(SENTENCE, source="en", target="tlh")
    assert raised.value.code == "unsupported_pair"
    assert subject.calls() == 0


async def test_a_text_over_the_limit_is_rejected_before_any_call(subject) -> None:
    with pytest.raises(ProviderRejected) as raised:
        await subject.translator.translate("word " * MAX_CHARS, source="en", target="es")
    assert raised.value.code == "text_too_long"
    assert subject.calls() == 0
