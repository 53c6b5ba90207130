"""Ranking a persona's memories against a message: by meaning, with words as the fallback.

- Meaning: cosine similarity between the message's query vector and every memory vector made by
  the *same* model (one matrix product). Vectors from another model are never compared: they
  count as pending until the `memory.reembed` job replaces them.
- Words: BM25 (`lexical.py`) over the memories that have no usable vector, or over all of them
  when the message itself could not be embedded (the model is unavailable).
- When both lists exist they are interleaved, best of each first (reciprocal-rank fusion of two
  disjoint lists), so a memory waiting for its vector can still be recalled by its words.
- Pinned memories are always returned, after the top k if they were not among them.

The matrix of a persona is kept in this process as an optimisation only. Every recall reads the
persona's state token from the database (one read by id; `repo.touch` replaces it after every
write, whichever process makes it) and reuses the matrix only while the token is unchanged, so a
write made anywhere is seen by the next recall. A copy is also rebuilt after `VERIFY_SECONDS`
whatever the token says, which bounds how long a write whose token update never happened (a
process that died in between) can go unseen.
"""

import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clonechats.personas.memory import repo, vectors
from clonechats.personas.memory.lexical import LexicalIndex

MEANING, WORDS, PINNED = "meaning", "words", "pinned"
CACHE_MAX_ROWS = 100_000  # about 150 MB of float32 vectors at 384 dimensions, plus texts
VERIFY_SECONDS = 60.0


@dataclass(frozen=True)
class Recalled:
    memory: dict[str, Any]  # the memory document without its vector
    score: float  # cosine similarity for "meaning", BM25 for "words"
    matched_by: str  # "meaning" | "words" | "pinned"


@dataclass
class PersonaIndex:
    model_id: str | None
    token: int | None  # the persona's state token when the memories were read
    memories: list[dict[str, Any]]  # newest first, vectors removed
    vector_rows: np.ndarray  # row numbers (into `memories`) of the rows of `matrix`
    matrix: np.ndarray  # unit vectors, float32, shape (len(vector_rows), dimensions)
    pending_rows: list[int]  # memories with no vector from `model_id`
    pinned_rows: list[int]
    loaded_at: float = field(default_factory=time.monotonic)
    _lexical: LexicalIndex | None = field(default=None, repr=False)

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex(memory["text"] for memory in self.memories)
        return self._lexical


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1, norms)


def build_index(memories: Sequence[dict[str, Any]], *, model_id: str | None,
                token: int | None = None) -> PersonaIndex:
    plain: list[dict[str, Any]] = []
    rows: list[int] = []
    found: list[np.ndarray] = []
    pending: list[int] = []
    pinned: list[int] = []
    dimensions = None
    for row, memory in enumerate(memories):
        embedding = memory.get("embedding")
        vector = None
        if model_id is not None and embedding and embedding.get("model_id") == model_id:
            vector = vectors.unpack(embedding)
            dimensions = dimensions or vector.size
            if vector.size != dimensions:
                vector = None
        if vector is None:
            pending.append(row)
        else:
            rows.append(row)
            found.append(vector)
        if memory["pinned"]:
            pinned.append(row)
        copy = {key: value for key, value in memory.items() if key != "embedding"}
        copy["embedding_model"] = embedding.get("model_id") if embedding else None
        plain.append(copy)
    matrix = _unit(np.vstack(found)) if found else np.zeros((0, 0), dtype=vectors.DTYPE)
    return PersonaIndex(model_id=model_id, token=token, memories=plain,
                        vector_rows=np.asarray(rows, dtype=np.int64), matrix=matrix,
                        pending_rows=pending, pinned_rows=pinned)


