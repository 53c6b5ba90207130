"""OpenAI Chat Completions, streamed, with plain httpx; also any OpenAI-compatible server.

`POST {base_url}/chat/completions` with `Authorization: Bearer <key>` and
`{model, messages, max_tokens, temperature, stream: true, stream_options: {include_usage: true}}`.
The reply is SSE: `data: {chat.completion.chunk}` lines whose `choices[0].delta.content` is the
text, `choices[0].finish_reason` "stop" | "length" | ..., a last chunk with `choices: []` and
`usage: {prompt_tokens, completion_tokens}`, then `data: [DONE]`.

The base URL is a setting, so Ollama (`http://host:11434/v1`), vLLM or llama.cpp's server work
too. A server that sends no usage chunk gets an estimate instead (`Usage.estimated`): one
completion token per content delta, prompt tokens as in `estimate.py`.
Errors are `{"error": {"message", "type", "code"}}`; 429 `insufficient_quota` is a quota error,
other 429s and 5xx are retried before the first token (see `vendor_http.py`).
"""

from collections.abc import AsyncGenerator
from typing import Any

import httpx

from clonechats.providers.llm.base import ChatMessage, StreamEnd, StreamItem, TextDelta, Usage
from clonechats.providers.llm.estimate import estimate_prompt_tokens
from clonechats.providers.llm.vendor_http import (
    VendorAdapter,
    VendorRequest,
    error_for_status,
    incomplete,
    iter_sse,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ERROR_STATUS = {"rate_limit_exceeded": 429, "insufficient_quota": 429, "server_error": 500,
                "invalid_api_key": 401, "context_length_exceeded": 400}


class OpenAIProvider(VendorAdapter):
    name = "openai"
    quota_codes = frozenset({"insufficient_quota"})

    def request(self, model: str, messages: list[ChatMessage], max_tokens: int,
                temperature: float) -> VendorRequest:
        body = {
            "model": model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "text/event-stream"}
        return VendorRequest(f"{self._base_url}/chat/completions", headers, body)

    async def parse(self, response: httpx.Response,
                    messages: list[ChatMessage]) -> AsyncGenerator[StreamItem, None]:
        usage: dict[str, Any] | None = None
        finish_reason: str | None = None
        deltas = 0
        done = False
        async for event in iter_sse(response):
            if event.data.strip() == "[DONE]":
                done = True
                break
            chunk = event.json(self.name)
            if isinstance(chunk.get("error"), dict):
                raise self._stream_error(chunk["error"])
            for choice in chunk.get("choices") or []:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                text = (choice.get("delta") or {}).get("content")
                if isinstance(text, str) and text:
                    deltas += 1
                    yield TextDelta(text)
                if choice.get("finish_reason"):
                    finish_reason = str(choice["finish_reason"])
            if isinstance(chunk.get("usage"), dict):
                usage = chunk["usage"]
        if not done and finish_reason is None:
            raise incomplete(self.name)
        yield StreamEnd(usage=self._usage(usage, messages, deltas),
                        finish_reason="length" if finish_reason == "length" else "stop")

    def _usage(self, usage: dict[str, Any] | None, messages: list[ChatMessage],
               deltas: int) -> Usage:
        prompt = usage.get("prompt_tokens") if usage else None
        completion = usage.get("completion_tokens") if usage else None
        if isinstance(prompt, int) and isinstance(completion, int):
            return Usage(prompt_tokens=prompt, completion_tokens=completion)
        return Usage(prompt_tokens=estimate_prompt_tokens(messages), completion_tokens=deltas,
                     estimated=True)

    def _stream_error(self, error: dict[str, Any]) -> Exception:
        code = error.get("code") or error.get("type")
        code = code if isinstance(code, str) else None
        raw = error.get("message")
        message = raw if isinstance(raw, str) else ""
        return error_for_status(self.name, ERROR_STATUS.get(code or "", 500), code,
                                message[:300], quota_codes=self.quota_codes)

    def error_fields(self, body: dict[str, Any]) -> tuple[str | None, str, float | None]:
        error = body.get("error")
        if not isinstance(error, dict):
            return None, "", None
        code = error.get("code") or error.get("type")
        message = error.get("message")
        return (code if isinstance(code, str) else None,
                message if isinstance(message, str) else "", None)
