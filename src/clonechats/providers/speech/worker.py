"""One model, one thread, a bounded waiting line: how the local speech engines run.

ONNX and CTranslate2 sessions are heavy and best used by one thread at a time, so each local
engine (`ModelWorker`) loads its model on first use, on its own worker thread, and runs every
call there, first come first served. At most `max_waiting` calls may wait behind the one
running; one more gets ProviderUnavailable "busy" at once instead of an ever longer queue (the
local LLM works the same way). The event loop only awaits the result. Workers are shared per
process and configuration (`shared_worker`), so a model loads once, also across tests.
"""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar

from clonechats.providers.errors import ProviderUnavailable

Model = TypeVar("Model")
Result = TypeVar("Result")


class ModelWorker(Generic[Model]):
    def __init__(self, load: Callable[[], Model], *, name: str, provider: str) -> None:
        self._load = load
        self._model: Model | None = None
        self._provider = provider
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._pending = 0  # running or waiting

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def model(self) -> Model:
        """The loaded model (loads it on the calling thread when needed)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    async def run(self, work: Callable[[Model], Result], *, max_waiting: int) -> Result:
        with self._lock:
            if self._pending > max_waiting:
                raise ProviderUnavailable("the local speech engine is busy; try again in a "
                                          "moment", provider=self._provider, code="busy")
            self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, lambda: work(self.model()))
        finally:
            with self._lock:
                self._pending -= 1


_workers: dict[Any, ModelWorker[Any]] = {}
_workers_lock = threading.Lock()


def shared_worker(key: Any, load: Callable[[], Model], *, name: str,
                  provider: str) -> ModelWorker[Model]:
    with _workers_lock:
        worker = _workers.get(key)
        if worker is None:
            worker = _workers[key] = ModelWorker(load, name=name, provider=provider)
        return worker
