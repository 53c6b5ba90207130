"""Which language a message is written in, offline (py3langid: its model ships in the wheel).

The detector chooses only among the languages it is given (the conversation's two and the
configured `translation.detect_languages`), and answers only for texts with at least
`min_chars` letters and a confidence of at least `min_confidence` among those languages:
a short "ok" or "Hola" says too little, and a wrong flag is worse than none. The model (about
4.6 MB compressed; about 3 s to load on two busy cores) loads once per process in a worker
thread, started when a translation chat is created (`warm()`) or else by the first detection;
every detection runs in a worker thread too, so the event loop stays free.
"""

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from clonechats.providers.translation.languages import primary

_identifier: Any = None
_loading = threading.Lock()


@dataclass(frozen=True)
class Detected:
    language: str  # language subtag, e.g. "fr"
    confidence: float  # 0..1 among the languages it chose from


def _model() -> Any:
    global _identifier
    with _loading:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def warm() -> None:
    """Start loading the model in a background thread (a new translation chat calls this, so
    its first message does not wait for the load); does nothing once it is loaded."""
    if _identifier is None:
        threading.Thread(target=_model, name="language-detector-load", daemon=True).start()


def detect_now(text: str, languages: frozenset[str]) -> Detected | None:
    """The most likely of `languages` for `text` (blocking: call it from a thread)."""
    ranked = [(code, score) for code, score in _model().rank(text) if code in languages]
    total = sum(score for _, score in ranked)
    if not ranked or total <= 0:
        return None
    code, score = ranked[0]
    return Detected(language=code, confidence=round(score / total, 4))


async def detect(text: str, *, languages: list[str], min_chars: int,
                 min_confidence: float) -> Detected | None:
    """The language of `text` when it can be told with confidence, else None."""
    if sum(ch.isalpha() for ch in text) < min_chars:
        return None
    found = await asyncio.to_thread(detect_now, text,
                                    frozenset(primary(code) for code in languages))
    if found is None or found.confidence < min_confidence:
        return None
    return found
