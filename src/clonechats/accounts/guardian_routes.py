"""Guardian consent over HTTP: the guardian's page and decision, the young person's waiting page.

- `GET /guardian/consent?token=` shows who asks and the choice; it never uses the token.
- `POST /guardian/consent` (the page's form, works without JavaScript) and
  `POST /api/v1/guardian/consent` (JSON) apply the decision, once per link.
- `GET /guardian/withdraw?token=` and `POST /guardian/withdraw` (form) or
  `POST /api/v1/guardian/withdraw` (JSON): the guardian withdraws consent later, from the link
  in the approval email; the account is deleted.
- `GET /guardian/pending` explains the waiting state to the young person, with
  `POST /api/v1/account/guardian/resend` behind its button.

The consent form posts natively rather than through `forms.js`: its plan tiers are a set of
checkboxes, which the form helper would send as booleans rather than a list.
"""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts import guardian, repo, tokens
from clonechats.accounts.dependencies import CurrentUser, resolve_auth
from clonechats.accounts.guardian_devices import requester_of
from clonechats.billing.plans import PLAN_TIERS
from clonechats.client_info import ClientInfo
from clonechats.errors import AppError
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.templates import renderer

api = APIRouter(tags=["guardian"])
pages = APIRouter(include_in_schema=False)

OUTCOMES = {"approved", "declined", "withdrawn"}
TOKEN_PAGE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}
Client = Annotated[ClientInfo, Depends(client_info)]


class GuardianDecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=200)
    decision: str = Field(max_length=20)
    authorized_tiers: list[str] = Field(default_factory=list, max_length=len(PLAN_TIERS))


@api.post("/api/v1/guardian/consent")
async def decide(data: GuardianDecisionIn, request: Request, client: Client) -> dict[str, Any]:
    user = await guardian.decide(context_of(request), token=data.token,
                                 decision=data.decision, authorized_tiers=data.authorized_tiers,
                                 client=client, requester=await requester_of(request))
    if user is None:
        return {"status": "declined"}
    return {"status": "approved", "authorized_tiers": user["guardian"]["authorized_tiers"]}


@api.post("/api/v1/account/guardian/resend", status_code=202)
async def resend(request: Request, user: CurrentUser) -> dict[str, str]:
    await guardian.resend_request(context_of(request), user)
    return {"status": "A new email is on its way to your parent or guardian."}


render = renderer("accounts", headers=TOKEN_PAGE_HEADERS)


async def consent_form(request: Request, token: str, *, error: AppError | None = None,
                       chosen: list[str] | None = None) -> HTMLResponse:
    try:
        asking = await guardian.consent_request(context_of(request), token)
    except tokens.InvalidToken as invalid:
        return render(request, "guardian_consent.html", status_code=invalid.status, asking=None)
    return render(request, "guardian_consent.html", status_code=error.status if error else 200,
                  asking=asking, token=token, tiers=PLAN_TIERS,
                  chosen=chosen if chosen is not None else [PLAN_TIERS[0]],
                  error=error.message if error else None)


@pages.get("/guardian/consent", response_class=HTMLResponse)
async def consent_page(request: Request, token: str = "") -> HTMLResponse:
    await resolve_auth(request)
    return await consent_form(request, token)


@pages.post("/guardian/consent", response_class=HTMLResponse)
async def consent_form_post(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token") or "")
    decision = str(form.get("decision") or "")
    chosen = [str(tier) for tier in form.getlist("authorized_tiers")][:len(PLAN_TIERS)]
    if decision == guardian.DECLINE and form.get("confirm_delete") != "yes":
        return await consent_form(request, token, chosen=chosen, error=AppError(
            "Tick the box to confirm that the account should be deleted.",
            code="confirmation_required", status=422))
    try:
        user = await guardian.decide(context_of(request), token=token, decision=decision,
                                     authorized_tiers=chosen, client=client_info(request),
                                     requester=await requester_of(request))
    except tokens.InvalidToken as invalid:
        return render(request, "guardian_consent.html", status_code=invalid.status, asking=None)
    except AppError as error:
        return await consent_form(request, token, chosen=chosen, error=error)
    outcome = "declined" if user is None else "approved"
    return RedirectResponse(f"/guardian/consent/done?outcome={outcome}", status_code=303)


@pages.get("/guardian/consent/done", response_class=HTMLResponse)
async def consent_done_page(request: Request, outcome: str = "") -> HTMLResponse:
    await resolve_auth(request)
    return render(request, "guardian_done.html",
                  outcome=outcome if outcome in OUTCOMES else None)


@pages.get("/guardian/pending", response_class=HTMLResponse)
async def pending_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return RedirectResponse(f"/login?next={quote('/guardian/pending', safe='')}",
                                status_code=303)
    user = auth.user
    return request.app.state.templates.TemplateResponse(
        request, "accounts/guardian_pending.html",
        {"pending": user["status"] == repo.GUARDIAN_PENDING,
         "guardian_email": (user.get("guardian") or {}).get("email"),
         "resends_per_day": guardian.RESENDS_PER_DAY},
    )


class GuardianWithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(max_length=200)


@api.post("/api/v1/guardian/withdraw")
async def withdraw(data: GuardianWithdrawIn, request: Request, client: Client) -> dict[str, str]:
    await guardian.withdraw(context_of(request), token=data.token, client=client)
    return {"status": "withdrawn"}


@pages.get("/guardian/withdraw", response_class=HTMLResponse)
async def withdraw_page(request: Request, token: str = "") -> HTMLResponse:
    await resolve_auth(request)
    try:
        asking = await guardian.withdrawal_request(context_of(request), token)
    except tokens.InvalidToken as invalid:
        return render(request, "guardian_withdraw.html", status_code=invalid.status, asking=None)
    return render(request, "guardian_withdraw.html", asking=asking, token=token)


@pages.post("/guardian/withdraw", response_class=HTMLResponse)
async def withdraw_form_post(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token") or "")[:200]
    ctx = context_of(request)
    if form.get("confirm_delete") != "yes":
        try:
            asking = await guardian.withdrawal_request(ctx, token)
        except tokens.InvalidToken as invalid:
            return render(request, "guardian_withdraw.html", status_code=invalid.status,
                          asking=None)
        return render(request, "guardian_withdraw.html", status_code=422, asking=asking,
                      token=token, error="Tick the box to confirm that the account should be "
                      "deleted.")
    try:
        await guardian.withdraw(ctx, token=token, client=client_info(request))
    except tokens.InvalidToken as invalid:
        return render(request, "guardian_withdraw.html", status_code=invalid.status, asking=None)
    return RedirectResponse("/guardian/consent/done?outcome=withdrawn", status_code=303)
