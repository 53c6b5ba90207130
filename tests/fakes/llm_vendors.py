"""Fakes of the OpenAI, Anthropic and Gemini streaming chat APIs behind `httpx.MockTransport`.

Each fake checks what the real API checks (the key header, the path, the shape of the body:
Anthropic takes no "system" role, Gemini only "user"/"model") and answers in that vendor's
exact Server-Sent Events format. `enqueue()` scripts the next replies: text chunks and usage,
an HTTP error with the vendor's error body (429 with Retry-After, 500, 529, ...), a vendor
error event inside the stream, a connection that breaks after N text chunks, a read timeout
after N text chunks, a body that ends unfinished, or a connection failure. With nothing
enqueued, the reply is "You said: <the last user text>", one word per chunk. Every request
lands in `history`; every streamed body in `streams` (`frames_sent`, `closed`), so a test can
see a stream was abandoned.
"""

import json
from typing import Any

import httpx

from tests.fakes.llm_streaming import (
    FakeVendor,
    Frame,
    RecordedRequest,
    Reply,
    sse_data,
    sse_event,
)

__all__ = ["FakeAnthropic", "FakeGemini", "FakeOpenAI", "FakeVendor", "RecordedRequest", "Reply"]

OPENAI_KEY = "sk-test-openai-0123456789"
ANTHROPIC_KEY = "sk-ant-test-0123456789"
GOOGLE_KEY = "AIza-test-0123456789"


OPENAI_ERRORS = {400: ("invalid_request_error", None), 401: ("invalid_request_error",
                 "invalid_api_key"), 404: ("invalid_request_error", "model_not_found"),
                 429: ("requests", "rate_limit_exceeded"), 500: ("server_error", None),
                 503: ("server_error", None)}


