"""The language-model provider contract, run against every implementation.

`local` is the real SmolLM2 model (loaded once per process, short replies); `openai`,
`anthropic` and `google` are the real adapters talking to fakes of their streaming HTTP APIs.
No test depends on the words a model writes.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field

import pytest

from clonechats.providers.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderQuotaError,
    ProviderRejected,
    ProviderUnavailable,
)
from clonechats.providers.llm.anthropic import AnthropicProvider
from clonechats.providers.llm.base import (
    ChatMessage,
    LLMProvider,
    ModelInfo,
    StreamEnd,
    TextDelta,
)
from clonechats.providers.llm.estimate import estimate_prompt_tokens
from clonechats.providers.llm.google import GoogleProvider
from clonechats.providers.llm.local import LocalModelHost, LocalProvider
from clonechats.providers.llm.openai import OpenAIProvider
from clonechats.providers.llm.vendor_http import HTTPOptions, VendorAdapter
from tests.fakes.llm_vendors import FakeAnthropic, FakeGemini, FakeOpenAI, FakeVendor

VENDORS: dict[str, tuple[type[VendorAdapter], Callable[[], FakeVendor], str]] = {
    "openai": (OpenAIProvider, FakeOpenAI, "gpt-4o-mini"),
    "anthropic": (AnthropicProvider, FakeAnthropic, "claude-haiku-4-5"),
    "google": (GoogleProvider, FakeGemini, "gemini-2.5-flash"),
}
OPTIONS = HTTPOptions(max_retries=2, retry_backoff_seconds=0.5, max_retry_wait_seconds=20.0)
MESSAGES = [ChatMessage("system", "You are Ada, a cheerful astronomer."),
            ChatMessage("user", "Tell me about the Moon.")]
QUOTA_REPLIES = {"openai": {"status": 429, "error_code": "insufficient_quota"},
                 "anthropic": {"status": 402}}


@dataclass
class Harness:
    name: str
    provider: LLMProvider
    model: str
    fake: FakeVendor | None = None
    sleeps: list[float] = field(default_factory=list)
    sampled: list[int] = field(default_factory=list)  # local: tokens sampled per generation

    def script_long_reply(self) -> None:
        if self.fake is not None:
            self.fake.enqueue(chunks=[f" word{i}" for i in range(40)])

    def stopped_early(self) -> bool:
        if self.fake is not None:
            stream = self.fake.streams[0]
            return stream.closed and stream.frames_sent < len(stream.frames)
        return self.sampled[0] < 64


async def collect(stream: AsyncIterator) -> tuple[list, ProviderError | None]:
    items: list = []
    try:
        async with aclosing(stream) as items_stream:
            async for item in items_stream:
                items.append(item)
    except ProviderError as exc:
        return items, exc
    return items, None


def text_of(items: list) -> str:
    return "".join(item.text for item in items if isinstance(item, TextDelta))


@pytest.fixture(scope="module")
def local_provider() -> LocalProvider:
    return LocalProvider(context_window=2048)


@asynccontextmanager
async def vendor_harness(name: str) -> AsyncIterator[Harness]:
    adapter, fake_factory, model = VENDORS[name]
    fake = fake_factory()
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    info = ModelInfo(id=f"{name}:{model}", provider=name, context_window=8192, label=model)
    async with fake.client() as http:
        provider = adapter(api_key=fake.api_key, base_url=fake.base_url, models=[info], http=http,
                           options=OPTIONS, sleep=sleep)
        yield Harness(name, provider, info.id, fake, sleeps)


@pytest.fixture(params=["local", *VENDORS])
async def harness(request, local_provider, monkeypatch) -> AsyncIterator[Harness]:
    if request.param != "local":
        async with vendor_harness(request.param) as built:
            yield built
        return
    local = Harness("local", local_provider, local_provider.models()[0].id)
    generate = LocalModelHost._generate

    def recording(host, job):
        local.sampled.append(generate(host, job))
        return local.sampled[-1]

    monkeypatch.setattr(LocalModelHost, "_generate", recording)
    yield local


@pytest.fixture(params=list(VENDORS))
async def vendor(request) -> AsyncIterator[Harness]:
    async with vendor_harness(request.param) as built:
        yield built


# --- every provider -------------------------------------------------------------------------

async def test_satisfies_the_protocol(harness):
    assert isinstance(harness.provider, LLMProvider)
    [info] = harness.provider.models()
    assert info.id == harness.model and info.provider == harness.name
    assert info.context_window > 0 and info.label


async def test_deltas_then_exactly_one_end_with_usage(harness):
    items, error = await collect(harness.provider.stream(
        model=harness.model, messages=MESSAGES, max_tokens=16, temperature=0.0))
    assert error is None
    *deltas, end = items
    assert deltas and all(isinstance(item, TextDelta) and item.text for item in deltas)
    assert isinstance(end, StreamEnd)
    assert end.finish_reason in ("stop", "length")
    assert end.usage.prompt_tokens > 0
    assert 1 <= end.usage.completion_tokens <= 16
    assert not end.usage.estimated


async def test_count_tokens_grows_with_the_conversation(harness):
    short = await harness.provider.count_tokens(model=harness.model, messages=MESSAGES)
    longer = await harness.provider.count_tokens(model=harness.model, messages=[
        *MESSAGES, ChatMessage("assistant", "The Moon is Earth's only natural satellite."),
        ChatMessage("user", "How far away is it?")])
    assert 0 < short < longer


async def test_stopping_the_consumer_stops_the_generation(harness):
    harness.script_long_reply()
    stream = harness.provider.stream(model=harness.model, messages=MESSAGES, max_tokens=400)
    async with aclosing(stream) as items:
        first = await anext(items)
    assert isinstance(first, TextDelta)
    # The provider serves the next request at once, and the abandoned one was cut short.
    items_after, error = await collect(harness.provider.stream(
        model=harness.model, messages=MESSAGES, max_tokens=8))
    assert error is None and isinstance(items_after[-1], StreamEnd)
    assert harness.stopped_early()


async def test_a_model_it_does_not_serve_is_rejected(harness):
    items, error = await collect(harness.provider.stream(
        model=f"{harness.name}:no-such-model", messages=MESSAGES, max_tokens=8))
    assert items == [] and isinstance(error, ProviderRejected)


async def test_a_request_the_model_refuses_is_rejected(harness):
    if harness.fake is not None:
        harness.fake.enqueue(status=400, error_message="messages: too long")
        messages = MESSAGES
    else:  # the local model refuses a prompt longer than its context window
        messages = [ChatMessage("user", "astronomy " * 3000)]
    items, error = await collect(harness.provider.stream(
        model=harness.model, messages=messages, max_tokens=8))
    assert items == [] and isinstance(error, ProviderRejected) and not error.retryable


# --- vendor adapters ------------------------------------------------------------------------

async def test_usage_comes_from_the_vendors_fields(vendor):
    vendor.fake.enqueue(chunks=["One", " two"], prompt_tokens=123, completion_tokens=45,
                        finish_reason="length")
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=45))
    assert error is None and text_of(items) == "One two"
    assert items[-1].usage.prompt_tokens == 123
    assert items[-1].usage.completion_tokens == 45
    assert items[-1].finish_reason == "length"


async def test_a_server_without_usage_gets_an_estimate(vendor):
    vendor.fake.enqueue(chunks=["a", "b", "c"], include_usage=False)
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert error is None
    usage = items[-1].usage
    assert usage.estimated
    assert usage.completion_tokens == 3
    assert usage.prompt_tokens == estimate_prompt_tokens(MESSAGES)


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_busy_before_the_first_token_is_retried_with_backoff(vendor, status):
    vendor.fake.enqueue(status=status)
    vendor.fake.enqueue(status=status)
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert error is None and isinstance(items[-1], StreamEnd)
    assert len(vendor.fake.history) == 3
    assert vendor.sleeps == [0.5, 1.0]


async def test_retry_after_is_honoured(vendor):
    vendor.fake.enqueue(status=429, retry_after=3)
    _, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert error is None and vendor.sleeps == [3.0]


async def test_a_retry_after_too_long_fails_at_once(vendor):
    vendor.fake.enqueue(status=429, retry_after=600)
    _, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert isinstance(error, ProviderUnavailable) and error.retry_after == 600
    assert vendor.sleeps == [] and len(vendor.fake.history) == 1


async def test_retries_run_out(vendor):
    for _ in range(3):
        vendor.fake.enqueue(status=500)
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert items == [] and isinstance(error, ProviderUnavailable) and error.status == 500
    assert len(vendor.fake.history) == 3


async def test_a_connection_failure_is_retried(vendor):
    vendor.fake.enqueue(connect_error=True)
    _, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert error is None and len(vendor.fake.history) == 2


async def test_a_refused_key_is_an_auth_error_and_not_retried(vendor):
    vendor.provider._api_key = "wrong-key"
    _, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert isinstance(error, ProviderAuthError) and len(vendor.fake.history) == 1


@pytest.mark.parametrize("name", sorted(QUOTA_REPLIES))  # Gemini: 429 for quota and rate alike
async def test_a_used_up_quota_is_a_quota_error(name):
    async with vendor_harness(name) as vendor:
        vendor.fake.enqueue(**QUOTA_REPLIES[name])
        _, error = await collect(vendor.provider.stream(
            model=vendor.model, messages=MESSAGES, max_tokens=8))
        assert isinstance(error, ProviderQuotaError) and len(vendor.fake.history) == 1


@pytest.mark.parametrize("failure", ["break_after", "stall_after", "stream_error_after",
                                     "end_after"])
async def test_a_failure_mid_stream_raises_after_the_partial_text(vendor, failure):
    vendor.fake.enqueue(chunks=["Once", " upon", " a", " time"], **{failure: 2})
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert text_of(items) == "Once upon"
    assert not any(isinstance(item, StreamEnd) for item in items)
    assert isinstance(error, ProviderUnavailable)
    assert len(vendor.fake.history) == 1  # never retried once text was delivered


@pytest.mark.parametrize("failure", ["break_after", "stream_error_after"])
async def test_a_stream_that_fails_before_any_text_is_retried(vendor, failure):
    vendor.fake.enqueue(chunks=["lost"], **{failure: 0})
    vendor.fake.enqueue(chunks=["kept"])
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert error is None and text_of(items) == "kept"
    assert len(vendor.fake.history) == 2


async def test_a_stall_before_the_first_token_is_not_retried(vendor):
    vendor.fake.enqueue(chunks=["late"], stall_after=0)
    items, error = await collect(vendor.provider.stream(
        model=vendor.model, messages=MESSAGES, max_tokens=8))
    assert items == [] and isinstance(error, ProviderUnavailable)
    assert len(vendor.fake.history) == 1
