"""Sign in with Google over HTTP: the redirects, the two pages that finish a first sign-in,
and the JSON API those pages post to. Logic lives in `accounts/google.py`.

The `oauth_flow` cookie names the server-side flow record. POSTs that act on it must carry
the page's CSRF token even without a session, since the flow cookie is a credential too.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts import age, google, repo, two_factor
from clonechats.accounts.dependencies import OptionalUser, pre_session_csrf
from clonechats.accounts.schemas import TokenIn, UserOut
from clonechats.accounts.session_cookies import TWO_FACTOR_PAGE, start_session, start_two_factor
from clonechats.client_info import ClientInfo
from clonechats.web import cookies
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.templates import NO_STORE, renderer

router = APIRouter(tags=["accounts"])
Client = Annotated[ClientInfo, Depends(client_info)]
CODE_MAX_LENGTH = 2048


class GoogleCompleteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    birth_date: date
    guardian_email: str | None = Field(None, max_length=320)
    display_name: str | None = Field(None, max_length=80)


class GoogleLinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(max_length=4096)


def flow_cookie(request: Request) -> str | None:
    settings = request.app.state.settings
    value = request.cookies.get(cookies.cookie_name(cookies.OAUTH_FLOW, settings))
    return value if value and len(value) <= 128 else None


def set_flow_cookie(response: Response, request: Request, value: str) -> None:
    cookies.set_cookie(response, cookies.OAUTH_FLOW, value, request.app.state.settings,
                       max_age=google.FLOW_MINUTES * 60)


def clear_flow_cookie(response: Response, request: Request) -> None:
    cookies.clear_cookie(response, cookies.OAUTH_FLOW, request.app.state.settings)


FlowCsrf = [Depends(pre_session_csrf)]


async def signed_in(request: Request, response: Response, result: google.GoogleSignInOutcome,
                    client: ClientInfo) -> dict[str, Any]:
    if result.user is None:
        raise google.FlowInvalid()
    clear_flow_cookie(response, request)
    if two_factor.is_enabled(result.user):
        body = await start_two_factor(request, response, result.user, client,
                                      return_to=result.return_to, provider="google")
        return {**body, "redirect": TWO_FACTOR_PAGE}
    await start_session(request, response, result.user, client)
    return {"user": UserOut.of(result.user).model_dump(mode="json"),
            "redirect": result.return_to}


render = renderer("accounts", headers=NO_STORE)


@router.get("/auth/google/login", include_in_schema=False)
async def google_login(request: Request, next: str | None = None) -> Response:
    value, url = await google.begin(context_of(request), return_to=next)
    response = RedirectResponse(url, status_code=302)
    set_flow_cookie(response, request, value)
    return response


@router.get("/auth/google/callback", include_in_schema=False)
async def google_callback(request: Request, client: Client) -> Response:
    params = {name: request.query_params.get(name, "")[:CODE_MAX_LENGTH]
              for name in ("state", "code", "error")}
    outcome = await google.finish_callback(context_of(request),
                                           cookie_value=flow_cookie(request),
                                           params=params, client=client)
    if outcome.kind == google.SIGNED_IN and outcome.user is not None:
        if two_factor.is_enabled(outcome.user):
            response = RedirectResponse(TWO_FACTOR_PAGE, status_code=303)
            await start_two_factor(request, response, outcome.user, client,
                                   return_to=outcome.return_to, provider="google")
        else:
            response = RedirectResponse(outcome.return_to, status_code=303)
            await start_session(request, response, outcome.user, client)
        clear_flow_cookie(response, request)
        return response
    target = "/signup/google" if outcome.kind == google.SIGNUP else "/auth/google/link"
    response = RedirectResponse(target, status_code=303)
    set_flow_cookie(response, request, outcome.flow_cookie or "")
    return response


@router.get("/signup/google", response_class=HTMLResponse, include_in_schema=False)
async def complete_page(request: Request) -> HTMLResponse:
    ctx = context_of(request)
    flow = await google.pending(ctx, flow_cookie(request), google.SIGNUP)
    return render(request, "google_complete.html", email=flow["identity"]["email"],
                  name=flow["identity"].get("name") or "",
                  today=ctx.clock.now().date().isoformat(), minimum_age=age.MINIMUM_AGE,
                  adult_age=age.ADULT_AGE)


@router.get("/auth/google/link", response_class=HTMLResponse, include_in_schema=False)
async def link_page(request: Request, token: str | None = None) -> HTMLResponse:
    ctx, cookie_value = context_of(request), flow_cookie(request)
    if token is None:
        flow = await google.pending(ctx, cookie_value, google.LINK)
    else:
        try:
            flow = await google.check_link_token(ctx, cookie_value=cookie_value,
                                                 token=token[:200])
        except google.FlowInvalid:
            raise google.FlowInvalid(
                "Open this link in the browser where you started the Google sign-in, within "
                f"{google.FLOW_MINUTES} minutes of the email. Otherwise, please start again."
            ) from None
    return render(request, "google_link.html", email=flow["identity"]["email"],
                  token=token, email_sent=flow.get("link_emails", 0) > 0)


@router.post("/api/v1/auth/google/complete", status_code=201, dependencies=FlowCsrf)
async def complete(data: GoogleCompleteIn, request: Request, response: Response,
                   client: Client, current: OptionalUser) -> dict[str, Any]:
    trial = current if current and current["status"] == repo.TRIAL else None
    result = await google.complete_signup(
        context_of(request), cookie_value=flow_cookie(request), birth_date=data.birth_date,
        guardian_email=data.guardian_email, display_name=data.display_name, client=client,
        trial_user=trial)
    return await signed_in(request, response, result, client)


@router.post("/api/v1/auth/google/link", dependencies=FlowCsrf)
async def link_with_password(data: GoogleLinkIn, request: Request, response: Response,
                             client: Client) -> dict[str, Any]:
    result = await google.link_with_password(context_of(request),
                                             cookie_value=flow_cookie(request),
                                             password=data.password, client=client)
    return await signed_in(request, response, result, client)


@router.post("/api/v1/auth/google/link/email", status_code=202, dependencies=FlowCsrf)
async def link_by_email(request: Request, response: Response, client: Client) -> dict[str, str]:
    cookie_value = flow_cookie(request)
    await google.send_link_email(context_of(request), cookie_value=cookie_value,
                                 client=client)
    set_flow_cookie(response, request, cookie_value or "")
    return {"status": "We have emailed a link to the address of your account. Open it in "
                      "this browser to finish."}


@router.post("/api/v1/auth/google/link/confirm", dependencies=FlowCsrf)
async def link_confirm(data: TokenIn, request: Request, response: Response,
                       client: Client) -> dict[str, Any]:
    result = await google.link_with_email_token(context_of(request),
                                                cookie_value=flow_cookie(request),
                                                token=data.token, client=client)
    return await signed_in(request, response, result, client)
