"""A circuit breaker per language-model provider, so an outage fails fast instead of making
every message wait for the vendor's timeouts.

- Closed: calls go through. A provider that is unavailable (`ProviderUnavailable`: timeouts,
  connection errors, 5xx, 429) `failures_to_open` times in a row, or on at least half of the
  last `window_calls` calls within `window_seconds`, opens the circuit.
- Open: `LLMRegistry.resolve` refuses that provider's models at once with 503
  `provider_circuit_open` and a `Retry-After` of the time left, before anything is stored or
  reserved. Other providers and every non-LLM route are unaffected.
- Half-open: after `open_seconds` one call is let through as a probe; success closes the
  circuit, failure opens it again for another `open_seconds`.

Only whole replies count as successes (the stream reached its end). Rejections (a 4xx about
the request itself) say nothing about the provider's health and are not counted. The state is
per process, which is what fail-fast needs. Time comes from an injectable monotonic clock.
"""

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from clonechats.errors import AppError
from clonechats.providers.errors import ProviderUnavailable
from clonechats.providers.llm.base import LLMProvider, StreamEnd, StreamItem


class CircuitOpen(AppError):
    code = "provider_circuit_open"
    status = 503
    message = ("The model is not answering right now, so messages are paused for a moment. "
               "Your conversation is kept; please try again shortly.")


@dataclass
class _State:
    consecutive: int = 0
    recent: deque[tuple[float, bool]] = field(default_factory=deque)
    opened_at: float | None = None
    probing: bool = False


class CircuitBreaker:
    def __init__(self, *, failures_to_open: int = 5, window_calls: int = 20,
                 window_seconds: float = 30.0, open_seconds: float = 30.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.failures_to_open = failures_to_open
        self.window_calls = window_calls
        self.window_seconds = window_seconds
        self.open_seconds = open_seconds
        self._now = monotonic
        self._states: dict[str, _State] = {}

    def _state(self, name: str) -> _State:
        return self._states.setdefault(name, _State())

    def check(self, name: str) -> None:
        """CircuitOpen (with Retry-After) while `name` is open; lets one probe through after."""
        state = self._state(name)
        if state.opened_at is None:
            return
        left = state.opened_at + self.open_seconds - self._now()
        if left > 0 or state.probing:
            wait = max(1, math.ceil(left)) if left > 0 else 1
            raise CircuitOpen(headers={"Retry-After": str(wait)}, details={"provider": name})
        state.probing = True  # half-open: this call is the probe

    def is_open(self, name: str) -> bool:
        return self._state(name).opened_at is not None

    def success(self, name: str) -> None:
        state = self._state(name)
        state.consecutive, state.opened_at, state.probing = 0, None, False
        self._remember(state, ok=True)

    def failure(self, name: str) -> None:
        state = self._state(name)
        state.consecutive += 1
        self._remember(state, ok=False)
        failed = sum(1 for _, ok in state.recent if not ok)
        ratio_tripped = len(state.recent) >= self.window_calls and failed * 2 >= len(state.recent)
        if state.probing or state.consecutive >= self.failures_to_open or ratio_tripped:
            state.opened_at, state.probing = self._now(), False

    def _remember(self, state: _State, *, ok: bool) -> None:
        now = self._now()
        state.recent.append((now, ok))
        while state.recent and (len(state.recent) > self.window_calls
                                or state.recent[0][0] < now - self.window_seconds):
            state.recent.popleft()


class GuardedProvider:
    """A provider whose replies feed the breaker; everything else is the provider's own."""

    def __init__(self, inner: LLMProvider, breaker: CircuitBreaker) -> None:
        self.inner = self._inner = inner
        self._breaker = breaker
        self.name = inner.name

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def models(self) -> list[Any]:
        return self._inner.models()

    async def count_tokens(self, **kwargs: Any) -> int:
        return await self._inner.count_tokens(**kwargs)

    async def stream(self, **kwargs: Any) -> AsyncIterator[StreamItem]:
        try:
            async for item in self._inner.stream(**kwargs):
                if isinstance(item, StreamEnd):
                    self._breaker.success(self.name)
                yield item
        except ProviderUnavailable:
            self._breaker.failure(self.name)
            raise
