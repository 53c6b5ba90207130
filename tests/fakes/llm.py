"""A scripted language-model provider: a real `LLMProvider` whose replies tests enqueue.

    fake = FakeLLMProvider()
    reply = fake.enqueue(["Hel", "lo"], usage=Usage(10, 2), fail_after=None, delay=0.0,
                         pause_after=1)
    ...  # the app streams "Hel", then waits:
    await reply.paused.wait(); ...; reply.resume.set()

Tokens are counted as whitespace-separated words (+4 per message, +3 per prompt), so tests can
size budgets. Without a usage the reply reports the counted prompt and one token per chunk.
`fail_after=n` raises `ProviderUnavailable` (a timeout) after n chunks. `history` keeps every
request (model, messages, max_tokens, temperature); `closed` on a reply says the consumer
closed its stream. With nothing enqueued a reply is "Hello there."
"""

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from clonechats.providers.errors import ProviderError, ProviderUnavailable
from clonechats.providers.llm.base import (
    ChatMessage,
    ModelInfo,
    StreamEnd,
    StreamItem,
    TextDelta,
    Usage,
)

FAKE_MODEL = ModelInfo(id="fake:echo", provider="fake", context_window=4096, label="Fake")
DEFAULT_REPLY = ["Hello", " there."]


@dataclass
class ScriptedReply:
    chunks: list[str]
    usage: Usage | None = None
    fail_after: int | None = None
    error: ProviderError | None = None
    delay: float = 0.0
    pause_after: int | None = None
    finish_reason: str = "stop"
    paused: asyncio.Event = field(default_factory=asyncio.Event)
    resume: asyncio.Event = field(default_factory=asyncio.Event)
    delivered: int = 0
    closed: bool = False


def count_words(messages: list[ChatMessage]) -> int:
    return 3 + sum(4 + len(message.content.split()) for message in messages)


class FakeLLMProvider:
    def __init__(self, *, name: str = "fake", models: list[ModelInfo] | None = None) -> None:
        self.name = name
        self._models = models or [FAKE_MODEL]
        self._replies: deque[ScriptedReply] = deque()
        self.history: list[dict[str, Any]] = []

    def enqueue(self, reply_chunks: list[str], *, usage: Usage | None = None,
                fail_after: int | None = None, delay: float = 0.0,
                pause_after: int | None = None, error: ProviderError | None = None,
                finish_reason: str = "stop") -> ScriptedReply:
        reply = ScriptedReply(chunks=list(reply_chunks), usage=usage, fail_after=fail_after,
                              error=error, delay=delay, pause_after=pause_after,
                              finish_reason=finish_reason)
        self._replies.append(reply)
        return reply

    def models(self) -> list[ModelInfo]:
        return list(self._models)

    async def count_tokens(self, *, model: str, messages: list[ChatMessage]) -> int:
        return count_words(messages)

    def stream(self, *, model: str, messages: list[ChatMessage], max_tokens: int,
               temperature: float = 0.7) -> AsyncIterator[StreamItem]:
        self.history.append({"model": model, "messages": list(messages),
                             "max_tokens": max_tokens, "temperature": temperature})
        reply = self._replies.popleft() if self._replies else ScriptedReply(list(DEFAULT_REPLY))
        return self._play(reply, messages)

    async def _play(self, reply: ScriptedReply,
                    messages: list[ChatMessage]) -> AsyncIterator[StreamItem]:
        try:
            for index, chunk in enumerate(reply.chunks):
                if reply.fail_after is not None and index >= reply.fail_after:
                    raise reply.error or ProviderUnavailable("timed out", provider=self.name,
                                                             code="timeout")
                if reply.pause_after is not None and index == reply.pause_after:
                    reply.paused.set()
                    await reply.resume.wait()
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                reply.delivered += 1
                yield TextDelta(chunk)
            if reply.fail_after is not None and reply.fail_after >= len(reply.chunks):
                raise reply.error or ProviderUnavailable("timed out", provider=self.name,
                                                         code="timeout")
            usage = reply.usage or Usage(prompt_tokens=count_words(messages),
                                         completion_tokens=len(reply.chunks))
            yield StreamEnd(usage=usage, finish_reason=reply.finish_reason)
        finally:
            reply.closed = True
