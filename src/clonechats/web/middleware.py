"""ASGI middleware: security headers, body size limit, request ids, access log and metrics."""

import logging
import secrets
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clonechats.errors import PayloadTooLarge
from clonechats.telemetry.metrics import Metrics

log = logging.getLogger("clonechats.access")

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), geolocation=(), microphone=(self)"),
]


def security_headers(*, hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = list(SECURITY_HEADERS)
    if hsts:
        headers.append((b"strict-transport-security", b"max-age=63072000"))
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts=hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def body_too_large() -> HTTPException:
    # An HTTPException, not an AppError: FastAPI turns any other exception raised while it reads
    # a body into "400 There was an error parsing the body", but re-raises this one as is.
    return HTTPException(413, PayloadTooLarge.message)


class BodySizeLimitMiddleware:
    """Refuses bodies over the limit (413), whether announced by Content-Length or streamed:
    `max_json_bytes` for JSON bodies, `max_bytes` for everything else (uploads)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, max_json_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_json_bytes = max_json_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        is_json = headers.get(b"content-type", b"").split(b";")[0].strip().endswith(b"json")
        limit = self.max_json_bytes if is_json else self.max_bytes
        declared = headers.get(b"content-length")
        too_large = declared is not None and (not declared.isdigit() or int(declared) > limit)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if too_large:
                raise body_too_large()
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise body_too_large()
            return message

        await self.app(scope, limited_receive, send)


class ObservabilityMiddleware:
    """Gives each request an id, logs one access line (no client address) and counts it."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - started, request_id)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(seconds)
        log.info("request", extra={"method": method, "route": template, "status": status,
                                   "ms": round(seconds * 1000, 1), "request_id": request_id})
