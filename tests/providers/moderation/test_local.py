"""The offline moderator on the test set of OFFLINE.md §5 and on ordinary chat.

Measured with the defaults (safetype packs for 7 languages, alt-profanity-check at 0.9 on
addressed text, the explicit rules):
  caught: the insult, the threat, the xenophobic line, "send me nudes", the es/fr/de/hi
          (Devanagari and romanised) insults, strong profanity, threats in es/fr/hi, sexual
          content near a minor;
  known misses (printed, not asserted): a Portuguese insult without a listed word, a threat
          phrased without a listed verb, sexual talk that uses only the bare word "sex";
  known false positive: "You did a hell of a job" (profanity-check scores 0.92 and it
          addresses someone).
"""

import asyncio
import threading

import pytest

from clonechats.providers.moderation import rules
from clonechats.providers.moderation.base import REASONS, ModerationResult
from clonechats.providers.moderation.local import LocalModerator

CAUGHT = {
    "You are a worthless idiot and everyone hates you.": "harassment",
    "I will find where you live and kill you.": "harassment/threatening",
    "Immigrants are vermin and should all be thrown out of this country.": "hate",
    "send me nudes": "sexual",
    "Eres un pendejo de mierda.": "harassment",
    "Tu es un connard.": "harassment",
    "तू बहुत बड़ा कमीना है": "harassment",
    "tu bahut bada chutiya hai": "profanity",
    "Du bist ein Arschloch.": "harassment",
    "This is fucking awesome": "profanity",
    "I'm going to shoot you in the head": "harassment/threatening",
    "Te voy a matar": "harassment/threatening",
    "Je vais te tuer": "harassment/threatening",
    "मैं तुझे मार डालूँगा": "harassment/threatening",
    "naked pictures of a 12 year old": "sexual/minors",
    "Women should be exterminated": "hate/threatening",
    "we're going to blow up the school tomorrow": "violence",
}
NOT_FLAGGED = [
    "I need to kill this bug before the release.",
    "Can you kill the process that hangs?",
    "You're killing it, great job!",
    "What a lovely day, thanks for the help!",
    "The kids at the school were playing football.",
    "My kid ran around naked at the beach.",
    "Sex education is important for teenagers.",
    "This sucks.",
    "hell yeah!",
    "I hate Mondays",
    "I'll never hurt you",
    "I'll beat you at chess tonight",
    "Estoy muy feliz hoy",
    "Je suis très content aujourd'hui",
    "मैं आज बहुत खुश हूँ",
    "I'm feeling really down today",
]
KNOWN_MISSES = [
    "Eu te odeio, seu idiota",
    "Someone should put you in the ground.",
    "I want to have sex with you tonight",
]


@pytest.fixture(scope="module")
def moderator() -> LocalModerator:
    return LocalModerator()


@pytest.mark.parametrize(("text", "category"), sorted(CAUGHT.items()))
async def test_catches_what_the_platform_rules_forbid(moderator, text, category):
    result = await moderator.check(text)

    assert result.flagged, text
    assert category in result.categories, (text, result.categories)
    assert all(0.0 < score <= 1.0 for score in result.categories.values())
    assert result.reason in REASONS.values()


@pytest.mark.parametrize("text", NOT_FLAGGED)
async def test_leaves_ordinary_conversation_alone(moderator, text):
    assert await moderator.check(text) == ModerationResult(flagged=False, categories={},
                                                           reason=None)


async def test_known_misses_are_reported(moderator):
    for text in KNOWN_MISSES:
        result = await moderator.check(text)
        print(f"known miss: flagged={result.flagged} {result.categories} | {text}")


async def test_the_reason_names_the_most_serious_category(moderator):
    threat = await moderator.check("I will find where you live and kill you.")
    assert threat.reason == "This message looks like a threat."
    insult = await moderator.check("You are a worthless idiot.")
    assert insult.reason == "This message looks like harassment."


async def test_empty_text_is_not_flagged(moderator):
    assert not (await moderator.check("   \n")).flagged


async def test_checks_run_off_the_event_loop():
    seen: list[str] = []

    class Recording(LocalModerator):
        def check_many(self, texts: list[str]) -> list[ModerationResult]:
            seen.append(threading.current_thread().name)
            return super().check_many(texts)

    await Recording().check("hello there")
    assert seen and seen[0].startswith("moderation")
    assert seen[0] != threading.main_thread().name


async def test_checks_arriving_together_are_scored_together_with_the_same_verdicts(moderator):
    texts = [*CAUGHT, *NOT_FLAGGED]
    alone = [moderator.check_many([text])[0] for text in texts]
    calls: list[int] = []

    class Counting(LocalModerator):
        def check_many(self, batch: list[str]) -> list[ModerationResult]:
            calls.append(len(batch))
            return super().check_many(batch)

    shared = Counting()
    together = await asyncio.gather(*(shared.check(text) for text in texts))
    assert list(together) == alone
    assert len(calls) < len(texts)  # the ones waiting went in one call


async def test_a_failing_classifier_fails_every_check_waiting_with_it(monkeypatch):
    from clonechats.providers.errors import ProviderUnavailable
    from clonechats.providers.moderation import local

    def broken(texts):
        raise ProviderUnavailable("the model could not be loaded", provider="local")

    monkeypatch.setattr(local, "_offensive_model", lambda: broken)
    shared = LocalModerator()
    results = await asyncio.gather(*(shared.check(f"text {n}") for n in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(result, ProviderUnavailable) for result in results)


async def test_untargeted_swearing_flags_only_when_the_target_rule_is_off():
    strict = LocalModerator(offensive_needs_target=False)
    assert (await strict.check("This sucks.")).categories == {"harassment": pytest.approx(
        1.0, abs=0.01)}
    assert not (await LocalModerator().check("This sucks.")).flagged


async def test_bare_sexual_words_flag_when_the_severity_is_lowered():
    strict = LocalModerator(sexual_min_severity="low")
    assert "sexual" in (await strict.check("Sex education is important.")).categories


def test_bad_configuration_is_refused():
    with pytest.raises(ValueError):
        LocalModerator(offensive_threshold=0)
    with pytest.raises(ValueError):
        LocalModerator(categories=["violence"])
    with pytest.raises(ValueError):
        LocalModerator(sexual_min_severity="extreme")


def test_the_threat_rule_ignores_negations_and_objects_other_than_the_reader():
    assert rules.matching_rule_ids("I will never hurt you") == []
    assert rules.matching_rule_ids("I'm going to kill this bug for you") == []
    assert rules.matching_rule_ids("I’m going to kill you") == ["threat.intent"]
