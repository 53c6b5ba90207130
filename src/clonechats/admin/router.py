"""The admin area over HTTP: `/api/v1/admin/...` (JSON) and `/admin/...` (pages).

Both routers depend on `admin_user`: add every admin route of the project to one of them (see
the package docstring). Routes stay thin; the work is in `admin.service`.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from clonechats.accounts.dependencies import AdminUser, admin_user
from clonechats.admin import service
from clonechats.admin.schemas import AdminUserOut, AuditEventOut, RoleIn
from clonechats.billing import admin_router as billing_admin
from clonechats.mail import service as mail
from clonechats.privacy import admin_router as privacy_admin
from clonechats.safety import router as safety_admin
from clonechats.telemetry import admin_router as telemetry_admin
from clonechats.web.client import ClientInfo, client_info

api = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(admin_user)])

Client = Annotated[ClientInfo, Depends(client_info)]
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=100)]
PAGE_SIZE = 50


@api.get("/users")
async def list_users(request: Request, limit: Limit = PAGE_SIZE,
                     cursor: Cursor = None) -> dict[str, Any]:
    users, next_cursor = await service.list_users(request.app.state.ctx, limit=limit,
                                                  cursor=cursor)
    return {"items": [AdminUserOut.of(u).model_dump(mode="json") for u in users],
            "next_cursor": next_cursor}


@api.patch("/users/{user_id}")
async def change_role(user_id: str, data: RoleIn, request: Request, admin: AdminUser,
                      client: Client) -> dict[str, Any]:
    user = await service.change_role(request.app.state.ctx, actor=admin, user_id=user_id,
                                     role=data.role, client=client)
    return {"user": AdminUserOut.of(user).model_dump(mode="json")}


@api.post("/users/{user_id}/age-concern")
async def age_concern(user_id: str, request: Request, admin: AdminUser,
                      client: Client) -> dict[str, Any]:
    deleted = await service.delete_for_age_concern(request.app.state.ctx, actor=admin,
                                                   user_id=user_id, client=client)
    return {"status": "The account and everything it held have been deleted.",
            "deleted": deleted}


@api.get("/audit")
async def list_audit(request: Request, limit: Limit = PAGE_SIZE,
                     cursor: Cursor = None) -> dict[str, Any]:
    events, next_cursor = await service.list_audit(request.app.state.ctx, limit=limit,
                                                   cursor=cursor)
    return {"items": [AuditEventOut.of(e).model_dump(mode="json") for e in events],
            "next_cursor": next_cursor}


def render(request: Request, template: str, **context: Any) -> HTMLResponse:
    return request.app.state.templates.TemplateResponse(
        request, f"admin/{template}", context, headers={"Cache-Control": "no-store"})


@pages.get("", response_class=HTMLResponse)
async def dashboard_page(request: Request) -> HTMLResponse:
    ctx = request.app.state.ctx
    return render(request, "dashboard.html", dev_mode=ctx.settings.dev_mode,
                  **await service.dashboard(ctx))


@pages.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, admin: AdminUser, cursor: Cursor = None) -> HTMLResponse:
    users, next_cursor = await service.list_users(request.app.state.ctx, limit=PAGE_SIZE,
                                                  cursor=cursor)
    return render(request, "users.html", users=[AdminUserOut.of(u) for u in users],
                  next_cursor=next_cursor, is_first_page=not cursor, me=admin["_id"],
                  roles=service.ROLES)


@pages.get("/outbox", response_class=HTMLResponse)
async def outbox_page(request: Request, cursor: Cursor = None) -> HTMLResponse:
    data = await mail.outbox_page_data(request.app.state.ctx, cursor=cursor)
    return render(request, "outbox.html", **data)


api.include_router(billing_admin.api)
pages.include_router(billing_admin.pages)
api.include_router(safety_admin.api)
pages.include_router(safety_admin.pages)
api.include_router(telemetry_admin.api)
pages.include_router(telemetry_admin.pages)
api.include_router(privacy_admin.api)
pages.include_router(privacy_admin.pages)
