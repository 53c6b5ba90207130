"""How `chat_overhead.py` times one streamed reply on each path, and what it keeps per level.

Not a benchmark of its own. Every timing is from sending the request, on the client's clock:
time to first token (TTFT), time to the last token, time to the end (`data: [DONE]` and the
end of the body for an OpenAI-style stream; the `done` event for Clone Chats) and every gap
between two tokens. A reply that fails is never timed: it is counted by kind (`http 503`,
`sse error`, `no tokens`, `timeout`, or the exception's name) and the run goes on.
"""

import asyncio
import json
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx


class ReplyFailed(Exception):
    """One reply that did not complete; `kind` is what it is counted as."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass
class Sample:
    ttft: float
    last_token: float
    total: float  # to the end of the stream; for Clone Chats, to `done`
    tokens: int
    gaps: list[float]

    @property
    def after_last(self) -> float:
        """From the last token to the end (Clone Chats: settling before `done`)."""
        return self.total - self.last_token


class Clock:
    """Token arrival times of one reply."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.times: list[float] = []

    def token(self) -> None:
        self.times.append(time.perf_counter())

    def sample(self, end: float) -> Sample:
        if not self.times:
            raise ReplyFailed("no tokens")
        first, last = self.times[0], self.times[-1]
        gaps = [b - a for a, b in zip(self.times, self.times[1:], strict=False)]
        return Sample(first - self.started, last - self.started, end - self.started,
                      len(self.times), gaps)


async def _check_status(response: httpx.Response) -> None:
    if response.status_code // 100 != 2:
        body = (await response.aread())[:200].decode(errors="replace")
        raise ReplyFailed(f"http {response.status_code}", body)


async def openai_reply(client: httpx.AsyncClient, path: str, body: dict,
                       headers: dict[str, str] | None = None) -> Sample:
    """An OpenAI-style `chat/completions` stream (the fake server, or Open WebUI in front of
    it): a token is a `data:` chunk whose delta carries content."""
    clock = Clock()
    async with client.stream("POST", path, json=body, headers=headers) as response:
        await _check_status(response)
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                break
            try:
                chunk = json.loads(data)
            except ValueError as exc:
                raise ReplyFailed("bad chunk", data[:200]) from exc
            if not isinstance(chunk, dict):
                continue
            if chunk.get("error"):
                raise ReplyFailed("sse error", json.dumps(chunk["error"])[:200])
            for choice in chunk.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    clock.token()
    return clock.sample(time.perf_counter())


async def platform_reply(client: httpx.AsyncClient, conversation_id: str, text: str) -> Sample:
    """`POST /api/v1/conversations/{id}/messages` on Clone Chats: `token` events, then `done`
    (or `error`)."""
    clock = Clock()
    done = None
    event = None
    headers = {"X-CSRF-Token": client.cookies.get("csrf_token", "")}
    async with client.stream("POST", f"/api/v1/conversations/{conversation_id}/messages",
                             json={"text": text}, headers=headers) as response:
        await _check_status(response)
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:].strip()
            elif not line.startswith("data: "):
                continue
            elif event == "token":
                clock.token()
            elif event == "error":
                raise ReplyFailed("sse error", line[6:200])
            elif event == "done":
                done = time.perf_counter()
    if done is None:
        raise ReplyFailed("no done" if clock.times else "no tokens")
    return clock.sample(done)


@dataclass
class Results:
    """One path at one level: the replies that completed, the failures by kind, wall time."""

    samples: list[Sample] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    wall: float = 0.0
    examples: dict[str, str] = field(default_factory=dict)

    def values(self, name: str) -> list[float]:
        return sorted(getattr(s, name) for s in self.samples)

    def gaps(self) -> list[float]:
        return sorted(gap for s in self.samples for gap in s.gaps)

    @property
    def aggregate(self) -> float:
        return sum(s.tokens for s in self.samples) / self.wall if self.wall else 0.0


def percentile(values: list[float], share: float) -> float | None:
    """The value at `share` (0.5: the median) of sorted `values`, interpolated between the two
    nearest ranks as numpy does by default; None if there are none."""
    if not values:
        return None
    position = share * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


async def timed(results: Results, make: Coroutine[Any, Any, Sample], limit_s: float) -> None:
    """Await one reply (a coroutine), with a deadline; keep its sample or count its failure."""
    try:
        async with asyncio.timeout(limit_s):
            results.samples.append(await make)
    except ReplyFailed as exc:
        results.errors[exc.kind] += 1
        results.examples.setdefault(exc.kind, exc.detail)
    except TimeoutError:
        results.errors["timeout"] += 1
    except Exception as exc:  # a failed reply is counted, never fatal
        kind = type(exc).__name__
        results.errors[kind] += 1
        results.examples.setdefault(kind, str(exc)[:200])
