"""The admin area over HTTP: `/api/v1/admin/...` (JSON) and `/admin/...` (pages).

Both routers depend on `admin_user`: every admin route of the project is on one of them (see
the package docstring). Each domain's admin section is listed in `domains.DOMAINS`
(`admin_routes`) and mounted here. Routes stay thin; the work is in `admin.service`.
"""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from clonechats import domains
from clonechats.accounts.dependencies import AdminUser, CurrentAuth, admin_user
from clonechats.admin import service
from clonechats.admin import users as admin_users
from clonechats.admin.schemas import (
    AdminUserOut,
    AuditEventOut,
    CreditsIn,
    NoteIn,
    RoleIn,
    SuspendIn,
)
from clonechats.client_info import ClientInfo
from clonechats.mail import service as mail
from clonechats.telemetry import dashboard_routes
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.query import Cursor100 as Cursor
from clonechats.web.query import Limit200 as Limit
from clonechats.web.templates import NO_STORE, renderer

api = APIRouter(prefix="/api/v1/admin", tags=["admin"], dependencies=[Depends(admin_user)])
pages = APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(admin_user)])

Client = Annotated[ClientInfo, Depends(client_info)]
Search = Annotated[str | None, Query(max_length=100)]
Days = Annotated[int, Query(ge=1, le=366)]
PAGE_SIZE = 50


@api.get("/users")
async def list_users(request: Request, limit: Limit = PAGE_SIZE, cursor: Cursor = None,
                     q: Search = None) -> dict[str, Any]:
    if q:
        found = await admin_users.search(context_of(request), q)
        return {"items": [AdminUserOut.of(u).model_dump(mode="json") for u in found],
                "next_cursor": None}
    users, next_cursor = await service.list_users(context_of(request), limit=limit,
                                                  cursor=cursor)
    return {"items": [AdminUserOut.of(u).model_dump(mode="json") for u in users],
            "next_cursor": next_cursor}


@api.patch("/users/{user_id}")
async def change_role(user_id: str, data: RoleIn, request: Request, auth: CurrentAuth,
                      admin: AdminUser, client: Client) -> dict[str, Any]:
    await admin_users.require_reauth(context_of(request), admin, data.password, auth.session)
    user = await service.change_role(context_of(request), actor=admin, user_id=user_id,
                                     role=data.role, client=client)
    return {"user": AdminUserOut.of(user).model_dump(mode="json")}


@api.post("/users/{user_id}/age-concern")
async def age_concern(user_id: str, request: Request, admin: AdminUser,
                      client: Client) -> dict[str, Any]:
    deleted = await service.delete_for_age_concern(context_of(request), actor=admin,
                                                   user_id=user_id, client=client)
    return {"status": "The account and everything it held have been deleted.",
            "deleted": deleted}


@api.get("/audit")
async def list_audit(request: Request, limit: Limit = PAGE_SIZE,
                     cursor: Cursor = None) -> dict[str, Any]:
    events, next_cursor = await service.list_audit(context_of(request), limit=limit,
                                                   cursor=cursor)
    return {"items": [AuditEventOut.of(e).model_dump(mode="json") for e in events],
            "next_cursor": next_cursor}


render = renderer("admin", headers=NO_STORE)


@api.get("/users/{user_id}")
async def user_view(user_id: str, request: Request) -> dict[str, Any]:
    return await admin_users.view(context_of(request), user_id)


@api.post("/users/{user_id}/suspend")
async def suspend_user(user_id: str, data: SuspendIn, request: Request, admin: AdminUser,
                       client: Client) -> dict[str, Any]:
    user = await admin_users.suspend(context_of(request), user_id=user_id, admin=admin,
                                     note=data.note.strip(), reason=data.reason, client=client)
    return {"user": AdminUserOut.of(user).model_dump(mode="json"),
            "status": "Suspended: the account's sessions ended and sign-in is refused."}


@api.post("/users/{user_id}/restore")
async def restore_user(user_id: str, data: NoteIn, request: Request, admin: AdminUser,
                       client: Client) -> dict[str, Any]:
    user = await admin_users.restore(context_of(request), user_id=user_id, admin=admin,
                                     note=data.note.strip(), client=client)
    return {"user": AdminUserOut.of(user).model_dump(mode="json"),
            "status": "Restored: the account can sign in again."}


@api.post("/users/{user_id}/sessions/revoke")
async def sign_out_everywhere(user_id: str, request: Request, admin: AdminUser,
                              client: Client) -> dict[str, Any]:
    ended = await admin_users.sign_out_everywhere(context_of(request), user_id=user_id,
                                                  admin=admin, client=client)
    return {"revoked": ended, "status": f"Signed out of {ended} session(s)."}


@api.post("/users/{user_id}/credits", status_code=201)
async def adjust_credits(user_id: str, data: CreditsIn, request: Request, admin: AdminUser,
                         client: Client) -> dict[str, Any]:
    entry = await admin_users.adjust_credits(context_of(request), user_id=user_id,
                                             delta=data.delta, reason=data.reason,
                                             admin=admin, client=client)
    return {"entry": {"id": entry["_id"], "delta": entry["delta"], "kind": entry["kind"],
                      "reason": entry["reason"], "balance_after": entry.get("balance_after")},
            "status": f"Ledger entry of {entry['delta']:+d} credits written."}


@pages.get("", response_class=HTMLResponse)
async def dashboard_page(request: Request, days: Days = 30, start: date | None = None,
                         end: date | None = None) -> HTMLResponse:
    ctx = context_of(request)
    return render(request, "dashboard.html", dev_mode=ctx.settings.dev_mode,
                  **await service.dashboard(ctx),
                  **await dashboard_routes.overview_context(request, days, start, end))


@pages.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, admin: AdminUser, cursor: Cursor = None,
                     q: Search = None) -> HTMLResponse:
    ctx = context_of(request)
    if q:
        users, next_cursor = await admin_users.search(ctx, q), None
    else:
        users, next_cursor = await service.list_users(ctx, limit=PAGE_SIZE, cursor=cursor)
    return render(request, "users.html", users=[AdminUserOut.of(u) for u in users],
                  next_cursor=next_cursor, is_first_page=not cursor, me=admin["_id"],
                  roles=service.ROLES, q=q or "")


@pages.get("/users/{user_id}", response_class=HTMLResponse)
async def user_page(user_id: str, request: Request, admin: AdminUser) -> HTMLResponse:
    ctx = context_of(request)
    return render(request, "user.html", view=await admin_users.view(ctx, user_id),
                  me=admin["_id"], roles=service.ROLES, dev_mode=ctx.settings.dev_mode)


@pages.get("/outbox", response_class=HTMLResponse)
async def outbox_page(request: Request, cursor: Cursor = None) -> HTMLResponse:
    data = await mail.outbox_page_data(context_of(request), cursor=cursor)
    return render(request, "outbox.html", **data)


for section in domains.admin_routers("api"):
    api.include_router(section)
for section in domains.admin_routers("pages"):
    pages.include_router(section)
