"""Accounts API: sign-up, sign-in, sign-out, trial, verification and reset (`/api/v1/auth`)."""

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from clonechats.accounts import audit, recovery, service, two_factor
from clonechats.accounts.dependencies import CurrentUser, OptionalUser
from clonechats.accounts.google import safe_return_path
from clonechats.accounts.repo import User
from clonechats.accounts.schemas import (
    EmailIn,
    LoginIn,
    ResetConfirmIn,
    SignupIn,
    TokenIn,
    UserOut,
)
from clonechats.accounts.session_cookies import end_session, start_session, start_two_factor
from clonechats.client_info import ClientInfo
from clonechats.web import cookies
from clonechats.web.client import client_info
from clonechats.web.context import context_of

router = APIRouter(prefix="/api/v1/auth", tags=["accounts"])
AFTER_SIGN_IN = "/account"
Client = Annotated[ClientInfo, Depends(client_info)]


def user_body(user: User) -> dict[str, Any]:
    return {"user": UserOut.of(user).model_dump(mode="json")}


@router.post("/signup", status_code=201)
async def signup(data: SignupIn, request: Request, response: Response, client: Client,
                 current: OptionalUser) -> dict[str, Any]:
    ctx = context_of(request)
    trial = current if current and current["status"] == "trial" else None
    user = await service.signup(ctx, data, client=client, trial_user=trial)
    await start_session(request, response, user, client)
    return user_body(user)


@router.post("/login")
async def login(data: LoginIn, request: Request, response: Response,
                client: Client) -> dict[str, Any]:
    user = await service.login(context_of(request), email=data.email, password=data.password,
                               client=client)
    if two_factor.is_enabled(user):  # 200 without a session: the code comes next
        return await start_two_factor(request, response, user, client,
                                      return_to=safe_return_path(data.next or AFTER_SIGN_IN))
    await start_session(request, response, user, client)
    return user_body(user)


@router.post("/logout", status_code=204)
async def logout(request: Request, client: Client) -> Response:
    response = Response(status_code=204)
    user_id = await end_session(request, response)
    if user_id:
        ctx = context_of(request)
        await audit.record(ctx.db, "logout", now=ctx.clock.now(), user_id=user_id, client=client)
    return response


@router.get("/me")
async def me(user: CurrentUser) -> dict[str, Any]:
    return user_body(user)


@router.post("/trial", status_code=201)
async def trial(request: Request, response: Response, client: Client,
                current: OptionalUser) -> dict[str, Any]:
    if current is not None:
        return user_body(current)
    ctx = context_of(request)
    name = cookies.cookie_name(cookies.DEVICE, ctx.settings)
    device_id = request.cookies.get(name)
    if not device_id or len(device_id) > 64:
        device_id = secrets.token_urlsafe(24)
    user = await service.start_trial(ctx, device_id=device_id, client=client)
    cookies.set_cookie(response, cookies.DEVICE, device_id, ctx.settings, max_age=365 * 86400)
    await start_session(request, response, user, client)
    return {**user_body(user), "status": trial_started(user.get("credits", 0))}


def trial_started(credits: int) -> str:
    if credits == 0:
        return "Your free trial has started."
    unit = "credit" if credits == 1 else "credits"
    return f"Your free trial has started with {credits:,} {unit} to spend on chats."


@router.post("/verify-email")
async def verify_email(data: TokenIn, request: Request, client: Client) -> dict[str, Any]:
    return user_body(await recovery.verify_email(context_of(request), data.token,
                                                 client=client))


@router.post("/password-reset", status_code=202)
async def password_reset(data: EmailIn, request: Request, client: Client) -> dict[str, str]:
    await recovery.request_reset(context_of(request), data.email, client=client)
    return {"status": "If an account uses this email, a reset link is on its way."}


@router.post("/password-reset/confirm", status_code=204)
async def password_reset_confirm(data: ResetConfirmIn, request: Request,
                                 client: Client) -> Response:
    await recovery.confirm_reset(context_of(request), data.token, data.password, client=client)
    return Response(status_code=204)
