"""An OpenAI-compatible chat server for benchmarks: every reply is N tokens, at once or paced.

    .venv/bin/python bench/fake_openai_server.py [--port 8001] [--tokens 64] [--rate 0]
        [--delay-ms 0] [--backlog 4096]

`POST /v1/chat/completions` answers in OpenAI's format: with `"stream": true`, Server-Sent
Events (a role chunk, one `chat.completion.chunk` per token, a chunk with `finish_reason`, a
usage chunk when `stream_options.include_usage` is set, then `data: [DONE]`), each event sent as
its own body part; otherwise one `chat.completion` JSON. A reply is `min(--tokens, max_tokens)`
tokens long. `--rate R` paces a streamed reply at R tokens per second, the way a model
generates: the first token goes at once, token i at i/R seconds after it, each stream sleeping
on the event loop until its next token is due (no busy waiting; a fixed schedule, so one late
wake-up does not slow the rest of the reply), so one process holds hundreds of paced streams;
0 (the default) sends them all at once. Without `--rate`, `--delay-ms` pauses that long before
every token. Any bearer key is accepted. `GET /v1/models` lists the one model, `bench-model`.
A plain ASGI app with no framework, so that the server itself costs as little as possible;
`create_app()` builds it for use inside another process (e.g. `uvicorn.Server` in a benchmark).
Point Clone Chats at it with `CLONECHATS_LLM__OPENAI_BASE_URL=http://127.0.0.1:8001/v1`,
`CLONECHATS_LLM__OPENAI_API_KEY=sk-bench` and `CLONECHATS_LLM__OPENAI_MODELS='["bench-model"]'`.
"""

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

MODEL = "bench-model"
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def create_app(*, tokens: int = 64, delay_ms: float = 0.0, rate: float = 0.0,
               word: str = " token"):
    """The ASGI app: `tokens` per reply, paced at `rate` tokens per second or with `delay_ms`
    before each token (both 0: all at once)."""
    if rate < 0 or delay_ms < 0:
        raise ValueError("rate and delay_ms must not be negative")

    async def respond_json(send: Send, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def read_body(receive: Receive) -> bytes:
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                return b"".join(chunks)

    async def stream(send: Send, request: dict[str, Any], count: int, prompt: int) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": request.get("model", MODEL)}

        async def event(payload: Any) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            await send({"type": "http.response.body", "body": f"data: {data}\n\n".encode(),
                        "more_body": True})

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        await event(chunk({"role": "assistant", "content": ""}, None))
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(count):
            if rate:
                wait = start + i / rate - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
            elif delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            await event(chunk({"content": word}, None))
        await event(chunk({}, "length" if count < tokens else "stop"))
        if (request.get("stream_options") or {}).get("include_usage"):
            await event({**base, "choices": [], "usage": {
                "prompt_tokens": prompt, "completion_tokens": count,
                "total_tokens": prompt + count}})
        await event("[DONE]")
        await send({"type": "http.response.body", "body": b""})

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]
                if kind == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif kind == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path, method = scope["path"], scope["method"]
        if method == "GET" and path == "/v1/models":
            await respond_json(send, 200, {"object": "list", "data": [
                {"id": MODEL, "object": "model", "owned_by": "bench"}]})
            return
        if method != "POST" or path != "/v1/chat/completions":
            await respond_json(send, 404, {"error": {"message": "not found",
                                                     "type": "invalid_request_error"}})
            return
        headers = dict(scope["headers"])
        if not headers.get(b"authorization", b"").startswith(b"Bearer "):
            await respond_json(send, 401, {"error": {"message": "missing API key",
                                                     "type": "invalid_request_error",
                                                     "code": "invalid_api_key"}})
            return
        try:
            request = json.loads(await read_body(receive))
            messages = request["messages"]
        except (ValueError, KeyError, TypeError):
            await respond_json(send, 400, {"error": {"message": "invalid body",
                                                     "type": "invalid_request_error"}})
            return
        count = min(tokens, int(request.get("max_tokens") or tokens))
        prompt = sum(len(str(m.get("content", "")).split()) + 4 for m in messages) + 3
        if request.get("stream"):
            await stream(send, request, count, prompt)
            return
        await respond_json(send, 200, {
            "id": "chatcmpl-bench", "object": "chat.completion", "created": int(time.time()),
            "model": request.get("model", MODEL),
            "choices": [{"index": 0, "finish_reason": "length" if count < tokens else "stop",
                         "message": {"role": "assistant", "content": word * count}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": count,
                      "total_tokens": prompt + count}})

    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--tokens", type=int, default=64, help="tokens in every reply")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="tokens per second of a streamed reply (0: all at once)")
    parser.add_argument("--delay-ms", type=float, default=0.0,
                        help="pause before every token (ignored with --rate)")
    parser.add_argument("--backlog", type=int, default=4096, help="listen backlog")
    args = parser.parse_args()
    if args.rate < 0 or args.delay_ms < 0:
        parser.error("--rate and --delay-ms must not be negative")
    uvicorn.run(create_app(tokens=args.tokens, delay_ms=args.delay_ms, rate=args.rate),
                host=args.host, port=args.port, access_log=False, log_level="warning",
                backlog=args.backlog)


if __name__ == "__main__":
    main()
