"""Turning a signed-in user into a browser session, and ending one.

Every sign-in rotates: the caller's old session (if any) is revoked and a new token is set,
with a fresh CSRF token bound to it.
"""

from typing import Any

from fastapi import Request, Response

from clonechats.accounts import guardian_devices, sessions, suspension, two_factor_login
from clonechats.accounts.repo import User
from clonechats.client_info import ClientInfo
from clonechats.web import cookies, csrf
from clonechats.web.context import context_of


async def start_session(request: Request, response: Response, user: User,
                        client: ClientInfo) -> str:
    suspension.check(user)  # no sign-in path starts a session for a suspended account
    ctx = context_of(request)
    old_token = request.cookies.get(cookies.cookie_name(cookies.SESSION, ctx.settings))
    if old_token:
        await sessions.revoke(ctx.db, old_token)
    token, _ = await sessions.create(ctx.db, user_id=user["_id"], client=client,
                                     now=ctx.clock.now(), settings=ctx.settings.accounts)
    max_age = ctx.settings.accounts.session_absolute_hours * 3600
    cookies.set_cookie(response, cookies.SESSION, token, ctx.settings, max_age=max_age)
    csrf.issue_for_session(response, ctx.secret, token, ctx.settings)
    await guardian_devices.remember(request, response, user)  # a minor awaiting consent
    if hasattr(request.state, "auth"):
        del request.state.auth
    return token


async def end_session(request: Request, response: Response) -> str | None:
    """Revoke the request's session; returns the user id it belonged to, if any."""
    ctx = context_of(request)
    token = request.cookies.get(cookies.cookie_name(cookies.SESSION, ctx.settings))
    user_id = None
    if token:
        session = await sessions.resolve(ctx.db, token, now=ctx.clock.now(),
                                         settings=ctx.settings.accounts)
        user_id = session["user_id"] if session else None
        await sessions.revoke(ctx.db, token)
    cookies.clear_cookie(response, cookies.SESSION, ctx.settings)
    csrf.issue_for_session(response, ctx.secret, None, ctx.settings)
    return user_id


TWO_FACTOR_PAGE = "/login/two-factor"


async def start_two_factor(request: Request, response: Response, user: User,
                           client: ClientInfo, *, return_to: str,
                           provider: str = "password") -> dict[str, Any]:
    """A first factor was right: no session yet, but a pending login that the code step
    finishes. Browsers get its token as a cookie; API clients in the body."""
    ctx = context_of(request)
    token, expires_at = await two_factor_login.start(ctx, user, client=client,
                                                     return_to=return_to, provider=provider)
    cookies.set_cookie(response, cookies.TWO_FACTOR_LOGIN, token, ctx.settings,
                       max_age=two_factor_login.PENDING_MINUTES * 60)
    return {"two_factor_required": True, "token": token, "expires_at": expires_at.isoformat(),
            "next_step": TWO_FACTOR_PAGE}
