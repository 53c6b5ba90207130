"""`GET /api/v1/translation/languages`: the pairs this server can translate, and through what."""

import pytest

from clonechats.providers.llm.registry import LLMRegistry
from clonechats.providers.translation.registry import build_translation_registry
from clonechats.settings import TranslationSettings
from tests.chat.conftest import member
from tests.contracts.test_translation_providers import APERTIUM, VENDOR_MODEL
from tests.fakes.llm import FakeLLMProvider


@pytest.fixture
async def signed_in(client, ctx):
    await member(client, ctx, "reader@example.com")
    return client


async def languages(client) -> dict:
    response = await client.get("/api/v1/translation/languages")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.skipif(not APERTIUM, reason="Apertium is not installed")
async def test_offline_the_local_translator_serves_english_spanish_and_french_by_pivot(
        signed_in):
    body = await languages(signed_in)
    pairs = {(p["source"], p["target"]): p["providers"] for p in body["pairs"]}
    assert pairs[("es", "en")] == [{"name": "local", "label": "Apertium (on this server)",
                                    "via": None}]
    assert pairs[("en", "fr")][0]["via"] == "es"
    assert set(pairs) == {("en", "es"), ("es", "en"), ("fr", "es"), ("es", "fr"), ("en", "fr"),
                          ("fr", "en")}
    spanish = next(item for item in body["languages"] if item["code"] == "es")
    assert spanish == {"code": "es", "name": "Spanish", "label": "Español (Spanish)",
                       "partners": ["en", "fr"]}


async def test_the_local_language_model_is_never_offered_for_translation(signed_in, ctx):
    assert any(info.provider == "local" for info in ctx.llm.enabled_models())
    body = await languages(signed_in)
    assert all(offer["name"] != "llm" for pair in body["pairs"] for offer in pair["providers"])


async def test_a_vendor_model_adds_its_pairs_after_the_configured_order(signed_in, ctx):
    vendor = FakeLLMProvider(name="vendor", models=[VENDOR_MODEL])
    ctx.translation = build_translation_registry(
        TranslationSettings(providers=["llm", "local"], llm_languages=["en", "es", "hi"]),
        http=ctx.http, llm=LLMRegistry([vendor], default_model=VENDOR_MODEL.id))
    body = await languages(signed_in)
    pairs = {(p["source"], p["target"]): [o["name"] for o in p["providers"]]
             for p in body["pairs"]}
    assert pairs[("en", "hi")] == ["llm"]
    assert pairs[("en", "es")] == (["llm", "local"] if APERTIUM else ["llm"])
    offer = next(p for p in body["pairs"] if p["source"] == "hi")["providers"][0]
    assert offer["label"] == "Vendor model"


async def test_with_no_translator_there_is_nothing_to_offer(signed_in, ctx):
    ctx.translation = build_translation_registry(TranslationSettings(providers=["deepl"]),
                                                 http=ctx.http, llm=ctx.llm)
    assert await languages(signed_in) == {"pairs": [], "languages": []}


async def test_it_needs_a_signed_in_account(client):
    response = await client.get("/api/v1/translation/languages")
    assert response.status_code == 401
