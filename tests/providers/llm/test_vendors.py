"""What each vendor adapter sends: URL, headers, and how our messages map onto its API."""

from contextlib import aclosing

import httpx

from clonechats.providers.llm.anthropic import OPENING_USER_TURN, AnthropicProvider
from clonechats.providers.llm.base import ChatMessage, ModelInfo, StreamEnd
from clonechats.providers.llm.estimate import estimate_prompt_tokens, estimate_text_tokens
from clonechats.providers.llm.google import GoogleProvider
from clonechats.providers.llm.openai import OpenAIProvider
from clonechats.providers.llm.vendor_http import iter_sse
from tests.fakes.llm_vendors import FakeAnthropic, FakeGemini, FakeOpenAI

CONVERSATION = [
    ChatMessage("system", "Platform rules."),
    ChatMessage("system", "You are Ada."),
    ChatMessage("assistant", "Hello! I'm Ada."),
    ChatMessage("user", "Hi Ada."),
    ChatMessage("user", "What is a comet?"),
]


def info(provider: str, name: str) -> ModelInfo:
    return ModelInfo(id=f"{provider}:{name}", provider=provider, context_window=8192, label=name)


async def run(provider, model: str, messages=CONVERSATION, **options) -> list:
    async with aclosing(provider.stream(model=model, messages=messages, max_tokens=64,
                                        temperature=0.3, **options)) as stream:
        return [item async for item in stream]


async def test_openai_request_shape():
    fake = FakeOpenAI()
    async with fake.client() as http:
        provider = OpenAIProvider(api_key=fake.api_key, base_url=fake.base_url,
                                  models=[info("openai", "gpt-4o-mini")], http=http)
        items = await run(provider, "openai:gpt-4o-mini")
    assert "".join(i.text for i in items[:-1]) == "You said: What is a comet?"
    [request] = fake.history
    assert str(request.url) == "https://api.openai.test/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {fake.api_key}"
    assert request.json["model"] == "gpt-4o-mini"
    assert request.json["stream"] is True
    assert request.json["stream_options"] == {"include_usage": True}
    assert request.json["max_tokens"] == 64 and request.json["temperature"] == 0.3
    assert request.json["messages"] == [{"role": m.role, "content": m.content}
                                        for m in CONVERSATION]


async def test_openai_compatible_server_at_another_base_url():
    fake = FakeOpenAI()
    fake.base_url = "http://127.0.0.1:11434/v1"  # e.g. Ollama
    async with fake.client() as http:
        provider = OpenAIProvider(api_key=fake.api_key, base_url=fake.base_url + "/",
                                  models=[info("openai", "llama3.2")], http=http)
        items = await run(provider, "llama3.2")  # the bare vendor name works too
    assert isinstance(items[-1], StreamEnd)
    assert str(fake.history[0].url) == "http://127.0.0.1:11434/v1/chat/completions"


async def test_anthropic_takes_the_system_text_at_the_top_level():
    fake = FakeAnthropic()
    async with fake.client() as http:
        provider = AnthropicProvider(api_key=fake.api_key, base_url=fake.base_url,
                                     models=[info("anthropic", "claude-haiku-4-5")], http=http)
        items = await run(provider, "anthropic:claude-haiku-4-5")
    assert isinstance(items[-1], StreamEnd)
    [request] = fake.history
    assert str(request.url) == "https://api.anthropic.test/v1/messages"
    assert request.headers["x-api-key"] == fake.api_key
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in request.headers
    body = request.json
    assert body["system"] == "Platform rules.\n\nYou are Ada."
    assert body["messages"] == [
        {"role": "user", "content": OPENING_USER_TURN},
        {"role": "assistant", "content": "Hello! I'm Ada."},
        {"role": "user", "content": "Hi Ada.\n\nWhat is a comet?"},
    ]
    assert body["max_tokens"] == 64 and body["stream"] is True


async def test_anthropic_counts_cache_reads_and_writes_as_prompt_tokens():
    frames = [
        'event: message_start\ndata: {"type":"message_start","message":{"usage":'
        '{"input_tokens":5,"cache_creation_input_tokens":100,"cache_read_input_tokens":7,'
        '"output_tokens":1}}}\n\n',
        'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        '"delta":{"type":"text_delta","text":"Hi"}}\n\n',
        'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":'
        '"end_turn"},"usage":{"output_tokens":9}}\n\n',
        'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content="".join(frames).encode(),
                              headers={"content-type": "text/event-stream"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        provider = AnthropicProvider(api_key="k", base_url="https://a.test/v1",
                                     models=[info("anthropic", "m")], http=http)
        items = await run(provider, "anthropic:m")
    assert items[-1].usage.prompt_tokens == 112 and items[-1].usage.completion_tokens == 9


async def test_gemini_uses_contents_with_user_and_model_roles():
    fake = FakeGemini()
    async with fake.client() as http:
        provider = GoogleProvider(api_key=fake.api_key, base_url=fake.base_url,
                                  models=[info("google", "gemini-2.5-flash")], http=http)
        items = await run(provider, "google:gemini-2.5-flash")
    assert "".join(i.text for i in items[:-1]) == "You said: Hi Ada.\n\nWhat is a comet?"
    [request] = fake.history
    assert request.url.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert request.url.params["alt"] == "sse"
    assert request.headers["x-goog-api-key"] == fake.api_key
    assert "key" not in request.url.params  # the key never travels in the URL
    body = request.json
    assert body["systemInstruction"] == {"parts": [{"text": "Platform rules.\n\nYou are Ada."}]}
    assert body["contents"] == [
        {"role": "model", "parts": [{"text": "Hello! I'm Ada."}]},
        {"role": "user", "parts": [{"text": "Hi Ada.\n\nWhat is a comet?"}]},
    ]
    assert body["generationConfig"] == {"maxOutputTokens": 64, "temperature": 0.3}


async def test_sse_parsing_handles_comments_multiline_data_and_crlf():
    body = (b": keep-alive\r\n\r\nevent: one\r\ndata: first\r\ndata: second\r\n\r\n"
            b"data: no event name\n\ndata: last without blank line")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        response = await http.get("https://sse.test/")
        events = [(e.event, e.data) async for e in iter_sse(response)]
    assert events == [("one", "first\nsecond"), ("message", "no event name"),
                      ("message", "last without blank line")]


def test_vendor_token_estimates_are_conservative():
    assert estimate_text_tokens("") == 0
    assert estimate_text_tokens("abc") == 1 and estimate_text_tokens("abcd") == 2
    english = "The quick brown fox jumps over the lazy dog. " * 20
    assert estimate_text_tokens(english) >= len(english) / 4  # vendors: ~4 chars a token
    assert estimate_text_tokens("नमस्ते दुनिया") >= len("नमस्ते दुनिया")  # one a character or more
    messages = [ChatMessage("user", "hi"), ChatMessage("assistant", "hello")]
    assert estimate_prompt_tokens(messages) == 3 + (4 + 1) + (4 + 2)
