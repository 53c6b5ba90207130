"""CSRF protection: a signed double-submit token bound to the session.

The token is `nonce.signature`, where the signature is an HMAC over the nonce and a digest of
the session token (or "anonymous"). Every GET response carries a `csrf_token` cookie when the
browser has none valid for its current session. A POST/PUT/PATCH/DELETE authenticated by the
session cookie must echo the cookie's value in `X-CSRF-Token` (or a `csrf_token` form field),
and the value must verify against the session it came with; else 403 `csrf_failed`.
Requests authenticated with a Bearer API key carry no cookies' authority and skip the check.
"""

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from clonechats.errors import Forbidden
from clonechats.settings import Settings
from clonechats.web import cookies

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
        token = make_token(ctx.secret, jar.get(self.session_cookie)) if fresh else current
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


async def verify_csrf(request: Request) -> None:
    """App-wide dependency: refuse unsafe cookie-authenticated requests without a valid token."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfFailed()
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
        raise CsrfFailed()
    if not token_valid(request.app.state.ctx.secret, sent, session_token):
        raise CsrfFailed()


def issue_for_session(response: object, secret: str, session_token: str | None,
                      settings: Settings) -> str:
    """Set a fresh CSRF cookie bound to a new session (after sign-in or sign-out)."""
    token = make_token(secret, session_token)
    cookies.set_cookie(response, cookies.CSRF, token, settings)  # type: ignore[arg-type]
    return token
