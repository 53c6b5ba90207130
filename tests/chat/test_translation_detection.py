"""Language detection: confident answers among the given languages only, nothing for short text."""

from clonechats.chat.translation import detection

LANGUAGES = ["en", "es", "fr"]


async def detect(text: str, languages: list[str] = LANGUAGES):
    return await detection.detect(text, languages=languages, min_chars=20, min_confidence=0.9)


async def test_each_language_is_told_apart() -> None:
    assert (await detect("Quiero planear un viaje a Madrid el próximo verano.")).language == "es"
    assert (await detect("Je voudrais réserver une table pour ce soir.")).language == "fr"
    found = await detect("I would love to help you plan a trip to Madrid.")
    assert found.language == "en" and 0.9 <= found.confidence <= 1


async def test_short_texts_get_no_answer() -> None:
    assert await detect("Hola, ¿qué tal?") is None


async def test_only_the_given_languages_are_candidates() -> None:
    found = await detect("Ich möchte nächsten Sommer eine Reise nach Berlin planen.",
                         languages=["de", "en"])
    assert found.language == "de"
    unsure = await detection.detect("Ich möchte nächsten Sommer eine Reise nach Berlin planen.",
                                    languages=["es", "fr"], min_chars=20, min_confidence=0.0)
    assert unsure is None or unsure.language in {"es", "fr"}
