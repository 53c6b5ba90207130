"""Who is asking: typed dependencies that load *and* check the caller.

- `OptionalUser`: the user or None.
- `CurrentUser`: any signed-in user (trial and guardian-pending included) or 401. Only for
  settings, policies and account pages.
- `ActiveUser`: a user who may use the product: guardian-pending accounts get 403.
- `AdminUser`: role `admin` with two-factor authentication on, checked on the server for every
  admin route (see `admin/`): an admin without it gets 403 `two_factor_required`, and a browser
  is sent to set it up.
- `VerifiedUser`: an active user whose email is confirmed (buying, sharing), else 403.
"""

import hmac
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from clonechats.accounts import age, api_keys, audit, repo, sessions, suspension, two_factor
from clonechats.accounts.repo import User
from clonechats.accounts.verified import require_verified_email
from clonechats.errors import Forbidden, Unauthorized
from clonechats.web import cookies, csrf
from clonechats.web.client import client_info
from clonechats.web.context import context_of

TWO_FACTOR_SETUP_PAGE = "/account/two-factor"


class TwoFactorSetupRequired(Forbidden):
    code = "two_factor_required"
    message = ("Administrators must turn on two-factor authentication first: "
               f"see {TWO_FACTOR_SETUP_PAGE}.")
    page_redirect = TWO_FACTOR_SETUP_PAGE


@dataclass
class Auth:
    user: User
    via: str  # "session" or "api_key"
    session: dict[str, Any] | None = None
    session_token: str | None = None


async def resolve_auth(request: Request) -> Auth | None:
    if hasattr(request.state, "auth"):
        cached: Auth | None = request.state.auth
        return cached
    ctx = context_of(request)
    now = ctx.clock.now()
    auth = None
    bearer = request.headers.get("authorization", "")
    if bearer.lower().startswith("bearer "):
        key = await api_keys.resolve(ctx.db, bearer[7:].strip(), now=now)
        user = await repo.get(ctx.db, key["user_id"]) if key else None
        if user is None:
            raise Unauthorized("The API key is not valid.", code="invalid_api_key")
        auth = Auth(user=user, via="api_key")
    else:
        token = request.cookies.get(cookies.cookie_name(cookies.SESSION, ctx.settings))
        session = await sessions.resolve(ctx.db, token, now=now,
                                         settings=ctx.settings.accounts) if token else None
        user = await repo.get(ctx.db, session["user_id"]) if session else None
        if user is not None:
            auth = Auth(user=user, via="session", session=session, session_token=token)
    if auth is not None:
        suspension.check(auth.user)
    request.state.auth = auth
    return auth


async def optional_user(request: Request) -> User | None:
    auth = await resolve_auth(request)
    return auth.user if auth else None


async def current_user(request: Request) -> User:
    user = await optional_user(request)
    if user is None:
        raise Unauthorized()
    return user


async def active_user(user: Annotated[User, Depends(current_user)]) -> User:
    if user["status"] == repo.GUARDIAN_PENDING:
        raise age.GuardianConsentRequired()
    return user


async def admin_user(request: Request,
                     user: Annotated[User, Depends(current_user)]) -> User:
    if user.get("role") != "admin":
        ctx = context_of(request)
        await audit.record(ctx.db, "access_denied", now=ctx.clock.now(), user_id=user["_id"],
                           client=client_info(request), route=request.url.path[:200],
                           needed="admin")
        raise Forbidden("This area is for administrators.")
    if not two_factor.is_enabled(user):
        raise TwoFactorSetupRequired()
    return user


async def current_auth(request: Request) -> Auth:
    auth = await resolve_auth(request)
    if auth is None:
        raise Unauthorized()
    return auth


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
ActiveUser = Annotated[User, Depends(active_user)]
AdminUser = Annotated[User, Depends(admin_user)]


async def verified_user(user: Annotated[User, Depends(active_user)]) -> User:
    """An active user with a confirmed email (buying, sharing): else 403 `email_unverified`."""
    return require_verified_email(user)


VerifiedUser = Annotated[User, Depends(verified_user)]
CurrentAuth = Annotated[Auth, Depends(current_auth)]


async def pre_session_csrf(request: Request) -> None:
    """Without a session the app-wide CSRF check lets a request through; requests that act on
    a sign-in in progress (a Google flow, a pending two-factor login) still need a token,
    since the cookie naming that sign-in is a credential too."""
    settings = request.app.state.settings
    if request.cookies.get(cookies.cookie_name(cookies.SESSION, settings)):
        return  # the app-wide check already verified the token against the session
    expected = request.cookies.get(cookies.cookie_name(cookies.CSRF, settings))
    sent = request.headers.get(csrf.HEADER)
    if not (expected and sent and hmac.compare_digest(expected, sent)
            and csrf.token_valid(context_of(request).secret, sent, None)):
        raise csrf.CsrfFailed()
