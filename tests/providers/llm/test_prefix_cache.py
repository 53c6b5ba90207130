"""The cross-conversation prefix cache: one state per conversation, bounded, least recently used
out first; and, on the real light model, a restored state gives exactly the reply a fresh read
of the whole prompt gives."""

from contextlib import aclosing

import numpy as np

from clonechats.providers.llm.base import ChatMessage, StreamEnd, TextDelta
from clonechats.providers.llm.local import LocalProvider
from clonechats.providers.llm.prefix_cache import PrefixCache, common_prefix

MODEL = "local:smollm2-135m"


def tokens(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.intc)


def test_common_prefix():
    assert common_prefix(tokens(1, 2, 3), tokens(1, 2, 4, 5)) == 2
    assert common_prefix(tokens(1, 2), tokens(1, 2, 3)) == 2
    assert common_prefix(tokens(), tokens(1)) == 0
    assert common_prefix(tokens(9), tokens(1)) == 0


def test_a_newer_state_of_the_same_conversation_replaces_the_older():
    cache = PrefixCache(capacity_bytes=10_000)
    cache.put(tokens(1, 2, 3, 10, 11), head=3, state=b"a" * 10)
    cache.put(tokens(1, 2, 3, 10, 11, 12, 13), head=3, state=b"b" * 10)  # same frame: replaces
    cache.put(tokens(1, 2, 4, 20), head=3, state=b"c" * 10)  # another conversation's frame
    assert len(cache) == 2
    shared, entry = cache.best(tokens(1, 2, 3, 10, 11, 12, 13, 14))
    assert shared == 7 and entry is not None and entry.state == b"b" * 10
    shared, entry = cache.best(tokens(1, 2, 4, 20, 21))
    assert shared == 4 and entry.state == b"c" * 10


def test_the_least_recently_used_goes_first_and_no_state_takes_more_than_a_quarter():
    per_token = tokens(0).nbytes
    cache = PrefixCache(capacity_bytes=4 * (100 + 2 * per_token))
    for n in range(4):
        cache.put(tokens(n, 0), head=1, state=b"x" * 100)
    cache.best(tokens(0, 0))  # conversation 0 is used again
    cache.put(tokens(9, 0), head=1, state=b"x" * 100)
    assert len(cache) == 4 and cache.stats.evicted == 1
    assert cache.best(tokens(1, 0))[0] == 0  # conversation 1, the least recent, is gone
    assert cache.best(tokens(0, 0))[0] == 2
    cache.put(tokens(7, 7), head=1, state=b"x" * 10_000)
    assert cache.stats.skipped_too_large == 1 and cache.best(tokens(7, 7))[0] < 2
    assert cache.nbytes <= cache.capacity_bytes


def chat(name: str, *turns: str) -> list[ChatMessage]:
    messages = [ChatMessage("system", f"You are {name}. You keep a lighthouse. " * 8)]
    for index, text in enumerate(turns):
        messages.append(ChatMessage("user" if index % 2 == 0 else "assistant", text))
    return messages


async def reply(provider: LocalProvider, messages: list[ChatMessage]) -> str:
    async with aclosing(provider.stream(model=MODEL, messages=messages, max_tokens=12,
                                        temperature=0.0)) as stream:
        items = [item async for item in stream]
    assert isinstance(items[-1], StreamEnd)
    return "".join(item.text for item in items if isinstance(item, TextDelta))


async def test_taking_turns_restores_each_conversations_state_and_changes_no_reply():
    cached = LocalProvider(context_window=1024, cache_bytes=64 * 1024 * 1024)
    fresh = LocalProvider(context_window=1024, cache_bytes=0)
    assert cached.host is not fresh.host
    first = chat("Maren", "What do you do at night?")
    other = chat("Quill", "Which comet do you like best?")
    answer = await reply(cached, first)
    await reply(cached, other)  # the context now holds the other conversation
    follow_up = chat("Maren", "What do you do at night?", answer or "…", "And at dawn?")
    with_cache = await reply(cached, follow_up)
    states = cached.host.model().states
    assert states is not None and states.cache.stats.restored == 1
    assert states.cache.stats.saved >= 1
    assert with_cache == await reply(fresh, follow_up)  # same greedy reply, state or no state
    assert fresh.host.model().states is None
