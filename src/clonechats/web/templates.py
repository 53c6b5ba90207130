"""The Jinja2 environment for every page (autoescaping on; nothing is marked safe by default),
and `renderer`, which makes a page module's `render(request, template, **context)`."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from clonechats import __version__
from clonechats.accounts import appearance
from clonechats.chat import markdown
from clonechats.personas import avatars
from clonechats.providers.translation.languages import english_name
from clonechats.settings import Settings
from clonechats.web import cookies
from clonechats.web.timestamps import moment

TEMPLATE_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
NO_STORE = {"Cache-Control": "no-store"}


class Render(Protocol):
    def __call__(self, request: Request, template: str, status_code: int = 200,
                 headers: Mapping[str, str] | None = None, **context: Any) -> HTMLResponse: ...


def renderer(folder: str, *, headers: Mapping[str, str] | None = None,
             context: Mapping[str, Any] | None = None) -> Render:
    """`render(request, template, **context)` for the pages of one module: the template
    `<folder>/<template>` rendered with the app's templates (`app.state.templates`), with
    `context` (what every page of the module shows) under the page's own values and `headers`
    on every answer. A call may also give a `status_code` and more `headers`."""
    shared, fixed = dict(context or {}), dict(headers or {})

    def render(request: Request, template: str, status_code: int = 200,
               headers: Mapping[str, str] | None = None, **page: Any) -> HTMLResponse:
        answer_headers = {**fixed, **(headers or {})}
        response: HTMLResponse = request.app.state.templates.TemplateResponse(
            request, f"{folder}/{template}", {**shared, **page}, status_code=status_code,
            headers=answer_headers or None)
        return response

    return render


def signed_in_check(settings: Settings) -> Callable[[Request], bool]:
    """`signed_in(request)` for the menu. Pages that resolved the caller (`request.state.auth`,
    set by `accounts.dependencies.resolve_auth`) get the exact answer; elsewhere a session
    cookie stands for it, and the account pages check it properly when followed."""
    session_cookie = cookies.cookie_name(cookies.SESSION, settings)

    def signed_in(request: Request) -> bool:
        auth = getattr(request.state, "auth", request)
        if auth is not request:
            return auth is not None
        return session_cookie in request.cookies

    return signed_in


def is_admin(request: Request) -> bool:
    """For the menu's Admin link: the resolved caller has the admin role (the admin routes
    check it again on the server)."""
    auth = getattr(request.state, "auth", None)
    return auth is not None and auth.user.get("role") == "admin"


def markdown_filter(text: str | None) -> Markup:
    """`{{ text | markdown }}`: Markdown rendered with raw HTML off, then sanitised."""
    return Markup(markdown.render(text or ""))  # noqa: S704 - sanitised by chat.markdown


def build_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATE_DIR)
    templates.env.filters["markdown"] = markdown_filter
    templates.env.globals.update(
        operator_name=settings.operator_name,
        contact_email=settings.contact_email,
        security_email=settings.security_email,
        version=__version__,
        google_enabled=settings.google.enabled,
        nav_links=[("/", "Home"), ("/personas", "Personas"), ("/explore", "Explore"),
                   ("/pricing", "Pricing")],
        signed_in=signed_in_check(settings),
        language_name=english_name,
        is_admin=is_admin,
        avatar_initials=avatars.initials,
        avatar_colour=avatars.colour_index,
        appearance=appearance.for_request,
    )
    templates.env.filters["moment"] = moment
    return templates
