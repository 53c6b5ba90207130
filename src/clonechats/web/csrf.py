"""CSRF protection: a signed double-submit token bound to the session.

The token is `nonce.signature`, where the signature is an HMAC over the nonce and a digest of
the session token (or "anonymous"). Every GET response carries a `csrf_token` cookie when the
browser has none valid for its current session. A POST/PUT/PATCH/DELETE authenticated by the
session cookie must echo the cookie's value in `X-CSRF-Token` (or a `csrf_token` form field),
and the value must verify against the session it came with; else 403 `csrf_failed`.
Requests authenticated with a Bearer API key carry no cookies' authority and skip the check.

An unsafe request whose `Origin` is `null` or names another site is refused even with a valid
token (ASVS 3.5.2); the allowed origins are `public_url`'s and the request's own host. Every
refusal is written to the audit log as `csrf_failed` (hashed address, the reason).
"""

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clonechats.accounts import audit
from clonechats.errors import Forbidden
from clonechats.settings import Settings
from clonechats.web import cookies
from clonechats.web.client import client_info
from clonechats.web.context import context_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "x-csrf-token"
FORM_FIELD = "csrf_token"


class CsrfFailed(Forbidden):
    code = "csrf_failed"
    message = "The form has expired or did not come from this site. Reload the page and retry."


def _binding(session_token: str | None) -> str:
    if not session_token:
        return "anonymous"
    return hashlib.sha256(session_token.encode()).hexdigest()


def _signature(secret: str, nonce: str, session_token: str | None) -> str:
    message = f"csrf\x00{nonce}\x00{_binding(session_token)}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def make_token(secret: str, session_token: str | None) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_signature(secret, nonce, session_token)}"


def token_valid(secret: str, token: str | None, session_token: str | None) -> bool:
    if not token or token.count(".") != 1 or len(token) > 200:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature, _signature(secret, nonce, session_token))


class CsrfCookieMiddleware:
    """Puts the valid token in `request.state.csrf_token` and sets the cookie on GETs."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.session_cookie = cookies.cookie_name(cookies.SESSION, settings)
        self.csrf_cookie = cookies.cookie_name(cookies.CSRF, settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = scope["app"].state.ctx if "app" in scope else None
        if scope["type"] != "http" or ctx is None:
            await self.app(scope, receive, send)
            return
        raw = next((v for k, v in scope["headers"] if k == b"cookie"), b"").decode("latin-1")
        jar = cookie_parser(raw)
        current = jar.get(self.csrf_cookie)
        fresh = not token_valid(ctx.secret, current, jar.get(self.session_cookie))
        token = (current if current is not None and not fresh
                 else make_token(ctx.secret, jar.get(self.session_cookie)))
        scope.setdefault("state", {})["csrf_token"] = token
        issue = fresh and scope["method"] in SAFE_METHODS

        async def send_with_cookie(message: Message) -> None:
            if issue and message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if self.csrf_cookie.encode() not in b"".join(
                    v for k, v in message.get("headers", []) if k == b"set-cookie"
                ):
                    headers.append("set-cookie", self._cookie_header(token))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, token: str) -> str:
        secure = "" if self.settings.dev_mode else "; Secure"
        return f"{self.csrf_cookie}={token}; Path=/; SameSite=Lax{secure}"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def origin_allowed(request: Request) -> bool:
    """No `Origin` (not a browser, or a same-origin GET-style form), or one of ours."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    allowed = {_origin_of(request.app.state.settings.public_url),
               f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
    return origin.strip().lower() in allowed


async def _refuse(request: Request, reason: str) -> None:
    ctx = context_of(request)
    await audit.record(ctx.db, "csrf_failed", now=ctx.clock.now(), client=client_info(request),
                       reason=reason, route=request.url.path[:200], method=request.method)
    raise CsrfFailed()


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: refuse unsafe cookie-authenticated requests without a valid token."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        await _refuse(request, "cross_site")
    if not origin_allowed(request):
        await _refuse(request, "foreign_origin")
    settings = request.app.state.settings
    session_token = request.cookies.get(cookies.cookie_name(cookies.SESSION, settings))
    if not session_token:
        return
    cookie_value = request.cookies.get(cookies.cookie_name(cookies.CSRF, settings))
    sent = request.headers.get(HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form_value = (await request.form()).get(FORM_FIELD)
        sent = form_value if isinstance(form_value, str) else None
    if not (cookie_value and sent and hmac.compare_digest(cookie_value, sent)):
        await _refuse(request, "missing_or_mismatched_token")
    if not token_valid(context_of(request).secret, sent, session_token):
        await _refuse(request, "invalid_token")


def issue_for_session(response: object, secret: str, session_token: str | None,
                      settings: Settings) -> str:
    """Set a fresh CSRF cookie bound to a new session (after sign-in or sign-out)."""
    token = make_token(secret, session_token)
    cookies.set_cookie(response, cookies.CSRF, token, settings)  # type: ignore[arg-type]
    return token
