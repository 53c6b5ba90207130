"""Two-factor authentication over HTTP: the sign-in's code step, turning it on and off, and
the two pages for them. Logic lives in `two_factor.py` and `two_factor_login.py`."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from clonechats.accounts import repo, sessions, two_factor, two_factor_login
from clonechats.accounts.dependencies import Auth, CurrentAuth, pre_session_csrf, resolve_auth
from clonechats.accounts.routes import Client, user_body
from clonechats.accounts.schemas import TwoFactorCodeIn, TwoFactorDisableIn, TwoFactorLoginIn
from clonechats.accounts.session_cookies import start_session
from clonechats.errors import Forbidden
from clonechats.web import cookies
from clonechats.web.context import context_of
from clonechats.web.templates import renderer

api = APIRouter(tags=["accounts"])
pages = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store"}


def pending_cookie(request: Request) -> str | None:
    return request.cookies.get(cookies.cookie_name(cookies.TWO_FACTOR_LOGIN,
                                                   request.app.state.settings))


def require_session(auth: Auth) -> dict[str, Any]:
    """Two-factor is changed from a signed-in browser only, never with an API key: the
    session it is changed from."""
    if auth.via != "session" or auth.session is None:
        raise Forbidden("Change two-factor authentication from a signed-in browser.",
                        code="session_required")
    return auth.session


@api.post("/api/v1/auth/login/two-factor", dependencies=[Depends(pre_session_csrf)])
async def login_code(data: TwoFactorLoginIn, request: Request, response: Response,
                     client: Client) -> dict[str, Any]:
    ctx = context_of(request)
    user, return_to = await two_factor_login.finish(
        ctx, token=data.token or pending_cookie(request), code=data.code, client=client)
    await start_session(request, response, user, client)
    cookies.clear_cookie(response, cookies.TWO_FACTOR_LOGIN, ctx.settings)
    return {**user_body(user), "redirect": return_to, "next_step": return_to}


@api.get("/api/v1/account/two-factor")
async def status(auth: CurrentAuth) -> dict[str, Any]:
    state = auth.user.get(two_factor.FIELD) or {}
    enabled_at = state.get("enabled_at")
    return {"enabled": two_factor.is_enabled(auth.user),
            "enabled_at": enabled_at.isoformat() if enabled_at else None,
            "recovery_codes_left": two_factor.recovery_codes_left(auth.user),
            "setup_pending": bool(auth.user.get(two_factor.SETUP_FIELD))}


@api.post("/api/v1/account/two-factor/setup", status_code=201)
async def setup(request: Request, auth: CurrentAuth) -> dict[str, str]:
    require_session(auth)
    started = await two_factor.begin_setup(context_of(request), auth.user)
    return {"secret": started["secret"], "uri": started["uri"], "next_step": SETUP_PAGE}


@api.post("/api/v1/account/two-factor/confirm")
async def confirm(data: TwoFactorCodeIn, request: Request, response: Response,
                  auth: CurrentAuth, client: Client) -> dict[str, Any]:
    session = require_session(auth)
    ctx = context_of(request)
    codes = await two_factor.confirm_setup(ctx, auth.user, code=data.code, client=client)
    await sessions.revoke_all(ctx.db, auth.user["_id"], keep_digest=session["_id"])
    await start_session(request, response, auth.user, client)  # rotated on a privilege change
    return {"recovery_codes": codes, "recovery_codes_text": "\n".join(codes)}


@api.post("/api/v1/account/two-factor/disable", status_code=204)
async def disable(data: TwoFactorDisableIn, request: Request, auth: CurrentAuth,
                  client: Client) -> Response:
    require_session(auth)
    await two_factor.disable(context_of(request), auth.user, password=data.password,
                             code=data.code, client=client)
    return Response(status_code=204)


SETUP_PAGE = "/account/two-factor"


render = renderer("accounts", headers=NO_STORE)


@pages.get("/login/two-factor", response_class=HTMLResponse)
async def login_code_page(request: Request) -> Response:
    await resolve_auth(request)
    record = await two_factor_login.pending(context_of(request), pending_cookie(request))
    if record is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "two_factor_login.html")


@pages.get("/account/two-factor", response_class=HTMLResponse)
async def setup_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None or auth.user["status"] == repo.TRIAL:
        return RedirectResponse(f"/login?next={SETUP_PAGE}", status_code=303)
    ctx, user = context_of(request), auth.user
    pending = user.get(two_factor.SETUP_FIELD)
    secret = qr = None
    if pending and not two_factor.is_enabled(user):
        secret = two_factor.unseal(ctx.secret, pending["secret"])
        qr = two_factor.qr_svg(two_factor.provisioning_uri(secret, user["email"]))
    return render(request, "two_factor.html", user=user, enabled=two_factor.is_enabled(user),
                  secret=secret, qr_svg=qr, admin_account=user.get("role") == "admin",
                  codes_left=two_factor.recovery_codes_left(user))