class IndexCache:
    """Least recently used persona indexes, bounded by their total number of memories."""

    def __init__(self, max_rows: int = CACHE_MAX_ROWS) -> None:
        self._max_rows = max_rows
        # (persona, embedding model, owner of the memories or None for all of them)
        self._items: OrderedDict[tuple[str, str | None, str | None], PersonaIndex] = OrderedDict()

    def get(self, persona_id: str, model_id: str | None, token: int | None,
            owner_id: str | None = None) -> PersonaIndex | None:
        index = self._items.get((persona_id, model_id, owner_id))
        if index is None or index.token != token:
            return None
        if time.monotonic() - index.loaded_at > VERIFY_SECONDS:
            return None
        self._items.move_to_end((persona_id, model_id, owner_id))
        return index

    def put(self, persona_id: str, index: PersonaIndex, owner_id: str | None = None) -> None:
        key = (persona_id, index.model_id, owner_id)
        self._items[key] = index
        self._items.move_to_end(key)
        while len(self._items) > 1 and self.rows > self._max_rows:
            self._items.popitem(last=False)

    def discard(self, persona_id: str) -> None:
        for key in [key for key in self._items if key[0] == persona_id]:
            del self._items[key]

    def clear(self) -> None:
        self._items.clear()

    @property
    def rows(self) -> int:
        return sum(len(index.memories) for index in self._items.values())


CACHE = IndexCache()


async def load_index(db: Any, *, persona_id: str, model_id: str | None,
                     cache: IndexCache = CACHE, owner_id: str | None = None) -> PersonaIndex:
    """The persona's memories ready to rank; only `owner_id`'s own when given."""
    token = await repo.state_token(db, persona_id)  # read before the memories, never after
    index = cache.get(persona_id, model_id, token, owner_id)
    if index is None:
        memories = await repo.all_for_persona(db, persona_id, owner_id)
        index = build_index(memories, model_id=model_id, token=token)
        cache.put(persona_id, index, owner_id)
    return index


def top_by_meaning(index: PersonaIndex, query_vector: np.ndarray,
                   k: int) -> tuple[list[tuple[int, float]], np.ndarray]:
    """The k best (row, cosine) and the cosine of every vector row."""
    scores = index.matrix @ query_vector
    take = min(k, scores.size)
    best = np.argpartition(-scores, take - 1)[:take] if take < scores.size else np.arange(take)
    best = best[np.lexsort((best, -scores[best]))]  # by score, ties: newer first
    return [(int(index.vector_rows[i]), float(scores[i])) for i in best], scores


def _interleave(first: list[tuple[int, float, str]],
                second: list[tuple[int, float, str]]) -> list[tuple[int, float, str]]:
    merged: list[tuple[int, float, str]] = []
    for pair in zip(first, second, strict=False):
        merged.extend(pair)
    longer = first if len(first) > len(second) else second
    merged.extend(longer[min(len(first), len(second)):])
    return merged


def rank(index: PersonaIndex, *, query: str, query_vector: Sequence[float] | None,
         k: int) -> list[Recalled]:
    k = max(1, k)
    semantic: list[tuple[int, float, str]] = []
    row_scores: dict[int, float] = {}
    lexical_rows: set[int] | None = None  # None: rank every memory by words
    vector = None
    if query_vector is not None:
        vector = _unit(np.asarray(query_vector, dtype=vectors.DTYPE))
    if vector is not None and index.matrix.shape[0] and vector.size == index.matrix.shape[1]:
        best, scores = top_by_meaning(index, vector, k)
        semantic = [(row, score, MEANING) for row, score in best]
        row_scores = dict(zip(index.vector_rows.tolist(), scores.tolist(), strict=True))
        lexical_rows = set(index.pending_rows)
    lexical: list[tuple[int, float, str]] = []
    if lexical_rows is None or lexical_rows:
        by_words = index.lexical.scores(query, rows=lexical_rows)
        row_scores.update(by_words)
        lexical = [(row, score, WORDS)
                   for row, score in sorted(by_words.items(), key=lambda it: (-it[1], it[0]))[:k]]
    chosen = _interleave(semantic, lexical)[:k]
    taken = {row for row, _, _ in chosen}
    pinned = sorted(((row, row_scores.get(row, 0.0), PINNED)
                     for row in index.pinned_rows if row not in taken),
                    key=lambda it: (-it[1], it[0]))
    return [Recalled(memory=index.memories[row], score=score, matched_by=how)
            for row, score, how in chosen + pinned]
