"""The offline moderator: two packaged classifiers plus the explicit rules in `rules.py`.

* `safetype` (rule packs for en, es, fr, de, pt, hi and romanised Hindi): its matches in the
  enabled categories (profanity, harassment, hate, sexual) flag the text; a threat rule's match
  counts as `harassment/threatening`. Sexual matches count from severity "medium" up by default,
  so the bare word "sex" ("sex education") is not flagged while "send nudes" is.
* `alt-profanity-check` (an English linear SVM giving a probability of offensive language):
  a probability at or above `offensive_threshold` counts as harassment when the text addresses
  someone ("you", "your", ...). It is trigger-happy on untargeted mild swearing ("this sucks"
  1.00, "hell yeah" 0.95, "I hate Mondays" 0.91), so on its own, unaddressed, it flags nothing;
  untargeted strong profanity is still caught by safetype's profanity packs.
* `rules.match` (sexual content involving minors, credible threats, dehumanising hate).

The text is flagged when any of the three fires. Both classifiers load lazily on the first
check (about 2 s for scikit-learn and the pickled model, 0.3 s for the rule packs), never at
start-up, and every check runs on one dedicated thread, off the event loop. Checks that arrive
while the thread is busy are taken together: the classifier scores them in one call, which
costs about what one text alone does (50 texts: 3 ms at once against 128 ms one by one).
"""

import asyncio
import re
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.moderation import rules
from clonechats.providers.moderation.base import ModerationResult, verdict

NAME = "local"
LANGUAGES = ("en", "es", "fr", "de", "pt", "hi", "hi-latn")
CATEGORIES = ("profanity", "harassment", "hate", "sexual")
SEVERITIES = ("low", "medium", "high", "critical")
MAX_CHARS = 20_000  # longer texts are checked in full by the rules, the classifiers see this much

_ADDRESSED = re.compile(r"\b(?:you|your|yours|you're|youre|yourself|yourselves|u|ur|ya|"
                        r"y'all|yall)\b", re.IGNORECASE)

_load_lock = threading.Lock()
_predict_prob: Callable[[list[str]], Any] | None = None
_engines: dict[tuple[tuple[str, ...], tuple[str, ...], str], Any] = {}
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _moderation_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="moderation")
        return _executor


def _offensive_model() -> Callable[[list[str]], Any]:
    global _predict_prob
    with _load_lock:
        if _predict_prob is None:
            try:
                # Importing loads the vectoriser and the SVM (joblib pickles made with the
                # scikit-learn version the package pins exactly, so no version warning).
                from profanity_check import predict_prob
            except ImportError as exc:
                raise ProviderUnavailable("the alt-profanity-check package is not installed",
                                          provider=NAME, retryable=False) from exc
            _predict_prob = predict_prob
        return _predict_prob


def _rule_engine(languages: tuple[str, ...], categories: tuple[str, ...],
                 sexual_min_severity: str) -> Any:
    key = (languages, categories, sexual_min_severity)
    with _load_lock:
        engine = _engines.get(key)
        if engine is None:
            try:
                from safetype import create_moderation_engine
            except ImportError as exc:
                raise ProviderUnavailable("the safetype package is not installed",
                                          provider=NAME, retryable=False) from exc
            engine = create_moderation_engine(
                mode="block", languages=list(languages), categories=list(categories),
                policy={"sexual": {"min_severity": sexual_min_severity}})
            _engines[key] = engine
        return engine


def addresses_someone(text: str) -> bool:
    return _ADDRESSED.search(text) is not None


class LocalModerator:
    name = NAME

    def __init__(self, *, offensive_threshold: float = 0.9, offensive_needs_target: bool = True,
                 languages: Sequence[str] = LANGUAGES, categories: Sequence[str] = CATEGORIES,
                 sexual_min_severity: str = "medium") -> None:
        if not 0.0 < offensive_threshold <= 1.0:
            raise ValueError("offensive_threshold must be in (0, 1]")
        unknown = set(categories) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown safetype categories {sorted(unknown)}")
        if sexual_min_severity not in SEVERITIES:
            raise ValueError(f"unknown severity {sexual_min_severity!r}")
        self._threshold = offensive_threshold
        self._needs_target = offensive_needs_target
        self._languages = tuple(languages)
        self._categories = tuple(categories)
        self._sexual_min_severity = sexual_min_severity
        self._waiting: list[tuple[str, Future[ModerationResult]]] = []
        self._waiting_lock = threading.Lock()

    async def check(self, text: str) -> ModerationResult:
        if not text.strip():
            return verdict({})
        return await asyncio.wrap_future(self._submit(text))

    def _submit(self, text: str) -> "Future[ModerationResult]":
        """Queue `text` for the moderation thread; the first text queued schedules a drain,
        which takes every text waiting by the time it runs."""
        found: Future[ModerationResult] = Future()
        with self._waiting_lock:
            self._waiting.append((text, found))
            first = len(self._waiting) == 1
        if first:
            _moderation_executor().submit(self._drain)
        return found

    def _drain(self) -> None:
        with self._waiting_lock:
            batch, self._waiting = self._waiting, []
        try:
            results = self.check_many([text for text, _ in batch])
        except BaseException as exc:
            for _, found in batch:
                found.set_exception(exc)
            return
        for (_, found), result in zip(batch, results, strict=True):
            found.set_result(result)

    def check_many(self, texts: list[str]) -> list[ModerationResult]:
        """The verdict of each text, with one classifier call for all (blocks)."""
        samples = [text[:MAX_CHARS] for text in texts]
        probabilities = _offensive_model()(samples)
        engine = _rule_engine(self._languages, self._categories, self._sexual_min_severity)
        results = []
        for text, sample, probability in zip(texts, samples, probabilities, strict=True):
            fired = rules.match(text)
            for found in engine.moderate(sample).matches:
                if found.action != "block":
                    continue
                category = ("harassment/threatening" if ".threat" in found.rule_id
                            else str(found.category))
                fired[category] = max(fired.get(category, 0.0), float(found.confidence))
            if float(probability) >= self._threshold and (
                    not self._needs_target or addresses_someone(sample)):
                fired["harassment"] = max(fired.get("harassment", 0.0), float(probability))
            results.append(verdict(fired))
        return results
