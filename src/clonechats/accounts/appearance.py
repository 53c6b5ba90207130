"""How pages look to a user: a colour theme and a text size, stored on the user document.

`for_request` is what every page's `<html>` element is rendered with, so the choice applies
before the first paint (no flash of the wrong theme). Visitors, and users who never chose,
get the system default: the device's light or dark setting at normal size.
`PageCallerMiddleware` resolves the signed-in caller for every page request, so pages that do
not need the user themselves still know whose preference to apply.
"""

import contextlib
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from clonechats.accounts import repo
from clonechats.accounts.dependencies import resolve_auth
from clonechats.accounts.repo import User
from clonechats.accounts.schemas import TextSize, Theme
from clonechats.context import Ctx
from clonechats.errors import AppError, still_there
from clonechats.web import cookies
from clonechats.web.context import context_of

DEFAULT: dict[str, str] = {"theme": "system", "text_size": "normal"}
NOT_PAGES = ("/api/", "/static/")


def of(user: User | None) -> dict[str, str]:
    """The user's theme and text size, defaults filling what they never chose."""
    return {**DEFAULT, **((user or {}).get("appearance") or {})}


def for_request(request: Any) -> dict[str, str]:
    """The appearance for the page being rendered: its resolved caller's, else the default."""
    auth = getattr(request.state, "auth", None) if isinstance(request, Request) else None
    return of(auth.user if auth else None)


async def update(ctx: Ctx, user: User, *, theme: Theme | None = None,
                 text_size: TextSize | None = None) -> User:
    """Set the theme and/or text size (values already checked by the schema); None keeps one."""
    chosen = of(user)
    if theme is not None:
        chosen["theme"] = theme
    if text_size is not None:
        chosen["text_size"] = text_size
    return still_there(await repo.update(ctx.db, user["_id"], {
        "appearance": chosen, "updated_at": ctx.clock.now()}))


class PageCallerMiddleware:
    """Resolves the session's user for page requests (`GET`, not API or static files). A
    refused caller (a suspended account) is left unresolved here: the page's own dependency
    resolves again and gives the proper answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] == "http" and scope["method"] in {"GET", "HEAD"}
                and not scope["path"].startswith(NOT_PAGES)):
            request = Request(scope)
            ctx = context_of(request)
            if ctx is not None and cookies.cookie_name(cookies.SESSION, ctx.settings) in (
                    request.cookies):
                with contextlib.suppress(AppError):
                    await resolve_auth(request)
        await self.app(scope, receive, send)
