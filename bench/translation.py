"""Offline translation and language detection, as a translation chat uses them.

    .venv/bin/python bench/translation.py [--rounds 20] [--concurrency 4]

1. Apertium through `ApertiumTranslator` (one `apertium` process per leg, off the event loop):
   es→en and en→es directly, en→fr through Spanish (two legs), for a chat-sized sentence;
   prints the median and 95th percentile per call, and the pivot/direct ratio from the same run.
2. The same es→en calls `--concurrency` at a time, to show that they run in parallel up to
   `apertium_max_concurrent` without blocking the loop: the ratio of wall time to the sum of
   call times.
3. Language detection (py3langid): loading the model once, then per-message detection.

Not a test: it prints its figures. Compare them only between runs on the same machine.
"""

import argparse
import asyncio
import os
import platform
import statistics
import time

from clonechats.chat.translation import detection
from clonechats.providers.translation.local import ApertiumTranslator

SPANISH = "Quiero planear un viaje a Madrid el próximo verano con mi familia."
ENGLISH = "I would love to help you plan a trip to Madrid next summer with your family."
LANGUAGES = ["en", "es", "fr", "de", "it", "pt", "nl", "pl", "ru", "hi"]


def describe(label: str, seconds: list[float]) -> float:
    ordered = sorted(seconds)
    median = statistics.median(ordered)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"  {label:<28} median {median * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms")
    return median


async def timed(apertium: ApertiumTranslator, text: str, source: str, target: str,
                rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await apertium.translate(text, source=source, target=target)
        times.append(time.perf_counter() - started)
    return times


async def main(rounds: int, concurrency: int) -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs")
    apertium = ApertiumTranslator(max_concurrent=concurrency)
    if not apertium.pairs():
        print("Apertium is not installed (make run installs it): skipping 1 and 2")
    else:
        print("1. Apertium, one call at a time")
        direct = describe("es→en", await timed(apertium, SPANISH, "es", "en", rounds))
        describe("en→es", await timed(apertium, ENGLISH, "en", "es", rounds))
        pivot = describe("en→fr (through es)", await timed(apertium, ENGLISH, "en", "fr",
                                                             rounds))
        print(f"  pivot / direct: {pivot / direct:.2f}×")
        print(f"2. {concurrency} es→en calls at once")
        started = time.perf_counter()
        each = await asyncio.gather(*(timed(apertium, SPANISH, "es", "en", 1)
                                      for _ in range(concurrency)))
        wall = time.perf_counter() - started
        total = sum(t for times in each for t in times)
        print(f"  wall {wall * 1000:.1f} ms for {total * 1000:.1f} ms of calls: "
              f"{wall / total:.2f} (1.0 = one after the other)")
    print("3. Language detection")
    started = time.perf_counter()
    await detection.detect(SPANISH, languages=LANGUAGES, min_chars=1, min_confidence=0.0)
    print(f"  first detection (loads the model): {(time.perf_counter() - started) * 1000:.0f} ms")
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        found = await detection.detect(SPANISH, languages=LANGUAGES, min_chars=1,
                                       min_confidence=0.0)
        times.append(time.perf_counter() - started)
    describe(f"detect ({found.language if found else '?'})", times)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.concurrency))
