"""The machinery the LLM vendor fakes share: scripted replies, a streamed body that can break,
stall or end early part-way, and the request log. The vendors' formats are in `llm_vendors.py`.
"""

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Reply:
    chunks: list[str] = field(default_factory=lambda: ["Hello", " there", "!"])
    prompt_tokens: int | None = None  # default: words in the request, plus one
    completion_tokens: int | None = None  # default: one per chunk
    include_usage: bool = True  # False: a compatible server that reports no usage
    finish_reason: str = "stop"  # "stop" | "length"
    status: int = 200  # >= 400: an HTTP error with the vendor's error body
    error_code: str | None = None  # the vendor's error type/code in that body
    error_message: str = "scripted failure"
    retry_after: float | None = None  # Retry-After header (Gemini: RetryInfo.retryDelay)
    break_after: int | None = None  # the connection drops after this many text chunks
    stall_after: int | None = None  # the read times out after this many text chunks
    end_after: int | None = None  # the body ends cleanly, unfinished, after this many chunks
    stream_error_after: int | None = None  # a vendor error event after this many text chunks
    stream_error_code: str | None = None
    connect_error: bool = False


@dataclass
class RecordedRequest:
    method: str
    url: httpx.URL
    headers: httpx.Headers
    json: Any


@dataclass
class Frame:
    data: bytes
    is_text: bool = False


class ScriptedStream(httpx.AsyncByteStream):
    """A streamed body that can break or stall part-way, and knows whether it was closed."""

    def __init__(self, frames: list[Frame], reply: Reply, request: httpx.Request,
                 error_frame: bytes | None) -> None:
        self.frames = frames
        self.frames_sent = 0
        self.closed = False
        self._reply = reply
        self._request = request
        self._error_frame = error_frame

    async def __aiter__(self):
        texts = 0
        for frame in self.frames:
            if frame.is_text:
                if texts == self._reply.break_after:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body",
                        request=self._request)
                if texts == self._reply.stall_after:
                    raise httpx.ReadTimeout("timed out", request=self._request)
                if texts == self._reply.end_after:
                    return
                if texts == self._reply.stream_error_after and self._error_frame is not None:
                    self.frames_sent += 1
                    yield self._error_frame
                    return
                texts += 1
            self.frames_sent += 1
            yield frame.data

    async def aclose(self) -> None:
        self.closed = True


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [words[0], *(" " + word for word in words[1:])]


class FakeVendor:
    api_key = ""
    base_url = ""

    def __init__(self) -> None:
        self.history: list[RecordedRequest] = []
        self.streams: list[ScriptedStream] = []
        self._script: deque[Reply] = deque()

    def enqueue(self, reply: Reply | None = None, /, **fields: Any) -> Reply:
        """Script the next reply (a `Reply`, or its fields as keywords)."""
        scripted = reply or Reply(**fields)
        self._script.append(scripted)
        return scripted

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport)

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        self.history.append(RecordedRequest(request.method, request.url, request.headers, body))
        reply = self._script.popleft() if self._script else None
        if reply is not None and reply.connect_error:
            raise httpx.ConnectError("connection refused", request=request)
        problem = self.check(request, body)
        if problem is not None:
            return problem
        reply = reply or Reply(chunks=_words("You said: " + self.last_user_text(body)))
        if reply.status >= 400:
            headers = {"retry-after": str(reply.retry_after)} if reply.retry_after else {}
            return httpx.Response(reply.status, headers=headers,
                                  json=self.error_body(reply.status, reply.error_code,
                                                       reply.error_message, reply.retry_after))
        prompt_tokens = reply.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = 1 + len(json.dumps(body).split())
        completion_tokens = reply.completion_tokens
        if completion_tokens is None:
            completion_tokens = len(reply.chunks)
        frames = self.frames(reply, body, prompt_tokens, completion_tokens)
        error_frame = self.stream_error_frame(reply.stream_error_code)
        stream = ScriptedStream(frames, reply, request, error_frame)
        self.streams.append(stream)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    # --- per vendor ---------------------------------------------------------------------------

    def check(self, request: httpx.Request, body: Any) -> httpx.Response | None:
        raise NotImplementedError

    def last_user_text(self, body: Any) -> str:
        raise NotImplementedError

    def frames(self, reply: Reply, body: Any, prompt_tokens: int,
               completion_tokens: int) -> list[Frame]:
        raise NotImplementedError

    def error_body(self, status: int, code: str | None, message: str,
                   retry_after: float | None) -> dict[str, Any]:
        raise NotImplementedError

    def stream_error_frame(self, code: str | None) -> bytes | None:
        raise NotImplementedError


def sse_data(payload: Any) -> bytes:
    return f"data: {json.dumps(payload)}\n\n".encode()


def sse_event(name: str, payload: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()
