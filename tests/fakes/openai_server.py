"""A loopback HTTP server speaking OpenAI's chat-completions stream and moderation wire format,
for tests whose app runs in other processes (`clonechats worker` subprocesses), where an
in-process `httpx.MockTransport` cannot reach.

    with OpenAIServer(chunk_delay=0.02) as server:
        env = server.environment()  # CLONECHATS_* settings pointing the app at this server
        ...

Every reply is the words "Reply to: <last user text>" ... cut to `words` chunks, sent as
`chat.completion.chunk` SSE events with a final usage chunk and `data: [DONE]`; every text is
"not flagged" by the moderation endpoint. The key is checked as OpenAI checks it (401
otherwise). `requests` counts the completions served (a thread-safe counter).
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "sk-test-loopback-0123456789"
MODEL = "fake-fast"


class OpenAIServer:
    def __init__(self, *, chunk_delay: float = 0.0, words: int = 3) -> None:
        self.chunk_delay = chunk_delay
        self.words = words
        self.requests = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def environment(self) -> dict[str, str]:
        return {
            "CLONECHATS_LLM__OPENAI_API_KEY": API_KEY,
            "CLONECHATS_LLM__OPENAI_BASE_URL": self.base_url,
            "CLONECHATS_LLM__OPENAI_MODELS": json.dumps([{"name": MODEL,
                                                          "context_window": 4096}]),
            "CLONECHATS_LLM__DEFAULT_MODEL": f"openai:{MODEL}",
            "CLONECHATS_MODERATION__PROVIDER": "openai",
            "CLONECHATS_MODERATION__OPENAI_API_KEY": API_KEY,
            "CLONECHATS_MODERATION__OPENAI_BASE_URL": self.base_url,
        }

    def __enter__(self) -> "OpenAIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _count(self) -> None:
        with self._lock:
            self.requests += 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self._json(401, {"error": {"message": "Incorrect API key provided.",
                                               "type": "invalid_request_error",
                                               "code": "invalid_api_key"}})
                elif self.path == "/v1/moderations":
                    self._json(200, {"id": "modr-1", "model": body.get("model"), "results": [
                        {"flagged": False, "categories": {"harassment": False},
                         "category_scores": {"harassment": 0.001}}]})
                elif self.path == "/v1/chat/completions":
                    server._count()
                    self._stream(body)
                else:
                    self._json(404, {"error": {"message": "no route", "type": None,
                                               "code": "unknown_url"}})

            def _stream(self, body: dict[str, Any]) -> None:
                last = next((m["content"] for m in reversed(body["messages"])
                             if m["role"] == "user"), "")
                words = f"Reply to: {last}".split()[:server.words]
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()

                def event(payload: dict[str, Any] | str) -> None:
                    data = payload if isinstance(payload, str) else json.dumps(payload)
                    self.wfile.write(f"data: {data}\n\n".encode())
                    self.wfile.flush()

                base = {"id": "chatcmpl-1", "object": "chat.completion.chunk",
                        "model": body["model"]}
                for index, word in enumerate(words):
                    if server.chunk_delay:
                        time.sleep(server.chunk_delay)
                    text = word if index == 0 else f" {word}"
                    event({**base, "choices": [{"index": 0, "delta": {"content": text},
                                                "finish_reason": None}]})
                event({**base, "choices": [{"index": 0, "delta": {},
                                            "finish_reason": "stop"}]})
                event({**base, "choices": [], "usage": {"prompt_tokens": 10,
                                                        "completion_tokens": len(words)}})
                event("[DONE]")
                self.close_connection = True

        return Handler
