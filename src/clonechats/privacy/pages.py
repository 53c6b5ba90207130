"""Privacy pages: the policy documents, security.txt and Privacy Settings (`/settings/privacy`).

`start(app, ctx)` runs in the app's lifespan: it records the policy version (see `startup`),
queues the retention job (when this process runs jobs) and gives templates
`policy_notice(request)`, which `base.html` uses to show the material-change notice to a
signed-in user who has not acknowledged it yet.
"""

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from clonechats.accounts import users
from clonechats.accounts.dependencies import resolve_auth
from clonechats.context import Ctx
from clonechats.privacy import consent, documents, export, policies, requests, startup
from clonechats.privacy import repo as privacy_repo
from clonechats.safety.minors import is_minor_user
from clonechats.web import cookies
from clonechats.web.context import context_of

router = APIRouter(include_in_schema=False)
NO_NOTICE_PREFIXES = ("/api/", "/static/", "/media/", "/.well-known/")


async def start(app: FastAPI, ctx: Ctx) -> None:
    app.state.policy = await startup.prepare(ctx, runs_jobs=ctx.settings.runs_jobs_in_server)
    app.state.templates.env.globals["policy_notice"] = policy_notice


async def load_viewer(request: Request) -> None:
    """App-wide dependency: while a material policy change is announced, pages find out who
    is signed in (one cached lookup), so the notice shows on every page, not only on those
    that load the user themselves."""
    state = getattr(request.app.state, "policy", None)
    if state is None or not state.material or request.method != "GET":
        return
    if request.url.path.startswith(NO_NOTICE_PREFIXES) or "authorization" in request.headers:
        return
    if cookies.cookie_name(cookies.SESSION, request.app.state.settings) in request.cookies:
        await resolve_auth(request)


def policy_notice(request: Request) -> dict[str, str] | None:
    """The notice to show on this page, if the signed-in user must see one."""
    auth = getattr(request.state, "auth", None)
    state = getattr(request.app.state, "policy", None)
    if auth is None or state is None or not startup.needs_notice(state, auth.user):
        return None
    return {"version": state.version, "date": state.policy_date}


def when(moment: datetime | None) -> dict[str, str] | None:
    if moment is None:
        return None
    return {"iso": moment.isoformat(), "text": f"{moment.day} {moment:%b %Y, %H:%M} UTC"}


def render_document(request: Request, name: str) -> HTMLResponse:
    settings = request.app.state.settings
    document = documents.DOCUMENTS[name](settings)
    state = getattr(request.app.state, "policy", None)
    return request.app.state.templates.TemplateResponse(request, "privacy/policy.html", {
        "document": document, "policy_version": settings.privacy.policy_version,
        "policy_date": settings.privacy.policy_date,
        "material_change": bool(state and state.material),
    })


@router.get("/privacy", response_class=HTMLResponse)
async def privacy_page(request: Request) -> HTMLResponse:
    await resolve_auth(request)  # the page shows the notice to a signed-in user
    return render_document(request, "privacy")


@router.get("/cookies", response_class=HTMLResponse)
async def cookies_page(request: Request) -> HTMLResponse:
    return render_document(request, "cookies")


@router.get("/security", response_class=HTMLResponse)
async def security_page(request: Request) -> HTMLResponse:
    return render_document(request, "security")


@router.get("/terms", response_class=HTMLResponse)
async def terms_page(request: Request) -> HTMLResponse:
    return render_document(request, "terms")


@router.get("/.well-known/security.txt")
async def security_txt(request: Request) -> PlainTextResponse:
    ctx = context_of(request)
    return PlainTextResponse(policies.security_txt(ctx.settings, ctx.clock.now()))


@router.get("/settings/privacy", response_class=HTMLResponse)
async def privacy_settings_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return RedirectResponse(f"/login?next={quote(request.url.path, safe='')}",
                                status_code=303)
    ctx = context_of(request)
    user, now = auth.user, ctx.clock.now()
    current = await consent.get_settings(ctx, user["_id"])
    history = [{**entry, "at": when(entry["at"])}
               for entry in reversed(await consent.history(ctx, user["_id"]))]
    exports = [{**export.describe(ctx, e), "created": when(e["created_at"]),
                "expires": when(e["expires_at"])}
               for e in await privacy_repo.exports_of(ctx.db, user["_id"])]
    filed = [{"kind": r["kind"], "status": r["status"], "message": r["message"],
              "created": when(r["created_at"]), "due": when(r["due_at"]),
              "overdue": requests.is_overdue(r, now)}
             for r in await requests.list_mine(ctx, user_id=user["_id"])]
    return request.app.state.templates.TemplateResponse(request, "privacy/settings.html", {
        "user": user, "analytics_opt_in": current["analytics_opt_in"], "history": history,
        "analytics_blocked": is_minor_user(user, ctx.clock.now().date()),
        "exports": exports, "requests": filed, "kinds": requests.KINDS,
        "has_password": bool(user.get("password_hash")),
        "is_trial": user["status"] == users.TRIAL and not user.get("email"),
        "export_hours": ctx.settings.privacy.export_hours,
        "reauth_minutes": ctx.settings.privacy.reauth_minutes,
        "retention": policies.retention_table(),
    }, headers={"Cache-Control": "no-store"})
