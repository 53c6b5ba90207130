"""Mood signals: a label and a valence for each chat message, worked out on this machine.

`classify_mood(ctx, text)` embeds the text with the configured embedding model (`ctx.embeddings`,
multilingual e5 by default) and compares it with the centroid of a few labelled example
sentences per mood (English, with Spanish, French and Hindi ones, so other languages land in
the same space). The closest centroid names the mood. When the best two are closer than
`MIN_MARGIN`, punctuation breaks the tie ("?" favours curious/confused, "!" the excited moods);
if it cannot, the mood is "neutral". The valence (-1..1) is the similarity-weighted mean of the
moods' own valences, so a mixed message gets a moderate one. Centroids are computed once per
process and model; a message costs one embedding of its opening (`opening`: at most
`MAX_CHARS` characters, ending at a sentence end), and
`classify_moods` embeds many messages in one call.

Storage, as the privacy policy says ("chat transcripts (text, mood signals, ...)", kept "until
you delete them, or until account deletion"): a mood belongs to its message. The chat stores
`Mood.as_document()` as the message's `mood` field and nowhere else, so it is shown with the
transcript, exported with it, and deleted with the message, its conversation or the account.
No mood history, profile or aggregate about a person is kept.

A failure of the embedding model raises `providers.errors.ProviderError`; callers store no
mood for that message rather than a made-up one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clonechats.providers.errors import ProviderUnavailable

if TYPE_CHECKING:
    from clonechats.context import Ctx


LABELS: dict[str, float] = {  # label -> its valence
    "joyful": 0.8, "grateful": 0.7, "calm": 0.4, "curious": 0.2, "neutral": 0.0,
    "confused": -0.2, "anxious": -0.55, "sad": -0.7, "frustrated": -0.6, "angry": -0.85,
}
MIN_MARGIN = 0.004  # cosine gap between the best two moods below which the result is a tie
TEMPERATURE = 0.01  # softmax temperature over cosine similarities, for the valence
MAX_CHARS = 240  # a message's opening carries its mood; embedding cost grows with length
MIN_OPENING = 80  # a cut text ends at its last sentence end past this many characters
QUESTION_MOODS = ("curious", "confused")
EXCLAMATION_MOODS = ("joyful", "angry", "grateful", "frustrated")

PROTOTYPES: dict[str, list[str]] = {
    "joyful": ["I'm so happy today!", "This is the best day ever, I'm thrilled!",
               "Yay, I got the job!", "I can't stop smiling, everything is wonderful.",
               "We won the match, what a feeling!", "I'm excited about the trip next week!",
               "¡Estoy muy feliz hoy!", "Je suis tellement content !",
               "मैं आज बहुत खुश हूँ!"],
    "grateful": ["Thank you so much for your help.",
                 "I really appreciate everything you did for me.",
                 "Thanks, that was really kind of you.", "I'm grateful to have you in my life.",
                 "Thanks a lot, this helped me a lot.", "Much appreciated, you saved my day.",
                 "Muchas gracias por tu ayuda.", "Merci beaucoup pour ton aide.",
                 "आपकी मदद के लिए बहुत धन्यवाद।"],
    "calm": ["I feel relaxed and at peace.", "It's a quiet evening and I'm just resting.",
             "Everything is fine, no rush at all.", "I'm feeling calm and content right now.",
             "Just enjoying a slow cup of tea on the porch.",
             "I took a deep breath and feel centred.", "Estoy tranquilo y relajado.",
             "Je me sens calme et serein.", "मैं शांत और आराम से हूँ।"],
    "curious": ["I wonder how black holes actually work.",
                "Tell me more about that, it sounds interesting.", "How does that work exactly?",
                "I'm curious what you think about ancient Rome.",
                "What would happen if the moon disappeared?",
                "That's fascinating, why is it like that?", "Me pregunto cómo funciona eso.",
                "Je me demande comment ça marche.", "मुझे जानना है कि यह कैसे काम करता है।"],
    "neutral": ["The meeting is at three o'clock.", "I had pasta for lunch.",
                "Please summarise this paragraph.", "My name is Sam and I live in Leeds.",
                "The report is due on Friday.", "Okay.", "I went to the store and bought milk.",
                "La reunión es a las tres.", "Le train part à huit heures.", "मीटिंग तीन बजे है।"],
    "confused": ["I don't understand what you mean.", "Wait, that doesn't make sense to me.",
                 "I'm lost, can you explain again?", "Huh? I'm confused.",
                 "I'm not sure what's going on here.",
                 "Which one am I supposed to pick? I can't figure it out.", "No entiendo nada.",
                 "Je ne comprends pas ce que tu veux dire.", "मुझे समझ नहीं आया।"],
    "anxious": ["I'm really nervous about my exam tomorrow.", "I can't stop worrying about it.",
                "I'm scared something bad will happen.", "My heart is racing and I feel on edge.",
                "What if I fail and everyone finds out?", "I'm so stressed about the interview.",
                "Estoy muy nervioso por mañana.", "J'ai peur et je suis stressé.",
                "मुझे बहुत चिंता हो रही है।"],
    "sad": ["I feel so sad and lonely.", "I miss her so much, it hurts.",
            "I've been crying all day.", "Nothing makes me happy anymore.",
            "My dog died last week and I'm heartbroken.", "I feel empty and down today.",
            "Estoy muy triste.", "Je me sens seul et triste.", "मैं बहुत उदास हूँ।"],
    "frustrated": ["Ugh, this still isn't working.", "I've tried ten times and it keeps failing.",
                   "This is so annoying, nothing goes right.", "I'm fed up with waiting.",
                   "Why does this keep happening to me?", "I'm tired of repeating myself.",
                   "Estoy harto de esto.", "Ça m'énerve, rien ne marche.",
                   "यह बार-बार खराब हो रहा है, मैं परेशान हूँ।"],
    "angry": ["I'm furious with you!", "This makes me so angry I could scream.",
              "How dare you say that to me!", "I hate this, I'm livid.",
              "Stop lying to me, I'm so mad!", "I'm absolutely outraged by what they did.",
              "¡Estoy furioso contigo!", "Je suis en colère contre toi !",
              "मुझे तुम पर बहुत गुस्सा है!"],
}


@dataclass(frozen=True)
class Mood:
    label: str
    valence: float  # -1..1

    def as_document(self) -> dict[str, Any]:
        return {"label": self.label, "valence": self.valence}


_centroids: dict[str, dict[str, list[float]]] = {}  # model id -> label -> unit vector


def _unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def _mood_centroids(embeddings: Any) -> dict[str, list[float]]:
    cached = _centroids.get(embeddings.model_id)
    if cached is not None:
        return cached
    labels = list(PROTOTYPES)
    sentences = [s for label in labels for s in PROTOTYPES[label]]
    vectors = await embeddings.embed_queries(sentences)
    centroids: dict[str, list[float]] = {}
    start = 0
    for label in labels:
        rows = vectors[start:start + len(PROTOTYPES[label])]
        start += len(rows)
        centroids[label] = _unit([sum(column) / len(rows) for column in zip(*rows, strict=True)])
    _centroids[embeddings.model_id] = centroids
    return centroids


def decide(scores: dict[str, float], text: str) -> Mood:
    """The mood for cosine `scores` per label (the rule described in the module docstring)."""
    ranked = sorted(scores, key=scores.__getitem__, reverse=True)
    best = ranked[0]
    if scores[best] - scores[ranked[1]] < MIN_MARGIN:
        tied = [label for label in ranked if scores[best] - scores[label] < MIN_MARGIN]
        cues = (QUESTION_MOODS if "?" in text else ()) + (
            EXCLAMATION_MOODS if "!" in text else ())
        best = next((label for label in tied if label in cues), "neutral")
    top = max(scores.values())
    weights = {label: math.exp((score - top) / TEMPERATURE) for label, score in scores.items()}
    total = sum(weights.values())
    valence = sum(weight * LABELS[label] for label, weight in weights.items()) / total
    return Mood(label=best, valence=round(max(-1.0, min(1.0, valence)), 3))


def opening(text: str) -> str:
    """The part of a message its mood is read from: all of a short one; of a longer one, its
    first `MAX_CHARS` characters, ending at a sentence end when there is one."""
    text = text.strip()
    if len(text) <= MAX_CHARS:
        return text
    cut = text[:MAX_CHARS]
    end = max(cut.rfind(mark) for mark in (". ", "! ", "? ", "\n"))
    return cut[:end + 1].rstrip() if end + 1 >= MIN_OPENING else cut


async def classify_moods(ctx: Ctx, texts: list[str]) -> list[Mood]:
    """The mood of each message (a user's or a persona's), offline, in one embedding call."""
    cut = [opening(text) for text in texts]
    wanted = [text for text in cut if text]
    if wanted and ctx.embeddings is None:
        raise ProviderUnavailable("no embedding model is configured", provider="mood",
                                  retryable=False)
    vectors = iter(await ctx.embeddings.embed_queries(wanted) if wanted else [])
    centroids = await _mood_centroids(ctx.embeddings) if wanted else {}
    found = []
    for text in cut:
        if not text:
            found.append(Mood(label="neutral", valence=0.0))
            continue
        vector = next(vectors)
        found.append(decide({label: _dot(vector, centroid)
                             for label, centroid in centroids.items()}, text))
    return found


async def classify_mood(ctx: Ctx, text: str) -> Mood:
    """The mood of one message."""
    [found] = await classify_moods(ctx, [text])
    return found
