"""Privacy API (`/api/v1/privacy/...`). Deleting the account (`DELETE /api/v1/account`) is in
`accounts.account_routes`, which calls `privacy.deletion`.

Every route needs a signed-in user but not an active one: guardian-pending and trial accounts
may manage their privacy and export their data. The logic lives in the
domain's services; routes only translate.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import FileResponse

from clonechats.accounts import audit
from clonechats.accounts.dependencies import CurrentUser
from clonechats.accounts.users import User
from clonechats.client_info import ClientInfo
from clonechats.context import Ctx
from clonechats.errors import AppError
from clonechats.privacy import analytics, consent, export, requests
from clonechats.privacy.schemas import (
    AnalyticsEventIn,
    DataRequestIn,
    DataRequestOut,
    SettingsUpdate,
)
from clonechats.web.client import client_info
from clonechats.web.context import context_of

router = APIRouter(tags=["privacy"])
PREFIX = "/api/v1/privacy"
Client = Annotated[ClientInfo, Depends(client_info)]
JobId = Annotated[str, Path(max_length=64)]
NOT_COUNTED_PREFIXES = ("/api/", "/static/", "/media/", "/.well-known/")


class UnknownPage(AppError):
    code = "unknown_page"
    status = 422
    message = "That is not a page of this site."


def _page_routes(app: Any) -> list[tuple[Any, str]]:
    """(path regex, template) of every GET route, included routers flattened."""
    cached = getattr(app.state, "page_routes", None)
    if cached is None:
        try:
            from fastapi.routing import iter_route_contexts

            routes: Any = iter_route_contexts(app.routes)
        except ImportError:  # FastAPI versions that copy included routes into the app
            routes = app.routes
        cached = [(route.path_regex, route.path) for route in routes
                  if "GET" in (getattr(route, "methods", None) or ())
                  and getattr(route, "path_regex", None) is not None]
        app.state.page_routes = cached
    return cached


def page_template(request: Request, path: str) -> str:
    """The route template of a page path, so counts never hold ids from URLs."""
    if not path.startswith("/") or path.startswith(NOT_COUNTED_PREFIXES):
        raise UnknownPage()
    for regex, template in _page_routes(request.app):
        if regex.match(path):
            return template
    raise UnknownPage()


async def settings_body(ctx: Ctx, user: User) -> dict[str, Any]:
    current = await consent.get_settings(ctx, user["_id"])
    return {**current, "policy_version": ctx.settings.privacy.policy_version,
            "policy_acknowledged_version": user.get("policy_acknowledged_version"),
            "consent_history": await consent.history(ctx, user["_id"])}


@router.get(PREFIX + "/settings")
async def get_settings(request: Request, user: CurrentUser) -> dict[str, Any]:
    return await settings_body(context_of(request), user)


@router.patch(PREFIX + "/settings")
async def update_settings(data: SettingsUpdate, request: Request,
                          user: CurrentUser) -> dict[str, Any]:
    ctx = context_of(request)
    await consent.update_settings(ctx, user["_id"], analytics_opt_in=data.analytics_opt_in)
    body = await settings_body(ctx, user)
    state = "on" if body["analytics_opt_in"] else "off"
    return {**body, "status": f"Saved: analytics are {state}."}


@router.post(PREFIX + "/acknowledge")
async def acknowledge(request: Request, user: CurrentUser) -> dict[str, Any]:
    updated = await consent.acknowledge_policy(context_of(request), user)
    return {"policy_acknowledged_version": updated.get("policy_acknowledged_version")}


@router.get(PREFIX + "/analytics")
async def analytics_state(request: Request, user: CurrentUser) -> dict[str, bool]:
    """Whether this user's page views and feature uses are counted; pages send none until so."""
    return {"counting": await consent.analytics_allowed(context_of(request), user["_id"])}


@router.post(PREFIX + "/analytics/event")
async def analytics_event(data: AnalyticsEventIn, request: Request,
                          user: CurrentUser) -> dict[str, bool]:
    name = page_template(request, data.name) if data.kind == analytics.PAGE else data.name
    if data.kind == analytics.FEATURE and name not in analytics.FEATURES:
        raise AppError("Unknown feature.", code="unknown_feature", status=422)
    counted = await analytics.record(context_of(request), user_id=user["_id"],
                                     kind=data.kind, name=name)
    return {"counted": counted}


@router.post(PREFIX + "/export", status_code=202)
async def request_export(request: Request, user: CurrentUser) -> dict[str, str]:
    ctx = context_of(request)
    job = await export.request_export(ctx, user_id=user["_id"])
    await audit.record(ctx.db, "export_requested", now=ctx.clock.now(), user_id=user["_id"],
                       client=client_info(request), export_id=job["_id"])
    return {"job_id": job["_id"]}


@router.get(PREFIX + "/export/{job_id}")
async def export_status(job_id: JobId, request: Request, user: CurrentUser) -> dict[str, Any]:
    ctx = context_of(request)
    found = await export.get_owned(ctx, user_id=user["_id"], export_id=job_id)
    return export.describe(ctx, found)


@router.get(PREFIX + "/export/{job_id}/download")
async def download_export(job_id: JobId, request: Request, user: CurrentUser) -> Response:
    path, filename = await export.open_download(context_of(request), user_id=user["_id"],
                                                export_id=job_id)
    return FileResponse(path, media_type="application/zip", filename=filename,
                        headers={"Cache-Control": "no-store",
                                 "X-Content-Type-Options": "nosniff"})


@router.post(PREFIX + "/requests", status_code=201)
async def file_request(data: DataRequestIn, request: Request,
                       user: CurrentUser) -> dict[str, Any]:
    ctx = context_of(request)
    filed = await requests.file_request(ctx, user=user, kind=data.kind, message=data.message)
    return {"request": DataRequestOut.of(filed, now=ctx.clock.now()).model_dump(mode="json"),
            "status": "Thank you. We will answer within 30 days."}


@router.get(PREFIX + "/requests")
async def list_requests(request: Request, user: CurrentUser) -> dict[str, Any]:
    ctx = context_of(request)
    now = ctx.clock.now()
    items = await requests.list_mine(ctx, user_id=user["_id"])
    return {"items": [DataRequestOut.of(r, now=now).model_dump(mode="json") for r in items],
            "next_cursor": None}

