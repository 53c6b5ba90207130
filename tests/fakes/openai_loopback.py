"""`FakeOpenAI` served over real HTTP on a loopback port, for tests that run `clonechats serve`
in subprocesses (which cannot be handed a MockTransport).

    with LoopbackOpenAI(chunk_delay=0.05) as fake:
        env = {**fake.environment(), ...}   # CLONECHATS_LLM__OPENAI_* pointing at it

It speaks OpenAI's streamed Chat Completions wire format exactly as `FakeOpenAI` does (the
key header, the body checks, the SSE frames with usage), and writes each frame after
`chunk_delay` seconds so a viewer can watch a reply arrive. Unless `enqueue()` scripts one,
the n-th reply is two sentences naming n ("Point 3 is made. Here is more on it."), one word per
chunk. Runs uvicorn on its own thread; `history` keeps every request.
"""

import asyncio
import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from tests.fakes.llm_streaming import Reply
from tests.fakes.llm_vendors import OPENAI_KEY, FakeOpenAI

MODEL = "gpt-4o-mini"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackOpenAI:
    def __init__(self, *, chunk_delay: float = 0.05) -> None:
        self.fake = FakeOpenAI()
        self.chunk_delay = chunk_delay
        self.port = _free_port()
        self.replies = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def environment(self) -> dict[str, str]:
        return {"CLONECHATS_LLM__OPENAI_API_KEY": OPENAI_KEY,
                "CLONECHATS_LLM__OPENAI_BASE_URL": self.base_url,
                "CLONECHATS_LLM__DEFAULT_MODEL": f"openai:{MODEL}",
                "CLONECHATS_LLM__MAX_RETRIES": "0"}

    def enqueue(self, reply: Reply | None = None, /, **fields: Any) -> Reply:
        return self.fake.enqueue(reply, **fields)

    @property
    def history(self) -> list[Any]:
        return self.fake.history

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (message := await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.replies += 1
        if not self.fake._script:  # nothing scripted: the default reply of this fake
            n = self.replies
            self.fake.enqueue(chunks=[f"Point {n}", " is", " made.", " Here", " is", " more",
                                      " on", " it."])
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        request = httpx.Request(scope["method"], f"http://127.0.0.1{scope['path']}",
                                headers=headers, content=body)
        response = self.fake.handle(request)
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in response.headers.items()
                                if k.lower() not in ("content-length", "transfer-encoding")]})
        if isinstance(response.stream, httpx.AsyncByteStream):
            async for frame in response.stream:
                await asyncio.sleep(self.chunk_delay)
                await send({"type": "http.response.body", "body": frame, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "http.response.body", "body": response.content})

    def __enter__(self) -> "LoopbackOpenAI":
        config = uvicorn.Config(self, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the loopback OpenAI fake did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)
