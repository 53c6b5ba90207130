"""Time to first token of follow-up turns when conversations take turns on one local model,
with the cross-conversation prefix cache (`providers/llm/prefix_cache.py`) and without it.

    .venv/bin/python bench/prefix_cache.py [--model qwen2.5-1.5b] [--conversations 3]
        [--turns 3] [--tokens 16]

Each conversation has its own persona frame (the compact frame local models get) and grows by
one exchange per turn; turns go round-robin, so without the cache every turn after the first
finds the context holding another conversation and reads its whole prompt again. The first
turn of each conversation is cold either way. Prints median and worst TTFT of the follow-up
turns, the prompt size, and the cache's size and counters. The cores are shared with other
work, so absolute times are noisy; the ratio is what to read. Not a test: it only prints.
"""

import argparse
import asyncio
import os
import statistics
import time

from clonechats.personas.compact_frame import compact_frame
from clonechats.providers.llm.base import ChatMessage, StreamEnd, TextDelta
from clonechats.providers.llm.local import LocalProvider
from clonechats.providers.llm.local_catalog import CATALOG

NAMES = ["Maren", "Captain Wren", "Dr Quill", "Rosa", "Ilse", "Tomas"]
QUESTIONS = ["What did you do this morning?", "What is your favourite place?",
             "Tell me one thing you are proud of.", "What do you eat for dinner?",
             "Who was your best friend as a child?"]


def persona(index: int) -> dict:
    return {"name": NAMES[index % len(NAMES)], "tagline": "A character in a benchmark.",
            "traits": ["calm"], "system_prompt": "Lives by the sea and tells short stories. "
            * 6, "sliders": {"verbosity": 20}}


async def turn(provider: LocalProvider, model: str, messages: list[ChatMessage],
               tokens: int) -> tuple[str, float, int]:
    started = time.perf_counter()
    first = None
    parts = []
    prompt = 0
    async for item in provider.stream(model=model, messages=messages, max_tokens=tokens,
                                      temperature=0.0):
        if isinstance(item, TextDelta):
            first = first or time.perf_counter()
            parts.append(item.text)
        elif isinstance(item, StreamEnd):
            prompt = item.usage.prompt_tokens
    return "".join(parts), (first or time.perf_counter()) - started, prompt


async def run(model_name: str, cache_mb: int, conversations: int, turns: int,
              tokens: int) -> tuple[list[float], int, LocalProvider]:
    provider = LocalProvider(models=[CATALOG[model_name]], cache_bytes=cache_mb * 1024 * 1024)
    model = f"local:{model_name}"
    chats = [[ChatMessage(m["role"], m["content"])
              for m in compact_frame(persona(i), tag=f"{i:016x}")] for i in range(conversations)]
    await provider.count_tokens(model=model, messages=chats[0])  # load the model first
    follow_ups: list[float] = []
    prompt = 0
    for number in range(turns):
        for chat in chats:
            chat.append(ChatMessage("user", QUESTIONS[number % len(QUESTIONS)]))
            reply, ttft, prompt = await turn(provider, model, chat, tokens)
            chat.append(ChatMessage("assistant", reply or "…"))
            if number > 0:
                follow_ups.append(ttft)
    return follow_ups, prompt, provider


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-1.5b", choices=sorted(CATALOG))
    parser.add_argument("--conversations", type=int, default=3)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=16)
    args = parser.parse_args()
    print(f"local:{args.model}, {args.conversations} conversations x {args.turns} turns, "
          f"round-robin, {args.tokens} reply tokens; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs (shared: times are noisy)")
    results = {}
    for label, cache_mb in (("prefix cache on (512 MB)", 512), ("prefix cache off", 0)):
        follow_ups, prompt, provider = await run(args.model, cache_mb, args.conversations,
                                                 args.turns, args.tokens)
        results[label] = statistics.median(follow_ups)
        states = provider.host.model().states
        extra = ""
        if states is not None:
            stats = states.cache.stats
            extra = (f"; cache {len(states.cache)} entries, {states.cache.nbytes / 1e6:.1f} MB, "
                     f"restored {stats.restored}, saved {stats.saved}, evicted {stats.evicted}")
        print(f"  {label:<26} follow-up TTFT median {results[label]:5.2f} s, worst "
              f"{max(follow_ups):5.2f} s (last prompt {prompt} tokens){extra}")
        provider.host.model().llm.reset()
    on, off = results.values()
    print(f"  ratio (off / on): {off / on:.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
