"""DeepL's adapter against a fake of its HTTP API: the request it sends, and every failure."""

import httpx
import pytest

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.translation.deepl import (
    FREE_BASE_URL,
    PRO_BASE_URL,
    DeepLTranslator,
    base_url_for,
    target_code,
)
from tests.fakes.deepl import API_KEY, BASE_URL, FakeDeepL


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def fake() -> FakeDeepL:
    return FakeDeepL()


@pytest.fixture
async def deepl(fake):
    sleeps = Sleeps()
    async with fake.client() as http:
        translator = DeepLTranslator(api_key=API_KEY, http=http, base_url=BASE_URL,
                                     max_retries=2, sleep=sleeps)
        translator.sleeps = sleeps  # type: ignore[attr-defined]
        yield translator


async def test_it_sends_the_key_the_text_and_both_languages(deepl, fake) -> None:
    result = await deepl.translate("Quiero planear un viaje a Madrid el próximo verano.",
                                   source="es", target="en")
    assert result.text == "I want to plan a trip to Madrid next summer."
    assert result.provider == "deepl"
    [request] = fake.history
    assert request.url == BASE_URL + "/translate"
    assert request.headers["authorization"] == f"DeepL-Auth-Key {API_KEY}"
    assert request.json == {"text": ["Quiero planear un viaje a Madrid el próximo verano."],
                            "source_lang": "ES", "target_lang": "EN-US"}


def test_targets_take_the_variants_deepl_asks_for() -> None:
    assert target_code("en") == "EN-US" and target_code("en-GB") == "EN-GB"
    assert target_code("pt") == "PT-PT" and target_code("pt-BR") == "PT-BR"
    assert target_code("zh-Hant") == "ZH-HANT" and target_code("es-MX") == "ES"


def test_free_keys_use_the_free_endpoint() -> None:
    assert base_url_for("abc:fx") == FREE_BASE_URL
    assert base_url_for("abc") == PRO_BASE_URL


async def test_a_refused_key_is_an_auth_error(fake) -> None:
    async with fake.client() as http:
        wrong = DeepLTranslator(api_key="wrong:fx", http=http, base_url=BASE_URL)
        with pytest.raises(ProviderAuthError):
            await wrong.translate("Hello", source="en", target="es")


async def test_a_used_up_quota_is_not_retried(deepl, fake) -> None:
    fake.enqueue_response(456)
    with pytest.raises(ProviderQuotaError):
        await deepl.translate("Hello", source="en", target="es")
    assert len(fake.history) == 1


async def test_busy_answers_are_retried_with_backoff(deepl, fake) -> None:
    fake.enqueue_response(429, headers={"Retry-After": "2"})
    fake.enqueue_response(503)
    result = await deepl.translate("Hello", source="en", target="es")
    assert result.text == "[ES] Hello"
    assert deepl.sleeps.waits == [2.0, 1.0]


async def test_an_outage_that_lasts_is_unavailable(deepl, fake) -> None:
    for _ in range(3):
        fake.enqueue_response(500)
    with pytest.raises(ProviderUnavailable):
        await deepl.translate("Hello", source="en", target="es")
    assert len(fake.history) == 3


async def test_timeouts_and_unreadable_answers_are_unavailable(deepl, fake) -> None:
    for _ in range(3):
        fake.enqueue_response(error=httpx.ReadTimeout)
    with pytest.raises(ProviderUnavailable) as raised:
        await deepl.translate("Hello", source="en", target="es")
    assert raised.value.code == "timeout"
    for _ in range(3):
        fake.enqueue_response(200, body={"translations": []})
    with pytest.raises(ProviderUnavailable) as raised:
        await deepl.translate("Hello", source="en", target="es")
    assert raised.value.code == "bad_response"


async def test_a_bad_request_is_rejected_with_deepls_reason(deepl, fake) -> None:
    fake.enqueue_response(400)
    with pytest.raises(ProviderRejected) as raised:
        await deepl.translate("Hello", source="en", target="es")
    assert "Bad request" in str(raised.value)
    assert API_KEY not in str(raised.value)
