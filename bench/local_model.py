"""Tokens per second of the local model through `LocalProvider.stream` next to
llama-cpp-python called directly, on the same loaded model, prompt, length and greedy sampling.

    .venv/bin/python bench/local_model.py [--tokens 128] [--rounds 6] [--threads N]

Both paths use one `llama_cpp.Llama` (the provider's own), so the ratio is what the platform
adds: the worker thread, the hop of each token onto the event loop, the per-token cancellation
check and the usage bookkeeping. Every call gets a prompt of its own (llama.cpp would reuse a
prompt cached by the previous call), and rounds alternate which path goes first. The end token
is banned in neither path; a reply that stops early is counted by its own tokens. Figures are
medians. Not a test: it only prints its figures.
"""

import argparse
import asyncio
import os
import platform
import statistics
import time
from dataclasses import dataclass

from clonechats.providers.llm.base import ChatMessage, StreamEnd, TextDelta
from clonechats.providers.llm.local import LocalProvider

SYSTEM = "You are Maren, a lighthouse keeper who loves telling long stories."
PROMPT = "Tell me a long story about night {n} at the lighthouse, with many details."


@dataclass
class Run:
    tokens: int
    seconds: float  # from the call to the last token
    first_token_seconds: float

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds

    @property
    def decode_tokens_per_second(self) -> float:
        """After the first token: generation speed without the prompt's processing."""
        return (self.tokens - 1) / (self.seconds - self.first_token_seconds)


def messages(n: int) -> list[ChatMessage]:
    return [ChatMessage("system", SYSTEM), ChatMessage("user", PROMPT.format(n=n))]


def direct(provider: LocalProvider, n: int, max_tokens: int) -> Run:
    """llama-cpp-python's own streaming chat completion, on this thread."""
    model = provider.host.model()
    chat = [{"role": m.role, "content": m.content} for m in messages(n)]
    started = time.perf_counter()
    first = None
    text, finish = "", None
    for chunk in model.llm.create_chat_completion(messages=chat, max_tokens=max_tokens,
                                                  temperature=0.0, stream=True):
        choice = chunk["choices"][0]
        content = choice["delta"].get("content")
        if content:
            first = first or time.perf_counter()
            text += content
        finish = choice.get("finish_reason") or finish
    ended = time.perf_counter()
    tokens = max_tokens if finish == "length" else len(
        model.llm.tokenize(text.encode(), add_bos=False, special=False))
    return Run(tokens, ended - started, (first or ended) - started)


async def through_provider(provider: LocalProvider, n: int, max_tokens: int) -> Run:
    model_id = provider.models()[0].id
    started = time.perf_counter()
    first = None
    end: StreamEnd | None = None
    async for item in provider.stream(model=model_id, messages=messages(n),
                                      max_tokens=max_tokens, temperature=0.0):
        if isinstance(item, TextDelta):
            first = first or time.perf_counter()
        else:
            end = item
    ended = time.perf_counter()
    assert end is not None
    return Run(end.usage.completion_tokens, ended - started, (first or ended) - started)


def report(name: str, runs: list[Run]) -> tuple[float, float]:
    overall = statistics.median(run.tokens_per_second for run in runs)
    decode = statistics.median(run.decode_tokens_per_second for run in runs)
    first = statistics.median(run.first_token_seconds for run in runs) * 1000
    tokens = statistics.median(run.tokens for run in runs)
    print(f"  {name:<26} {overall:7.1f} tok/s   decode {decode:7.1f} tok/s   "
          f"first token {first:6.1f} ms   ({tokens:.0f} tokens)")
    return overall, decode


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128, help="max_tokens of each reply")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--threads", type=int, default=None, help="default: all cores")
    args = parser.parse_args()

    provider = LocalProvider(context_window=2048, threads=args.threads)
    loaded = time.perf_counter()
    await provider.count_tokens(model=provider.models()[0].id, messages=messages(0))
    load_ms = (time.perf_counter() - loaded) * 1000
    direct(provider, 0, 8)  # warm-up of both paths
    await through_provider(provider, 0, 8)

    direct_runs: list[Run] = []
    provider_runs: list[Run] = []
    for n in range(1, args.rounds + 1):
        if n % 2:
            direct_runs.append(direct(provider, 2 * n, args.tokens))
            provider_runs.append(await through_provider(provider, 2 * n + 1, args.tokens))
        else:
            provider_runs.append(await through_provider(provider, 2 * n + 1, args.tokens))
            direct_runs.append(direct(provider, 2 * n, args.tokens))

    print(f"Local model: {provider.host.config.path.name}, {provider.host.config.threads} "
          f"threads, context {provider.host.config.context_window}, greedy, "
          f"max_tokens {args.tokens}, {args.rounds} rounds (medians)")
    print(f"  machine: {platform.machine()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}; model load {load_ms:.0f} ms")
    direct_overall, direct_decode = report("llama-cpp-python directly", direct_runs)
    ours_overall, ours_decode = report("LocalProvider.stream", provider_runs)
    print(f"  ratio (platform / direct): {ours_overall / direct_overall:.3f} overall, "
          f"{ours_decode / direct_decode:.3f} decode")


if __name__ == "__main__":
    asyncio.run(main())
