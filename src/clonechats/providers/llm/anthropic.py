"""Anthropic Messages API, streamed, with plain httpx.

`POST {base_url}/messages` with `x-api-key`, `anthropic-version: 2023-06-01` and
`{model, max_tokens, temperature, system, messages, stream: true}`. System messages become the
top-level `system` text (Anthropic takes no "system" role); consecutive turns of one role are
joined, and a conversation that opens with the persona's turn gets a short user turn first,
because the API expects the user to speak first.

The reply is SSE with named events: `message_start` (`message.usage.input_tokens`, plus cache
reads and writes, which are prompt tokens too), `content_block_delta` (`delta.text` of a
`text_delta`), `message_delta` (`delta.stop_reason`, cumulative `usage.output_tokens`: the last
one counts), `message_stop`; `ping` and unknown events are ignored, an `error` event is raised.
Errors are `{"type": "error", "error": {"type", "message"}}`: 402 `billing_error` and a 429
`enforced_spend_limit_reached` are quota errors; 429, 500 and 529 `overloaded_error` are retried
before the first token.
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

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
API_VERSION = "2023-06-01"
OPENING_USER_TURN = "(The conversation begins.)"
ERROR_STATUS = {"invalid_request_error": 400, "authentication_error": 401,
                "billing_error": 402, "permission_error": 403, "not_found_error": 404,
                "request_too_large": 413, "rate_limit_error": 429, "api_error": 500,
                "overloaded_error": 529}
PROMPT_USAGE_FIELDS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def anthropic_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """(system text, alternating user/assistant turns starting with the user)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role == "system" or not message.content.strip():
            continue
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + message.content
        else:
            turns.append({"role": message.role, "content": message.content})
    if not turns or turns[0]["role"] != "user":
        turns.insert(0, {"role": "user", "content": OPENING_USER_TURN})
    return system, turns


def _prompt_tokens(usage: dict[str, Any]) -> int | None:
    values = [usage.get(name) for name in PROMPT_USAGE_FIELDS]
    if not isinstance(values[0], int):
        return None
    return sum(value for value in values if isinstance(value, int))


class AnthropicProvider(VendorAdapter):
    name = "anthropic"
    quota_codes = frozenset({"billing_error", "enforced_spend_limit_reached"})

    def request(self, model: str, messages: list[ChatMessage], max_tokens: int,
                temperature: float) -> VendorRequest:
        system, turns = anthropic_messages(messages)
        body: dict[str, Any] = {"model": model, "max_tokens": max_tokens,
                                "temperature": min(max(temperature, 0.0), 1.0),
                                "messages": turns, "stream": True}
        if system:
            body["system"] = system
        headers = {"x-api-key": self._api_key, "anthropic-version": API_VERSION,
                   "Accept": "text/event-stream"}
        return VendorRequest(f"{self._base_url}/messages", headers, body)

    async def parse(self, response: httpx.Response,
                    messages: list[ChatMessage]) -> AsyncGenerator[StreamItem, None]:
        prompt_tokens: int | None = None
        completion_tokens: int | None = None
        stop_reason: str | None = None
        stopped = False
        deltas = 0
        async for event in iter_sse(response):
            data = event.json(self.name)
            kind = data.get("type") or event.event
            if kind == "message_start":
                usage = (data.get("message") or {}).get("usage") or {}
                prompt_tokens = _prompt_tokens(usage)
                completion_tokens = usage.get("output_tokens")
            elif kind == "content_block_delta":
                delta = data.get("delta") or {}
                text = delta.get("text")
                if delta.get("type") == "text_delta" and isinstance(text, str) and text:
                    deltas += 1
                    yield TextDelta(text)
            elif kind == "message_delta":
                stop_reason = (data.get("delta") or {}).get("stop_reason") or stop_reason
                usage = data.get("usage") or {}
                if isinstance(usage.get("output_tokens"), int):
                    completion_tokens = usage["output_tokens"]
                prompt_tokens = _prompt_tokens(usage) or prompt_tokens
            elif kind == "message_stop":
                stopped = True
                break
            elif kind == "error":
                raise self._stream_error(data.get("error") or {})
        if not stopped:
            raise incomplete(self.name)
        if isinstance(prompt_tokens, int) and isinstance(completion_tokens, int):
            final = Usage(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
        else:  # a compatible server that reports no usage
            final = Usage(prompt_tokens=estimate_prompt_tokens(messages),
                          completion_tokens=deltas, estimated=True)
        yield StreamEnd(usage=final,
                        finish_reason="length" if stop_reason == "max_tokens" else "stop")

    def _stream_error(self, error: dict[str, Any]) -> Exception:
        code, message, _ = self.error_fields({"error": error})
        return error_for_status(self.name, ERROR_STATUS.get(code or "", 500), code,
                                message[:300], quota_codes=self.quota_codes)

    def error_fields(self, body: dict[str, Any]) -> tuple[str | None, str, float | None]:
        error = body.get("error")
        if not isinstance(error, dict):
            return None, "", None
        code = error.get("type")
        details = error.get("details")
        if isinstance(details, dict) and details.get("error_code") in self.quota_codes:
            code = details["error_code"]
        message = error.get("message")
        return (code if isinstance(code, str) else None,
                message if isinstance(message, str) else "", None)
