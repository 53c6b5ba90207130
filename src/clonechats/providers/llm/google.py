"""Google Gemini (Generative Language API), streamed, with plain httpx.

`POST {base_url}/models/{model}:streamGenerateContent?alt=sse` with `x-goog-api-key` and
`{contents: [{role: "user" | "model", parts: [{text}]}], systemInstruction: {parts: [{text}]},
generationConfig: {maxOutputTokens, temperature}}`. System messages become `systemInstruction`;
assistant turns have the role "model"; consecutive turns of one role are joined.

Each SSE `data:` line is a GenerateContentResponse: the text is in
`candidates[0].content.parts[].text` (parts marked `thought` are skipped), the last chunk has
`finishReason` ("STOP", "MAX_TOKENS", ...) and `usageMetadata` with running totals: prompt tokens
are `promptTokenCount`, completion tokens `candidatesTokenCount + thoughtsTokenCount` (thinking
is billed as output). There is no end marker: a stream without a `finishReason` is incomplete.
A prompt refused by Gemini's safety filter (`promptFeedback.blockReason`) is a ProviderRejected.
Errors are `{"error": {"code", "message", "status", "details"}}`; an invalid key arrives as
400 with reason API_KEY_INVALID (an auth error); 429 RESOURCE_EXHAUSTED and 5xx are retried
before the first token, honouring the RetryInfo delay.
"""

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import quote

import httpx

from clonechats.providers.errors import ProviderRejected
from clonechats.providers.llm.base import ChatMessage, StreamEnd, StreamItem, TextDelta, Usage
from clonechats.providers.llm.estimate import estimate_prompt_tokens
from clonechats.providers.llm.vendor_http import (
    VendorAdapter,
    VendorRequest,
    error_for_status,
    incomplete,
    iter_sse,
)

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"
AUTH_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_SERVICE_BLOCKED"})


def gemini_contents(messages: list[ChatMessage]) -> tuple[str, list[dict[str, Any]]]:
    """(system instruction text, contents with roles user/model)."""
    system = "\n\n".join(m.content for m in messages if m.role == "system" and m.content)
    contents: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system" or not message.content.strip():
            continue
        role = "model" if message.role == "assistant" else "user"
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"][0]["text"] += "\n\n" + message.content
        else:
            contents.append({"role": role, "parts": [{"text": message.content}]})
    return system, contents


def _retry_delay(details: Any) -> float | None:
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


class GoogleProvider(VendorAdapter):
    name = "google"
    auth_codes = AUTH_REASONS

    def request(self, model: str, messages: list[ChatMessage], max_tokens: int,
                temperature: float) -> VendorRequest:
        system, contents = gemini_contents(messages)
        body: dict[str, Any] = {
            "contents": contents,
            "generationConfig": {"maxOutputTokens": max_tokens, "temperature": temperature},
        }
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        url = f"{self._base_url}/models/{quote(model, safe='.-_')}:streamGenerateContent?alt=sse"
        headers = {"x-goog-api-key": self._api_key, "Accept": "text/event-stream"}
        return VendorRequest(url, headers, body)

    async def parse(self, response: httpx.Response,
                    messages: list[ChatMessage]) -> AsyncGenerator[StreamItem, None]:
        usage: dict[str, Any] | None = None
        finish_reason: str | None = None
        deltas = 0
        async for event in iter_sse(response):
            chunk = event.json(self.name)
            if isinstance(chunk.get("error"), dict):
                code, message, delay = self.error_fields(chunk)
                status = chunk["error"].get("code")
                raise error_for_status(self.name, status if isinstance(status, int) else 500,
                                       code, message[:300], retry_after=delay,
                                       auth_codes=self.auth_codes)
            candidates = chunk.get("candidates") or []
            block = (chunk.get("promptFeedback") or {}).get("blockReason")
            if block and not candidates:
                raise ProviderRejected(f"the prompt was blocked by the safety filter ({block})",
                                       provider=self.name, code="prompt_blocked")
            if candidates and isinstance(candidates[0], dict):
                candidate = candidates[0]
                for part in (candidate.get("content") or {}).get("parts") or []:
                    text = part.get("text") if isinstance(part, dict) else None
                    if isinstance(text, str) and text and not part.get("thought"):
                        deltas += 1
                        yield TextDelta(text)
                finish_reason = candidate.get("finishReason") or finish_reason
            if isinstance(chunk.get("usageMetadata"), dict):
                usage = chunk["usageMetadata"]
        if finish_reason is None:
            raise incomplete(self.name)
        yield StreamEnd(usage=self._usage(usage, messages, deltas),
                        finish_reason="length" if finish_reason == "MAX_TOKENS" else "stop")

    def _usage(self, usage: dict[str, Any] | None, messages: list[ChatMessage],
               deltas: int) -> Usage:
        prompt = usage.get("promptTokenCount") if usage else None
        if usage is None or not isinstance(prompt, int):
            return Usage(prompt_tokens=estimate_prompt_tokens(messages), completion_tokens=deltas,
                         estimated=True)
        completion = sum(value for value in (usage.get("candidatesTokenCount"),
                                             usage.get("thoughtsTokenCount"))
                         if isinstance(value, int))
        return Usage(prompt_tokens=prompt, completion_tokens=completion)

    def error_fields(self, body: dict[str, Any]) -> tuple[str | None, str, float | None]:
        error = body.get("error")
        if not isinstance(error, dict):
            return None, "", None
        code = error.get("status")
        details = error.get("details")
        for detail in details if isinstance(details, list) else []:
            if isinstance(detail, dict) and detail.get("reason") in AUTH_REASONS:
                code = detail["reason"]
        message = error.get("message")
        return (code if isinstance(code, str) else None,
                message if isinstance(message, str) else "", _retry_delay(details))