class FakeOpenAI(FakeVendor):
    api_key = OPENAI_KEY
    base_url = "https://api.openai.test/v1"

    def check(self, request: httpx.Request, body: Any) -> httpx.Response | None:
        if request.method != "POST" or request.url.path != "/v1/chat/completions":
            return httpx.Response(404, json=self.error_body(404, "unknown_url", "no route", None))
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return httpx.Response(401, json=self.error_body(
                401, "invalid_api_key", "Incorrect API key provided.", None))
        messages = body.get("messages") if isinstance(body, dict) else None
        if not body.get("model") or not isinstance(messages, list) or not body.get("stream") or any(
                m.get("role") not in ("system", "user", "assistant", "developer")
                or not isinstance(m.get("content"), str) for m in messages):
            return httpx.Response(400, json=self.error_body(400, None, "Invalid body.", None))
        return None

    def last_user_text(self, body: Any) -> str:
        return next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")

    def frames(self, reply: Reply, body: Any, prompt_tokens: int,
               completion_tokens: int) -> list[Frame]:
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk", "created": 1767225600,
                "model": body["model"], "system_fingerprint": "fp_test"}
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            payload = {**base, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                            "finish_reason": finish}]}
            if with_usage:
                payload["usage"] = None
            return payload

        frames = [Frame(sse_data(chunk({"role": "assistant", "content": ""}, None)))]
        frames += [Frame(sse_data(chunk({"content": text}, None)), is_text=True)
                   for text in reply.chunks]
        frames.append(Frame(sse_data(chunk({}, reply.finish_reason))))
        if with_usage and reply.include_usage:
            frames.append(Frame(sse_data({**base, "choices": [], "usage": {
                "prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens}})))
        frames.append(Frame(b"data: [DONE]\n\n"))
        return frames

    def error_body(self, status: int, code: str | None, message: str,
                   retry_after: float | None) -> dict[str, Any]:
        kind, default_code = OPENAI_ERRORS.get(status, ("invalid_request_error", None))
        if code == "insufficient_quota":
            kind = "insufficient_quota"
        return {"error": {"message": message, "type": kind, "param": None,
                          "code": code or default_code}}

    def stream_error_frame(self, code: str | None) -> bytes | None:
        return sse_data({"error": {"message": "The server had an error while processing your "
                                "request.", "type": "server_error", "param": None,
                                "code": code or "server_error"}})


ANTHROPIC_ERRORS = {400: "invalid_request_error", 401: "authentication_error",
                    402: "billing_error", 403: "permission_error", 404: "not_found_error",
                    413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
                    529: "overloaded_error"}


class FakeAnthropic(FakeVendor):
    api_key = ANTHROPIC_KEY
    base_url = "https://api.anthropic.test/v1"

    def check(self, request: httpx.Request, body: Any) -> httpx.Response | None:
        def bad(status: int, message: str) -> httpx.Response:
            return httpx.Response(status, json=self.error_body(status, None, message, None))

        if request.method != "POST" or request.url.path != "/v1/messages":
            return bad(404, "Not found")
        if request.headers.get("x-api-key") != self.api_key:
            return bad(401, "invalid x-api-key")
        if request.headers.get("anthropic-version") != "2023-06-01":
            return bad(400, "anthropic-version: header is required")
        if not isinstance(body, dict) or not body.get("model") or not body.get("stream"):
            return bad(400, "model: Field required")
        if not isinstance(body.get("max_tokens"), int):
            return bad(400, "max_tokens: Field required")
        if "system" in body and not isinstance(body["system"], str | list):
            return bad(400, "system: Input should be a valid string")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return bad(400, "messages: at least one message is required")
        for message in messages:
            if message.get("role") not in ("user", "assistant"):
                return bad(400, f"messages: Unexpected role \"{message.get('role')}\"")
            if not message.get("content"):
                return bad(400, "messages: text content blocks must be non-empty")
        return None

    def last_user_text(self, body: Any) -> str:
        return next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")

    def frames(self, reply: Reply, body: Any, prompt_tokens: int,
               completion_tokens: int) -> list[Frame]:
        usage: dict[str, Any] = {"input_tokens": prompt_tokens, "cache_creation_input_tokens": 0,
                                 "cache_read_input_tokens": 0, "output_tokens": 1}
        start = {"type": "message_start", "message": {
            "id": "msg_test", "type": "message", "role": "assistant", "content": [],
            "model": body["model"], "stop_reason": None, "stop_sequence": None,
            "usage": usage if reply.include_usage else {}}}
        frames = [Frame(sse_event("message_start", start)),
                  Frame(sse_event("content_block_start", {"type": "content_block_start",
                                "index": 0, "content_block": {"type": "text", "text": ""}})),
                  Frame(sse_event("ping", {"type": "ping"}))]
        frames += [Frame(sse_event("content_block_delta", {
            "type": "content_block_delta", "index": 0,
            "delta": {"type": "text_delta", "text": text}}), is_text=True)
            for text in reply.chunks]
        stop = "max_tokens" if reply.finish_reason == "length" else "end_turn"
        frames += [
            Frame(sse_event("content_block_stop", {"type": "content_block_stop", "index": 0})),
            Frame(sse_event("message_delta", {
                "type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": completion_tokens} if reply.include_usage else {}})),
            Frame(sse_event("message_stop", {"type": "message_stop"}))]
        return frames

    def error_body(self, status: int, code: str | None, message: str,
                   retry_after: float | None) -> dict[str, Any]:
        return {"type": "error", "error": {"type": code or ANTHROPIC_ERRORS.get(status,
                "api_error"), "message": message}, "request_id": "req_test"}

    def stream_error_frame(self, code: str | None) -> bytes | None:
        return sse_event("error", {"type": "error", "error": {
            "type": code or "overloaded_error", "message": "Overloaded"}})


GOOGLE_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
GOOGLE_STREAM_PATH = ":streamGenerateContent"


class FakeGemini(FakeVendor):
    api_key = GOOGLE_KEY
    base_url = "https://generativelanguage.googleapis.test/v1beta"

    def check(self, request: httpx.Request, body: Any) -> httpx.Response | None:
        def bad(status: int, message: str, reason: str | None = None) -> httpx.Response:
            payload = self.error_body(status, None, message, None)
            if reason:
                payload["error"]["details"] = [{
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason,
                    "domain": "googleapis.com"}]
            return httpx.Response(status, json=payload)

        path = request.url.path
        if (request.method != "POST" or not path.startswith("/v1beta/models/")
                or not path.endswith(GOOGLE_STREAM_PATH)
                or request.url.params.get("alt") != "sse"):
            return bad(404, "Not found")
        if request.headers.get("x-goog-api-key") != self.api_key:
            return bad(400, "API key not valid. Please pass a valid API key.", "API_KEY_INVALID")
        contents = body.get("contents") if isinstance(body, dict) else None
        if not isinstance(contents, list) or not contents:
            return bad(400, "* GenerateContentRequest.contents: contents is not specified")
        for content in contents:
            if content.get("role") not in ("user", "model"):
                return bad(400, f"Please use a valid role: user, model (got {content.get('role')})")
            if not all(isinstance(part.get("text"), str) for part in content.get("parts") or []):
                return bad(400, "* parts: text is required")
        system = body.get("systemInstruction")
        if system is not None and not isinstance(system.get("parts"), list):
            return bad(400, "systemInstruction: parts is required")
        return None

    def last_user_text(self, body: Any) -> str:
        return next((c["parts"][0]["text"] for c in reversed(body["contents"])
                     if c["role"] == "user"), "")

    def frames(self, reply: Reply, body: Any, prompt_tokens: int,
               completion_tokens: int) -> list[Frame]:
        def chunk(text: str | None, count: int, finish: str | None) -> bytes:
            candidate: dict[str, Any] = {"content": {"role": "model", "parts": (
                [{"text": text}] if text is not None else [])}, "index": 0}
            if finish:
                candidate["finishReason"] = finish
            payload: dict[str, Any] = {"candidates": [candidate],
                                       "modelVersion": "gemini-test", "responseId": "resp_test"}
            if reply.include_usage:
                payload["usageMetadata"] = {"promptTokenCount": prompt_tokens,
                                            "candidatesTokenCount": count,
                                            "totalTokenCount": prompt_tokens + count}
            return f"data: {json.dumps(payload)}\r\n\r\n".encode()

        finish = "MAX_TOKENS" if reply.finish_reason == "length" else "STOP"
        frames = [Frame(chunk(text, min(i + 1, completion_tokens), None), is_text=True)
                  for i, text in enumerate(reply.chunks)]
        frames.append(Frame(chunk(None, completion_tokens, finish)))
        return frames

    def error_body(self, status: int, code: str | None, message: str,
                   retry_after: float | None) -> dict[str, Any]:
        error: dict[str, Any] = {"code": status, "message": message,
                                 "status": code or GOOGLE_STATUS.get(status, "INTERNAL")}
        if retry_after is not None:
            error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                 "retryDelay": f"{retry_after:g}s"}]
        return {"error": error}

    def stream_error_frame(self, code: str | None) -> bytes | None:
        return sse_data({"error": {"code": 503, "message": "The model is overloaded.",
                                "status": code or "UNAVAILABLE"}})
