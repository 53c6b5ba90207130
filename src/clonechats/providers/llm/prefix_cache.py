"""Reusing llama.cpp's work on a conversation's unchanged prefix, across conversations.

llama-cpp-python already skips the prompt tokens its context still holds from the previous
call, so a conversation that is answered twice in a row only reads its new tokens. With
several conversations taking turns on one model that context is overwritten each time; this
cache keeps, per conversation, the state of the sequence (llama.cpp's KV cells for it, read
with `llama_state_seq_get_data`: about 29 KB per token for Qwen2.5 1.5B) and puts it back when
that conversation's next prompt starts with it.

Why not llama-cpp-python's `LlamaRAMCache` / `LlamaDiskCache` with `save_state`: a `LlamaState`
also copies the score matrix (n_batch × vocabulary floats: 238 MB for Qwen's 152k-token
vocabulary, measured, next to 11 MB of KV for a 392-token prompt), takes ~0.6 s to save instead
of ~10 ms, cannot be restored once the conversation is longer than n_batch tokens, and the
built-in caches keep one entry per turn, so one busy conversation pushes all others out. The
disk cache pickles the same 250 MB per turn.

Fair sharing: one entry per conversation, recognised by its lineage — an entry is replaced by
a newer state that still starts with the entry's leading system messages (the persona frame,
which carries a per-conversation tag). Entries are evicted least recently used first within
`capacity_bytes`, and a single state larger than a quarter of the capacity is not kept, so at
least four conversations always fit. States are saved lazily: only when another conversation
is about to take the context, never on the reply's path.
"""

import ctypes
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_GAIN_TOKENS = 16  # restoring is worth it only when it saves reading this many tokens
MIN_SLOTS = 4


def common_prefix(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the common prefix of two token arrays."""
    n = min(a.size, b.size)
    if n == 0:
        return 0
    differs = np.flatnonzero(a[:n] != b[:n])
    return int(differs[0]) if differs.size else n


@dataclass
class Entry:
    tokens: np.ndarray  # the tokens whose KV cells `state` holds
    head: int  # tokens of the leading system messages: the lineage
    state: bytes

    @property
    def nbytes(self) -> int:
        return len(self.state) + self.tokens.nbytes


@dataclass
class CacheStats:
    restored: int = 0
    saved: int = 0
    evicted: int = 0
    skipped_too_large: int = 0


class PrefixCache:
    """Sequence states of recent conversations, bounded by `capacity_bytes`. Used only from the
    model's worker thread; the lock guards readers of `stats` and `nbytes`."""

    def __init__(self, capacity_bytes: int) -> None:
        self.capacity_bytes = capacity_bytes
        self._entries: OrderedDict[int, Entry] = OrderedDict()
        self._next = 0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(entry.nbytes for entry in self._entries.values())

    def best(self, tokens: np.ndarray) -> tuple[int, Entry | None]:
        """The entry sharing the longest prefix with `tokens`, and that length."""
        found, length = None, 0
        for key, entry in self._entries.items():
            shared = common_prefix(entry.tokens, tokens)
            if shared > length:
                found, length = key, shared
        if found is None:
            return 0, None
        self._entries.move_to_end(found)
        return length, self._entries[found]

    def put(self, tokens: np.ndarray, head: int, state: bytes) -> None:
        entry = Entry(tokens=tokens, head=head, state=state)
        with self._lock:
            for key in [key for key, old in self._entries.items()
                        if common_prefix(old.tokens, tokens) >= max(1, old.head)]:
                del self._entries[key]  # an older state of the same conversation
            if entry.nbytes > self.capacity_bytes // MIN_SLOTS:
                self.stats.skipped_too_large += 1
                return
            self._entries[self._next] = entry
            self._next += 1
            self.stats.saved += 1
            while sum(e.nbytes for e in self._entries.values()) > self.capacity_bytes:
                self._entries.popitem(last=False)
                self.stats.evicted += 1


class SequenceState:
    """Reading and writing sequence 0 of a `llama_cpp.Llama`'s context."""

    def __init__(self, llm: Any) -> None:
        import llama_cpp

        self._api = llama_cpp
        self.llm = llm

    def live_tokens(self) -> np.ndarray:
        return np.array(self.llm.input_ids[:self.llm.n_tokens], dtype=np.intc)

    def save(self) -> bytes:
        ctx = self.llm._ctx.ctx
        size = self._api.llama_state_seq_get_size(ctx, 0)
        buffer = (ctypes.c_uint8 * size)()
        written = self._api.llama_state_seq_get_data(ctx, buffer, size, 0)
        return bytes(buffer)[:written]

    def restore(self, entry: Entry) -> bool:
        llm = self.llm
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        buffer = (ctypes.c_uint8 * len(entry.state)).from_buffer_copy(entry.state)
        if self._api.llama_state_seq_set_data(llm._ctx.ctx, buffer, len(entry.state), 0) == 0:
            llm._ctx.kv_cache_seq_rm(-1, 0, -1)
            llm.n_tokens = 0
            return False
        count = entry.tokens.size
        llm.input_ids[:count] = entry.tokens
        llm.n_tokens = count
        llm._requires_eval = True  # the next call decodes at least one token before sampling
        return True


class ConversationStates:
    """The cache as the worker uses it around each generation."""

    def __init__(self, llm: Any, capacity_bytes: int) -> None:
        self.cache = PrefixCache(capacity_bytes)
        self.seq = SequenceState(llm)
        self._live_head = 0  # lineage of what the context holds now
        self._live_saved = True

    def prepare(self, tokens: np.ndarray, head: int) -> int:
        """Before a generation of `tokens`: keep the live context if it continues this
        conversation, else save it and restore the best cached state. Returns the prefix
        length llama.cpp will be able to skip."""
        live = self.seq.live_tokens()
        live_shared = common_prefix(live, tokens)
        if live.size and live_shared >= max(1, self._live_head):
            self._live_head = head
            return live_shared  # the same conversation: llama.cpp reuses it on its own
        cached_shared, entry = self.cache.best(tokens)
        if live.size and not self._live_saved:
            self.cache.put(live, self._live_head, self.seq.save())
        self._live_head, self._live_saved = head, False
        gain = entry is not None and cached_shared >= live_shared + MIN_GAIN_TOKENS
        if gain and entry is not None and self.seq.restore(entry):
            self.cache.stats.restored += 1
            self._live_saved = True  # what is live now is what the entry holds
            return cached_shared
        return live_shared

    def generated(self) -> None:
        """After a generation: the live context changed and is not saved."""
        self._live_saved = False
