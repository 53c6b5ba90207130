"""Account pages: sign-up, sign-in, recovery and settings.

Thin by design: every form on these pages posts JSON to the accounts API (see
`web/static/js/forms.js`); the pages only decide who may see them and what to show.
Links that carry a one-time token are looked at, never used, when the page is opened:
email scanners open links too.
"""

from datetime import datetime
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clonechats.accounts import (
    age,
    api_keys,
    audit,
    passwords,
    recovery,
    repo,
    sessions,
    tokens,
    two_factor,
)
from clonechats.accounts.dependencies import Auth, resolve_auth
from clonechats.accounts.session_cookies import end_session
from clonechats.web import cookies
from clonechats.web.client import client_info
from clonechats.web.context import context_of
from clonechats.web.templates import renderer

router = APIRouter(include_in_schema=False)

AFTER_SIGN_IN = "/account"
NEXT_MAX_LENGTH = 2000

NOTICES = {
    "password_reset": "Your password has been changed. Sign in with the new one.",
    "email_verified": "Thank you, your email address is confirmed.",
    "password_changed": "Your password has been changed. Other devices have been signed out.",
    "profile_saved": "Your display name has been saved.",
    "signed_out_everywhere": "Every other device has been signed out.",
}


def safe_next(value: str | None) -> str | None:
    """`value` if it is a path on this site, else None (no open redirects)."""
    if not value or len(value) > NEXT_MAX_LENGTH or not value.startswith("/"):
        return None
    if value.startswith("//") or "\\" in value or any(ord(c) < 32 or ord(c) == 127
                                                      for c in value):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    return value


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("notice", ""))


TOKEN_PAGE_HEADERS = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


render = renderer("accounts")


def has_stale_session_cookie(request: Request, auth: Auth | None) -> bool:
    name = cookies.cookie_name(cookies.SESSION, request.app.state.settings)
    return auth is None and name in request.cookies


def forget_stale_session(request: Request, auth: Auth | None, response: Response) -> Response:
    """A session cookie that no longer signs anyone in is removed, so the menu tells the truth."""
    if has_stale_session_cookie(request, auth):
        cookies.clear_cookie(response, cookies.SESSION, request.app.state.settings)
    return response


def to_login(request: Request, auth: Auth | None) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return forget_stale_session(request, auth, response)


def signed_in_account(auth: Auth | None) -> bool:
    """A real account (not a trial) is signed in: sign-in and sign-up pages send it on."""
    return auth is not None and auth.user["status"] != repo.TRIAL


BROWSERS = [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"),
            ("Chromium/", "Chromium"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
SYSTEMS = [("Android", "Android"), ("iPhone", "iPhone"), ("iPad", "iPad"), ("CrOS", "ChromeOS"),
           ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux")]


def describe_device(user_agent: str) -> str:
    """A short, human name for a User-Agent string ("Firefox on Windows")."""
    if not user_agent:
        return "Unknown device"
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    return user_agent.split(" ")[0][:40]


def when(moment: datetime | None) -> dict[str, str] | None:
    if moment is None:
        return None
    return {"iso": moment.isoformat(), "text": f"{moment.day} {moment:%b %Y, %H:%M} UTC"}


@router.get("/signup", response_class=HTMLResponse)
async def signup_page(request: Request, next: str | None = None) -> Response:
    auth = await resolve_auth(request)
    target = safe_next(next)
    if signed_in_account(auth):
        return RedirectResponse(target or AFTER_SIGN_IN, status_code=303)
    today = context_of(request).clock.now().date()
    response = render(request, "signup.html", today=today.isoformat(), next=target or AFTER_SIGN_IN,
                      min_password=passwords.MIN_LENGTH, minimum_age=age.MINIMUM_AGE,
                      adult_age=age.ADULT_AGE,
                      from_trial=auth is not None and auth.user["status"] == repo.TRIAL)
    return forget_stale_session(request, auth, response)


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    auth = await resolve_auth(request)
    target = safe_next(next)
    if signed_in_account(auth):
        return RedirectResponse(target or AFTER_SIGN_IN, status_code=303)
    response = render(request, "login.html", next=target or AFTER_SIGN_IN,
                      notice=notice(request), trial=auth is not None)
    return forget_stale_session(request, auth, response)


@router.get("/logout", response_class=HTMLResponse)
async def logout_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return forget_stale_session(request, auth, RedirectResponse("/", status_code=303))
    return render(request, "logout.html")


@router.post("/logout")
async def logout_form(request: Request) -> Response:
    """Sign-out for browsers without JavaScript (the menu's form; CSRF-checked like any POST)."""
    response = RedirectResponse("/", status_code=303)
    user_id = await end_session(request, response)
    if user_id:
        ctx = context_of(request)
        await audit.record(ctx.db, "logout", now=ctx.clock.now(), user_id=user_id,
                           client=client_info(request))
    return response


@router.get("/forgot-password", response_class=HTMLResponse)
async def forgot_password_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    email = auth.user.get("email") if auth else None
    return render(request, "forgot_password.html", email=email)


@router.get("/reset-password", response_class=HTMLResponse)
async def reset_password_page(request: Request, token: str | None = None) -> Response:
    await resolve_auth(request)
    usable = await recovery.link_usable(context_of(request), token, tokens.PASSWORD_RESET)
    return render(request, "reset_password.html", headers=TOKEN_PAGE_HEADERS,
                  token=token if usable else None,
                  min_password=passwords.MIN_LENGTH)


@router.get("/verify-email", response_class=HTMLResponse)
async def verify_email_page(request: Request, token: str | None = None) -> Response:
    auth = await resolve_auth(request)
    usable = await recovery.link_usable(context_of(request), token, tokens.VERIFY_EMAIL)
    after = "/account" if auth else "/login"
    return render(request, "verify_email.html", headers=TOKEN_PAGE_HEADERS,
                  token=token if usable else None,
                  after=f"{after}?notice=email_verified")


@router.get("/account", response_class=HTMLResponse)
async def account_page(request: Request) -> Response:
    auth = await resolve_auth(request)
    if auth is None:
        return to_login(request, auth)
    db = context_of(request).db
    user = auth.user
    current_id = auth.session["public_id"] if auth.session else None
    session_rows = [
        {"id": s["public_id"], "device": describe_device(s["user_agent"]),
         "created": when(s["created_at"]), "last_seen": when(s["last_seen_at"]),
         "current": s["public_id"] == current_id}
        for s in await sessions.list_for_user(db, user["_id"])
    ]
    session_rows.sort(key=lambda row: not row["current"])
    key_rows = [
        {"id": k["_id"], "name": k["name"], "hint": k["hint"], "created": when(k["created_at"]),
         "last_used": when(k["last_used_at"])}
        for k in await api_keys.list_for_user(db, user["_id"])
    ]
    return render(
        request, "account.html", user=user, notice=notice(request),
        is_trial=user["status"] == repo.TRIAL,
        guardian_pending=user["status"] == repo.GUARDIAN_PENDING,
        has_password=bool(user.get("password_hash")), sessions=session_rows,
        other_sessions=sum(1 for row in session_rows if not row["current"]),
        api_keys=key_rows, max_keys=api_keys.MAX_KEYS_PER_USER,
        min_password=passwords.MIN_LENGTH, member_since=when(user["created_at"]),
        two_factor_enabled=two_factor.is_enabled(user),
    )
