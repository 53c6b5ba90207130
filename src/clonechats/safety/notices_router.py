"""Moderation warnings on the user's side: the app-wide dependency that finds the unread one
for the page, and dismissing it (`POST /api/v1/notices/{notice_id}/dismiss`)."""

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from clonechats.accounts.dependencies import CurrentUser, resolve_auth
from clonechats.errors import AppError
from clonechats.safety import warnings
from clonechats.web import cookies
from clonechats.web.context import context_if_open, context_of

router = APIRouter(prefix="/api/v1/notices", tags=["safety"])
NoticeId = Annotated[str, Path(max_length=64)]


async def load_notice(request: Request) -> None:
    """App-wide dependency: on pages (GET, signed in by cookie) put the unread warning, if
    any, in `request.state.safety_notice` for the base template."""
    if request.method != "GET" or request.url.path.startswith(("/api/", "/static/")):
        return
    ctx = context_if_open(request)
    if ctx is None or cookies.cookie_name(cookies.SESSION, ctx.settings) not in request.cookies:
        return
    try:
        auth = await resolve_auth(request)
    except AppError:  # the page itself reports what went wrong
        return
    if auth is not None:
        request.state.safety_notice = await warnings.unread(ctx, auth.user["_id"])


@router.post("/{notice_id}/dismiss", status_code=204)
async def dismiss(notice_id: NoticeId, request: Request, user: CurrentUser) -> Response:
    await warnings.dismiss(context_of(request), user_id=user["_id"], warning_id=notice_id)
    return Response(status_code=204)
