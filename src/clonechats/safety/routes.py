"""Safety on the user's side: the app-wide dependency that finds the unread moderation warning
for the page, dismissing it (`POST /api/v1/notices/{notice_id}/dismiss`), and the anonymous
report of a shared persona (`POST /api/v1/public/personas/{share_id}/report`, throttled per
hashed address)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from clonechats.accounts.dependencies import CurrentUser, resolve_auth
from clonechats.errors import AppError
from clonechats.safety import review, warnings
from clonechats.web import cookies
from clonechats.web.client import ClientInfo, client_info
from clonechats.web.context import context_if_open, context_of

router = APIRouter(tags=["safety"])
Client = Annotated[ClientInfo, Depends(client_info)]
NoticeId = Annotated[str, Path(max_length=64)]
ShareId = Annotated[str, Path(max_length=64)]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=review.REASON_MAX)


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


@router.post("/api/v1/public/personas/{share_id}/report", status_code=202)
async def report_persona(share_id: ShareId, data: ReportIn, request: Request,
                         client: Client) -> dict[str, str]:
    await review.report_persona(context_of(request), share_id=share_id, reason=data.reason,
                                client=client)
    return {"status": "Thank you. A moderator will look at this persona."}


@router.post("/api/v1/notices/{notice_id}/dismiss", status_code=204)
async def dismiss(notice_id: NoticeId, request: Request, user: CurrentUser) -> Response:
    await warnings.dismiss(context_of(request), user_id=user["_id"], warning_id=notice_id)
    return Response(status_code=204)
