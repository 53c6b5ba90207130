"""Account settings API (`/api/v1/account`): profile, appearance, password, email, sessions,
API keys, and deleting the account (`DELETE /api/v1/account`: needs a signed-in user, not an
active one; the deletion itself is `privacy.deletion`)."""

from typing import Any

from fastapi import APIRouter, Request, Response

from clonechats.accounts import api_keys, appearance, audit, profile, sessions, two_factor, verified
from clonechats.accounts.dependencies import CurrentAuth, CurrentUser
from clonechats.accounts.routes import Client, user_body
from clonechats.accounts.schemas import (
    AccountDeleteIn,
    ApiKeyIn,
    ApiKeyOut,
    AppearanceUpdate,
    EmailChangeIn,
    PasswordChangeIn,
    ProfileUpdate,
    SessionOut,
)
from clonechats.accounts.session_cookies import end_session, start_session
from clonechats.errors import Forbidden, NotFound
from clonechats.privacy import deletion
from clonechats.web.context import context_of

router = APIRouter(prefix="/api/v1/account", tags=["account"])


@router.patch("/profile")
async def update_profile(data: ProfileUpdate, request: Request,
                         user: CurrentUser) -> dict[str, Any]:
    updated = await profile.update_profile(context_of(request), user,
                                           display_name=data.display_name,
                                           show_name_on_personas=data.show_name_on_personas)
    return user_body(updated)


@router.patch("/appearance")
async def update_appearance(data: AppearanceUpdate, request: Request,
                            user: CurrentUser) -> dict[str, Any]:
    updated = await appearance.update(context_of(request), user, theme=data.theme,
                                      text_size=data.text_size)
    return {"appearance": appearance.of(updated)}


@router.post("/password", status_code=204)
async def change_password(data: PasswordChangeIn, request: Request, auth: CurrentAuth,
                          client: Client) -> Response:
    await profile.change_password(context_of(request), auth.user, current=data.current_password,
                                  new=data.new_password, client=client)
    response = Response(status_code=204)
    if auth.via == "session":
        await start_session(request, response, auth.user, client)
    return response


@router.post("/email", status_code=202)
async def change_email(data: EmailChangeIn, request: Request,
                       user: CurrentUser) -> dict[str, str]:
    await profile.request_email_change(context_of(request), user, new_email=data.new_email,
                                       password=data.password)
    return {"status": "Check the new address for a confirmation link."}


@router.post("/email/verification", status_code=202)
async def resend_verification(request: Request, user: CurrentUser) -> dict[str, str]:
    """Mail a new confirmation link to the current address (buying and sharing need one)."""
    await verified.resend_verification(context_of(request), user)
    return {"status": "A new confirmation link is on its way. It works for a day."}


@router.get("/sessions")
async def list_sessions(request: Request, auth: CurrentAuth) -> dict[str, Any]:
    records = await sessions.list_for_user(context_of(request).db, auth.user["_id"])
    current_id = auth.session["public_id"] if auth.session else None
    items = [SessionOut(id=s["public_id"], created_at=s["created_at"],
                        last_seen_at=s["last_seen_at"], user_agent=s["user_agent"],
                        current=s["public_id"] == current_id).model_dump(mode="json")
             for s in records]
    return {"items": items, "next_cursor": None}


@router.delete("/sessions/{session_id}", status_code=204)
async def revoke_session(session_id: str, request: Request, user: CurrentUser,
                         client: Client) -> Response:
    ctx = context_of(request)
    if not await sessions.revoke_public(ctx.db, user_id=user["_id"], public_id=session_id):
        raise NotFound("No such session.")
    await audit.record(ctx.db, "session_revoked", now=ctx.clock.now(), user_id=user["_id"],
                       client=client)
    return Response(status_code=204)


@router.post("/sessions/revoke-others")
async def revoke_other_sessions(request: Request, auth: CurrentAuth,
                                client: Client) -> dict[str, int]:
    ctx = context_of(request)
    keep = auth.session["_id"] if auth.session else None
    count = await sessions.revoke_all(ctx.db, auth.user["_id"], keep_digest=keep)
    await audit.record(ctx.db, "session_revoked", now=ctx.clock.now(), user_id=auth.user["_id"],
                       client=client, count=count)
    return {"revoked": count}


@router.get("/api-keys")
async def list_api_keys(request: Request, user: CurrentUser) -> dict[str, Any]:
    records = await api_keys.list_for_user(context_of(request).db, user["_id"])
    items = [ApiKeyOut(id=k["_id"], name=k["name"], hint=k["hint"], created_at=k["created_at"],
                       last_used_at=k["last_used_at"]).model_dump(mode="json") for k in records]
    return {"items": items, "next_cursor": None}


@router.post("/api-keys", status_code=201)
async def create_api_key(data: ApiKeyIn, request: Request, auth: CurrentAuth,
                         client: Client) -> dict[str, Any]:
    ctx, user = context_of(request), auth.user
    if two_factor.is_enabled(user) and auth.via != "session":  # keys come from a session
        raise Forbidden("Create API keys from a signed-in browser.", code="session_required")
    key, record = await api_keys.create(ctx.db, user_id=user["_id"], name=data.name.strip(),
                                        now=ctx.clock.now())
    await audit.record(ctx.db, "api_key_created", now=ctx.clock.now(), user_id=user["_id"],
                       client=client)
    return {"id": record["_id"], "name": record["name"], "hint": record["hint"], "key": key,
            "created_at": record["created_at"].isoformat()}


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_api_key(key_id: str, request: Request, user: CurrentUser,
                         client: Client) -> Response:
    ctx = context_of(request)
    await api_keys.revoke(ctx.db, user_id=user["_id"], key_id=key_id, now=ctx.clock.now())
    await audit.record(ctx.db, "api_key_revoked", now=ctx.clock.now(), user_id=user["_id"],
                       client=client)
    return Response(status_code=204)


@router.delete("", status_code=202)
async def delete_account(request: Request, response: Response, auth: CurrentAuth,
                         client: Client, data: AccountDeleteIn | None = None) -> dict[str, str]:
    await deletion.request_deletion(context_of(request), auth.user, session=auth.session,
                                    password=data.password if data else None, client=client)
    await end_session(request, response)
    return {"status": "Your account is being deleted. You have been signed out everywhere, "
                      "and we will email you a receipt when it is done."}
